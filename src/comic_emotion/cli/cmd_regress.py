"""``comic-emotion regress``: the CI regression gate (exit 0 no regression, 1 regression, 2 bad input or
cannot judge)."""

from __future__ import annotations

import argparse
import sys

from comic_emotion.cli import CliError
from comic_emotion.leaderboard.regress import (
    GateInputError,
    cannot_judge_message,
    compare,
    gate_exit_code,
    load_thresholds,
    markdown_summary,
    run_notes,
    to_json,
)
from comic_emotion.storage import write_text_atomic


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``regress`` subcommand (see :mod:`comic_emotion.cli.main`)."""
    parser = subparsers.add_parser(
        "regress",
        help="compare a candidate run with a baseline run: paired tests, thresholds, exit code",
        description="Per task and metric: change, paired bootstrap 95% CI and p-value (exact McNemar for "
        "accuracy-like 0/1 outcomes) over the samples of both sample logs, verdict against thresholds. "
        "Exit codes: 0 no regression, 1 regression, 2 bad input or cannot judge (a metric dropped but no "
        "paired test was possible, e.g. a run without sample logs).",
        epilog="examples:\n"
        "  comic-emotion regress --baseline base/2025-01-01T00-00-00_results.json \\\n"
        "      --candidate cand/2025-01-02T00-00-00_results.json --thresholds thresholds.yaml \\\n"
        "      --markdown gate.md --json gate.json\n"
        "thresholds.yaml:  alpha: 0.05 / max_drop: 0.0 / metrics: {macro_f1: {max_drop: 0.01}} / "
        "tasks: {TASK: {METRIC: {max_drop, alpha}}}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--baseline", required=True, help="baseline <date>_results.json (sample logs beside it)")
    parser.add_argument("--candidate", required=True, help="candidate <date>_results.json (sample logs beside it)")
    parser.add_argument("--thresholds", default=None, help="thresholds YAML (default: alpha 0.05, max_drop 0)")
    parser.add_argument("--markdown", default=None, help="also write the markdown summary here (PR comment)")
    parser.add_argument("--json", dest="json_out", nargs="?", const="-", default=None, metavar="PATH",
                        help="print the JSON report instead of markdown; with PATH, also write it there and "
                        "print markdown")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown",
                        help="what to print on stdout (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``comic-emotion regress``; returns the exit code."""
    try:
        rows = compare(args.baseline, args.candidate, thresholds=load_thresholds(args.thresholds))
    except (GateInputError, ValueError) as exc:
        raise CliError(str(exc).splitlines()[0], exit_code=2) from None
    names = {"baseline": args.baseline, "candidate": args.candidate}
    markdown, report = markdown_summary(rows, **names, notes=run_notes(**names)), to_json(rows, **names)
    if args.markdown:
        write_text_atomic(args.markdown, markdown)
    if args.json_out and args.json_out != "-":
        write_text_atomic(args.json_out, report + "\n")
    print(report if args.format == "json" or args.json_out == "-" else markdown)
    message = cannot_judge_message(rows)
    if message:
        print(f"comic-emotion: {message}", file=sys.stderr)
    return gate_exit_code(rows)
