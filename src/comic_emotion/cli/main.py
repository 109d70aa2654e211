"""Entry point of ``comic-emotion``.

Each subcommand lives in its own module ``comic_emotion/cli/cmd_<name>.py`` exposing
``add_parser(subparsers) -> None``, which registers the parser and sets ``func`` (a callable
taking the parsed namespace and returning an exit code). Modules must not import heavy libraries at
module level: every invocation builds every parser.

Errors: expected failures (bad input, missing files, an lmms-eval run without results) raise
:class:`CliError`, ``ValueError``, ``OSError`` or :class:`~comic_emotion.results.RunError` and are printed as one line ``comic-emotion: error: ...`` with exit code 1 (2 is
argparse's usage error, and is also used by ``regress`` for bad input). ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Sequence

import comic_emotion
import comic_emotion.cli as cli_package
from comic_emotion.cli import CliError
from comic_emotion.results import RunError

__all__ = ["CliError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every ``cmd_*`` subcommand."""
    parser = argparse.ArgumentParser(
        prog="comic-emotion",
        description="Emotion understanding in comics, manga and fine art: data, scoring, robustness, "
        "baselines, leaderboard. The evaluation itself runs through lmms-eval.",
    )
    parser.add_argument("--version", action="version", version=f"comic-emotion-bench {comic_emotion.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
        if module_info.name.startswith("cmd_"):
            importlib.import_module(f"comic_emotion.cli.{module_info.name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit code."""
    parser = build_parser()
    # `run` passes its arguments through to lmms-eval; every other command rejects unknown ones.
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "pass_through", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("comic-emotion: interrupted; no partial output was kept", file=sys.stderr)
        return 130
    except CliError as exc:
        if args.debug:
            raise
        print(f"comic-emotion: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except (ValueError, OSError, RunError) as exc:
        if args.debug:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"comic-emotion: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
