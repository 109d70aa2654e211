"""``comic-emotion perturb``: write a perturbed split (canonical format + manifest) for publication."""

from __future__ import annotations

import argparse

from comic_emotion.cli import CliError
from comic_emotion.perturbations import PERTURBATIONS, get_perturbation


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``perturb`` subcommand (see :mod:`comic_emotion.cli.main`)."""
    parser = subparsers.add_parser(
        "perturb",
        help="write a perturbed copy of a split (occlusion, OCR noise, translation shift)",
        description="Apply one perturbation at one severity to every sample of a split and write "
        "OUT/<split>.parquet plus OUT/manifest.json (perturbation description, seed, source hash). "
        "The output is byte-identical across runs with the same arguments.",
        epilog="examples:\n"
        "  comic-emotion perturb --perturbation ocr_noise --severity 3 --seed 0 --input comic --output robust/ocr3\n"
        "  comic-emotion perturb --perturbation translation_ja --severity 5 --input data/comic/test.parquet "
        "--output robust/ja\n"
        "  comic-emotion perturb --list",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--perturbation", help="perturbation name (see --list)")
    parser.add_argument("--severity", type=int, help="1 (mild) to 5 (strong)")
    parser.add_argument("--seed", type=int, default=0, help="global seed (default: %(default)s)")
    parser.add_argument("--input", help="prepared split parquet, prepared dataset directory, or dataset key")
    parser.add_argument("--split", default="test", help="split name (default: %(default)s)")
    parser.add_argument("--output", help="output directory")
    parser.add_argument("--mt-model", default=None,
                        help="local MarianMT/NLLB checkpoint directory for translation shifts without parallel text")
    parser.add_argument("--list", action="store_true", help="list the perturbations and exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``comic-emotion perturb``; returns the exit code."""
    if args.list:
        for name, cls in sorted(PERTURBATIONS.items()):
            print(f"{name:20s} {cls.category:15s} {(cls.__doc__ or '').strip().splitlines()[0]}")
        return 0
    missing = [flag for flag, value in (("--perturbation", args.perturbation), ("--severity", args.severity),
                                        ("--input", args.input), ("--output", args.output)) if value is None]
    if missing:
        raise CliError(f"perturb needs {', '.join(missing)} (or --list)", exit_code=2)
    options = {"mt_model": args.mt_model} if args.mt_model else {}
    perturbation = get_perturbation(args.perturbation, args.severity, seed=args.seed, **options)
    # lazy: pyarrow and Pillow (export)
    from comic_emotion.perturbations.export import export_perturbed

    manifest = export_perturbed(perturbation, args.input, args.output, split=args.split)
    counts = manifest["splits"][args.split]
    print(f"{args.output}: {counts['count']} samples, {counts['changed']} changed "
          f"({perturbation.name}, severity {perturbation.severity}, seed {perturbation.seed})")
    return 0
