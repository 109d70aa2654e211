"""``comic-emotion demo``: the whole main job on the synthetic demo set, with the CPU baseline."""

from __future__ import annotations

import argparse

DEFAULT_TASKS = ("comic_emotion_comic", "comic_emotion_manga", "comic_emotion_art")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="generate the demo set and score the CPU baseline on comic_emotion through lmms-eval",
        description="Generate the synthetic demo set (once), run the real lmms-eval CLI on the comic_emotion "
        "group with a CPU model, print a summary table and write results under --output.",
        epilog="example: comic-emotion demo --output results/demo",
    )
    parser.add_argument("--output", default="results/demo", help="lmms-eval --output_path (default: %(default)s)")
    parser.add_argument("--model", default="comic_emotion_majority", help="lmms-eval model name (default: %(default)s)")
    parser.add_argument("--model-args", default="", help="lmms-eval --model_args")
    parser.add_argument("--limit", type=int, default=None, help="samples per subtask (testing only)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from comic_emotion.data import ensure_demo
    from comic_emotion.runner import check_results, read_results, run_lmms_eval, summary_table
    from comic_emotion.storage import check_writable_dir

    check_writable_dir(args.output)
    root = ensure_demo()
    print(f"demo set: {root}")
    arguments = ["--model", args.model, "--tasks", "comic_emotion", "--log_samples", "--batch_size", "1"]
    if args.model_args:
        arguments += ["--model_args", args.model_args]
    if args.limit is not None:
        arguments += ["--limit", str(args.limit)]
    path = run_lmms_eval(arguments, output_path=args.output)
    results = read_results(path)
    check_results(results, DEFAULT_TASKS)
    print()
    print(summary_table(results))
    print(f"\nresults: {path}")
    return 0
