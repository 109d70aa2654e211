"""``comic-emotion demo``: the whole main job on the synthetic demo set, with CPU baselines.

Generates the demo set (once), runs the real lmms-eval CLI on the ``comic_emotion_demo`` group for each
model, checks that every subtask has results, prints a summary table per model, adds the runs to a
demo leaderboard and renders its static page (with a per-sample viewer per run).
"""

from __future__ import annotations

import argparse

from comic_emotion.cli import CliError
from comic_emotion.data import ensure_demo
from comic_emotion.leaderboard import add_results, render
from comic_emotion.results import check_results, read_results
from comic_emotion.runner import (
    check_limit,
    discard_new_files_on_interrupt,
    expand_task_names,
    run_lmms_eval,
    summary_table,
)
from comic_emotion.storage import check_writable_dir
from comic_emotion.tasks.suites import DEMO_GROUP

DEFAULT_MODELS = ("comic_emotion_majority", "comic_emotion_late_fusion")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``demo`` subcommand (see :mod:`comic_emotion.cli.main`)."""
    parser = subparsers.add_parser(
        "demo",
        help="generate the demo set, score CPU baselines on comic_emotion_demo through lmms-eval, build a leaderboard page",
        description="Generate the synthetic demo set (once), run the real lmms-eval CLI on the comic_emotion_demo "
        "group (the demo on purpose, whatever real corpora are prepared) for each model, print summary tables, and write results, a demo leaderboard and its page under "
        "--output.",
        epilog="example: comic-emotion demo --output results/demo --model comic_emotion_text",
    )
    parser.add_argument("--output", "--output_path", "--out", dest="output", default="results/demo",
                        help="lmms-eval --output_path (default: %(default)s)")
    parser.add_argument("--model", action="append", help="lmms-eval model name; repeatable "
                        f"(default: {', '.join(DEFAULT_MODELS)})")
    parser.add_argument("--model_args", "--model-args", dest="model_args", default="",
                        help="lmms-eval --model_args (applied to every model)")
    parser.add_argument("--limit", type=int, default=None, help="samples per subtask (testing only)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``comic-emotion demo``; returns the exit code."""
    if args.limit is not None:  # before any output: 0, negative, more than a split
        try:
            check_limit(args.limit, [DEMO_GROUP])
        except ValueError as exc:
            raise CliError(str(exc), exit_code=2) from None
    with discard_new_files_on_interrupt(args.output):  # Ctrl-C: no model's results are kept
        output = check_writable_dir(args.output)
        print(f"demo set: {ensure_demo()}")
        runs = []
        for model in args.model or DEFAULT_MODELS:
            arguments = ["--model", model, "--tasks", DEMO_GROUP, "--log_samples", "--batch_size", "1"]
            if args.model_args:
                arguments += ["--model_args", args.model_args]
            if args.limit is not None:
                arguments += ["--limit", str(args.limit)]
            path = run_lmms_eval(arguments, output_path=output, table=False)  # a compact table follows
            results = read_results(path)
            check_results(results, expand_task_names([DEMO_GROUP]))
            runs.append(path)
            print(f"\n{model}\n{summary_table(results)}\nresults: {path}\n")
        board = output / "leaderboard-demo.json"
        add_results(board, runs, allow_demo=True, replace=True, allow_partial=args.limit is not None)
        page = render(board, output / "site", runs=runs)
        print(f"leaderboard (demo board): {board}\npage: {page} (open it in a browser; no server needed)")
        return 0
