"""``comic-emotion stages``: score a base, each LoRA stage and a merged model; write the stage-delta table."""

from __future__ import annotations

import argparse
import json

from comic_emotion.cli import CliError
from comic_emotion.runner import check_limit, discard_new_files_on_interrupt

EPILOG = """examples:
  comic-emotion stages --model qwen2_5_vl --base Qwen/Qwen2.5-VL-7B-Instruct \\
      --adapters lora/art lora/emovqa lora/manga lora/comics --merged merged/all --tasks comic_emotion \\
      --model_args device_map=auto --output results/stages
  comic-emotion stages --model qwen2_vl --base tiny --adapters A B --save-merged tiny-merged \\
      --model_args device=cpu,device_map=cpu --limit 4 --gen_kwargs max_new_tokens=16
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``stages`` subcommand (see :mod:`comic_emotion.cli.main`)."""
    parser = subparsers.add_parser(
        "stages", help="score base, base+A, base+A+B, ... and a merged model; write a stage-delta table",
        description="Evaluate every stage of a staged LoRA fine-tune through the real lmms-eval CLI (model "
        "comic_emotion_staged over the named lmms-eval class) and write stage_deltas.json and stage_deltas.md: "
        "per domain and metric the score with its 95% CI, the delta against the previous stage and the base, "
        "and forgetting. Every adapter is checked before anything runs.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="lmms-eval model class of the base (qwen2_vl, qwen2_5_vl, "
                        "llava_hf, llama_vision, ...)")
    parser.add_argument("--base", required=True, help="base checkpoint (hub id or directory)")
    parser.add_argument("--adapters", nargs="*", default=[], help="PEFT LoRA adapter directories, in stage order")
    parser.add_argument("--merged", default=None, help="a merged model directory to score as the last stage")
    parser.add_argument("--save-merged", default=None, metavar="DIR",
                        help="merge the adapters into DIR first (with its signature record) and score it as --merged")
    parser.add_argument("--tasks", default="comic_emotion", help="lmms-eval tasks (default: %(default)s)")
    parser.add_argument("--output", "--output_path", "--out", dest="output", default="results/stages",
                        help="output directory (default: %(default)s)")
    parser.add_argument("--model_args", "--model-args", dest="model_args", default="",
                        help="extra model args of the class (device_map=auto, dtype=bfloat16, ...)")
    parser.add_argument("--limit", type=int, default=None, help="samples per subtask (testing only)")
    parser.add_argument("--gen_kwargs", "--gen-kwargs", dest="gen_kwargs", default=None,
                        help="lmms-eval --gen_kwargs, e.g. max_new_tokens=64")
    parser.add_argument("--batch_size", "--batch-size", dest="batch_size", default="1",
                        help="lmms-eval --batch_size (default: %(default)s)")
    parser.add_argument("--no-check-base", action="store_true",
                        help="accept adapters whose recorded base_model_name_or_path names another base")
    parser.add_argument("--json", action="store_true", help="print the table as JSON instead of markdown")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``comic-emotion stages``; returns the exit code."""
    # lazy: NumPy (comic_emotion.reports) and torch (comic_emotion.sweeps loads the staged model class)
    from comic_emotion.reports.stages import markdown_table
    from comic_emotion.sweeps import TABLE_MD, merge_checkpoint, plan_stages, run_sweep

    if args.merged and args.save_merged:
        raise ValueError("--merged and --save-merged exclude each other")
    if args.limit is not None:
        try:
            check_limit(args.limit, args.tasks.split(","))
        except ValueError as exc:
            raise CliError(str(exc), exit_code=2) from None
    check_base = not args.no_check_base
    plan_stages(args.base, args.adapters, check_base=check_base)  # fail before merging or running anything
    merged = args.merged
    if args.save_merged:
        merged = str(merge_checkpoint(args.base, args.adapters, args.save_merged, check_base=check_base))
    stages = plan_stages(args.base, args.adapters, merged=merged, check_base=check_base)
    lmms_args = ["--batch_size", str(args.batch_size)]
    if args.limit is not None:
        lmms_args += ["--limit", str(args.limit)]
    if args.gen_kwargs:
        lmms_args += ["--gen_kwargs", args.gen_kwargs]
    model_args = args.model_args + ("" if check_base else ("," if args.model_args else "") + "check_base=false")
    with discard_new_files_on_interrupt(args.output):  # Ctrl-C: no stage's results are kept
        table = run_sweep(args.model, stages, args.tasks.split(","), args.output, model_args=model_args,
                          lmms_args=lmms_args)
    print(json.dumps(table, indent=2) if args.json else markdown_table(table["rows"], demo=table["demo_data"],
                                                                         partial=table["partial"]))
    print(f"table: {args.output}/{TABLE_MD}")
    return 0
