"""``comic-emotion baselines train NAME``: fit a CPU reference model and save its artefact."""

from __future__ import annotations

import argparse

EPILOG = """examples:
  comic-emotion baselines train text --split train --out artifacts/text
  comic-emotion baselines train late_fusion --split train --dataset comic --dataset manga --out artifacts/fusion
  lmms-eval --model comic_emotion_text --model_args artifact=artifacts/text --tasks comic_emotion
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``baselines`` subcommand (see :mod:`comic_emotion.cli.main`)."""
    parser = subparsers.add_parser("baselines", help="train the CPU reference models (text, image, fusion, multitask)",
                                   description="Train and save the CPU reference models that lmms-eval scores as "
                                   "comic_emotion_<name>.", epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    train = actions.add_parser("train", help="fit NAME on a training split and save the artefact",
                               epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("name", help="text, image, concat, late_fusion or multitask (comic_emotion_ prefix allowed)")
    train.add_argument("--split", default="train", help="training split (default: %(default)s)")
    train.add_argument("--dataset", action="append", default=None,
                       help="dataset key, repeatable (default: comic, manga, art; real if prepared, else demo)")
    train.add_argument("--out", required=True, help="artefact directory (passed as --model_args artifact=...)")
    train.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Run ``comic-emotion baselines train``; returns the exit code."""
    # lazy: scikit-learn and torch (comic_emotion.baselines)
    from comic_emotion.baselines.models import KINDS, train

    kind = args.name.removeprefix("comic_emotion_")
    if kind not in KINDS:
        raise ValueError(f"unknown baseline {args.name!r}; trainable: {', '.join(KINDS)} (majority needs no training)")
    path = train(kind, args.dataset or ["comic", "manga", "art"], args.split, args.out)
    print(f"saved {kind} artefact: {path}  (use: --model comic_emotion_{kind} --model_args artifact={path})")
    return 0
