"""``comic-emotion leaderboard``: add lmms-eval runs to a leaderboard JSON, render the static page."""

from __future__ import annotations

import argparse

from comic_emotion.cli import CliError
from comic_emotion.leaderboard import add_results, render


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``leaderboard`` subcommand (see :mod:`comic_emotion.cli.main`)."""
    parser = subparsers.add_parser(
        "leaderboard",
        help="add lmms-eval results to a leaderboard JSON and render the static page",
        description="Maintain a leaderboard JSON (validated against the package's JSON Schema) from lmms-eval "
        "results files, and render it as a self-contained HTML page with per-sample viewers.",
        epilog="examples:\n"
        "  comic-emotion leaderboard add results/qwen/2025-01-01T10-00-00_results.json --board leaderboard.json\n"
        "  comic-emotion leaderboard add results/demo/*_results.json --board demo-board.json --allow-demo\n"
        "  comic-emotion leaderboard render --board leaderboard.json --out site/ --runs results/qwen/*_results.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add results files (with their sample logs, when beside them)")
    add.add_argument("results", nargs="+", help="<date>_results.json files written by lmms-eval")
    add.add_argument("--board", required=True, help="leaderboard JSON (created if missing)")
    add.add_argument("--allow-demo", action="store_true",
                     help="accept synthetic-demo results (they go on a demo-only board)")
    add.add_argument("--replace", action="store_true", help="replace an entry with the same key")
    add.add_argument("--allow-partial", action="store_true",
                     help="accept runs made with lmms-eval --limit (their entries are marked partial)")
    add.add_argument("--samples", nargs="+", default=None,
                     help="sample logs to use (default: the <date>_samples_<task>.jsonl beside the results file)")
    add.add_argument("--no-samples", action="store_true", help="ignore sample logs (no CIs)")
    add.add_argument("--stage", default=None, metavar="INDEX:NAME[:BASE]",
                     help="stage of a staged fine-tune, e.g. 2:lora-manga:Qwen/Qwen2-VL-7B (stage-delta view)")
    add.set_defaults(func=run_add)
    render = actions.add_parser("render", help="write the static page (index.html) and sample viewers")
    render.add_argument("--board", required=True, help="leaderboard JSON")
    render.add_argument("--out", "--output", dest="out", required=True, help="output directory")
    render.add_argument("--runs", nargs="*", default=[], help="results files with sample logs: one viewer each")
    render.set_defaults(func=run_render)


def _stage(text: str | None) -> dict | None:
    if text is None:
        return None
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1]:
        raise CliError(f"--stage {text!r}: expected INDEX:NAME[:BASE], e.g. 1:lora-comic", exit_code=2)
    return {"index": int(parts[0]), "name": parts[1], "base": parts[2] if len(parts) == 3 else None}


def run_add(args: argparse.Namespace) -> int:
    """Run ``comic-emotion leaderboard add``; returns the exit code."""
    logs = False if args.no_samples else args.samples
    outcome = add_results(args.board, args.results, allow_demo=args.allow_demo, replace=args.replace,
                          allow_partial=args.allow_partial, sample_logs=logs, stage=_stage(args.stage))
    for path, (key, what) in zip(args.results, outcome):
        print(f"{what} {key}: {path}")
    print(f"board: {args.board}")
    return 0


def run_render(args: argparse.Namespace) -> int:
    """Run ``comic-emotion leaderboard render``; returns the exit code."""
    index = render(args.board, args.out, runs=args.runs)
    print(f"page: {index}")
    return 0
