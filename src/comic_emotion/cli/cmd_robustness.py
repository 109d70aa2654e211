"""``comic-emotion robustness``: severity curves, drops, coverage, flip rates and mCE from results files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from comic_emotion.runner import robustness_summary
from comic_emotion.storage import write_json_atomic, write_text_atomic


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``robustness`` subcommand (see :mod:`comic_emotion.cli.main`)."""
    parser = subparsers.add_parser(
        "robustness",
        help="robustness report (JSON + markdown + PNG) from lmms-eval results of comic_emotion_robust",
        description="Compare each perturbed variant with the clean subtask of the same model and data: score, "
        "relative drop, coverage, flip rate (needs --log_samples sample logs beside the results JSON), worst "
        "case and mCE; translation shifts are reported as cross-language, full masks as ablations; clean "
        "per-domain tasks give the cross-style matrix.",
        epilog="examples:\n"
        "  lmms-eval --model comic_emotion_majority --tasks comic_emotion_robust --log_samples --output_path out\n"
        "  comic-emotion robustness out/*/*_results.json --out report/\n"
        "  comic-emotion robustness a_results.json b_results.json --reference comic_emotion_majority --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results", nargs="+", help="lmms-eval *_results.json files")
    parser.add_argument("--out", "--output", dest="out", default=None, help="directory for robustness.json, robustness.md, robustness.png")
    parser.add_argument("--metric", default="macro_f1", help="headline metric (default: %(default)s)")
    parser.add_argument("--reference", default=None, help="model whose errors normalise the mCE")
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of the summary")
    parser.add_argument("--full", action="store_true", help="print the whole markdown report instead of the "
                        "summary (one row per perturbation and severity, worst drop first)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``comic-emotion robustness``; returns the exit code."""
    # lazy: NumPy and matplotlib (comic_emotion.reports)
    from comic_emotion.reports.robustness import robustness_report
    from comic_emotion.reports.robustness_render import plot, to_markdown

    report = robustness_report(args.results, metric=args.metric, reference=args.reference)
    if not report["groups"] and not report["cross_style"]["rows"]:
        raise ValueError(f"no comic_emotion tasks in {', '.join(args.results)}")
    markdown = to_markdown(report)
    if args.out:
        out = Path(args.out)
        write_json_atomic(out / "robustness.json", report)
        write_text_atomic(out / "robustness.md", markdown + "\n")
        plot(report, out / "robustness.png")
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    elif args.full or not report["groups"]:  # only the cross-style matrix: short already
        print(markdown)
    else:
        where = (f"full report (coverage, flip rate, mCE, cross-style): {Path(args.out) / 'robustness.md'}, "
                 "robustness.json, robustness.png" if args.out else
                 "full report (coverage, flip rate, mCE, cross-style): --full prints it, --out DIR writes "
                 "robustness.md, .json and .png")
        print(robustness_summary(report, detail=where))
    if args.out and (args.json or args.full or not report["groups"]):
        print(f"\nwritten: {Path(args.out) / 'robustness.json'}, robustness.md, robustness.png")
    return 0
