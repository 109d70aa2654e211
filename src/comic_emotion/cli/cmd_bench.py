"""``comic-emotion bench [--quick] [--json]``: run the speed benchmarks of a source checkout."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from comic_emotion.cli import CliError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``bench`` subcommand (see :mod:`comic_emotion.cli.main`)."""
    parser = subparsers.add_parser(
        "bench", help="run every speed benchmark and print one table (ratios against side-by-side references)",
        description="Runs `python -m benchmarks` of the source checkout this package is installed from.",
        epilog="example: comic-emotion bench --quick",
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--json", action="store_true", help="JSON output")
    parser.add_argument("--only", nargs="*", help="benchmark names to run")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``comic-emotion bench``; returns the exit code."""
    checkout = Path(__file__).resolve().parents[3]  # src/comic_emotion/cli/cmd_bench.py
    if not (checkout / "benchmarks" / "__main__.py").exists():
        raise CliError("the benchmarks live in the source checkout; install with `pip install -e .` from a clone")
    command = [sys.executable, "-m", "benchmarks"] + (["--quick"] if args.quick else []) + (["--json"] if args.json else [])
    if args.only:
        command += ["--only", *args.only]
    return subprocess.run(command, cwd=checkout).returncode
