"""``comic-emotion data``: prepare the real corpora, list what each task would read, build the demo set."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from comic_emotion.cli import CliError
from comic_emotion.converters import MODULES, get_converter
from comic_emotion.converters.base import prepare
from comic_emotion.data import DATASETS, DEMO_SEED, data_root, demo_dir, ensure_demo
from comic_emotion.storage import DataError, data_hash, read_manifest

_EPILOG = """examples:
  comic-emotion data prepare emorecom --source ~/Downloads/emorecom.zip --data-root ~/comic-data
  comic-emotion data prepare emocomics35 --source emocomics35_pg_images_original.csv
  export COMIC_EMOTION_DATA=~/comic-data; comic-emotion data list
  comic-emotion data build-demo --seed 7
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``data`` subcommand (see :mod:`comic_emotion.cli.main`)."""
    parser = subparsers.add_parser(
        "data", help="prepare real corpora from your local copies, list prepared and demo splits, build the demo set",
        description="Convert official releases you hold into prepared splits (annotations + your own image bytes, "
        "kept on your machine) with a provenance manifest; list what each task reads.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION")
    prepare = actions.add_parser("prepare", help="convert one release into <data-root>/<NAME>",
                                 epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    prepare.add_argument("name", choices=list(MODULES), metavar="NAME", help=f"one of: {', '.join(MODULES)}")
    prepare.add_argument("--source", required=True,
                         help="the release as downloaded: a directory, an archive (.zip/.tar.*) or the file itself")
    prepare.add_argument("--data-root", help="output root (default: $COMIC_EMOTION_DATA)")
    prepare.add_argument("--json", action="store_true", help="print the manifest as JSON")
    prepare.set_defaults(func=run_prepare)
    listing = actions.add_parser("list", help="each dataset's splits: real or demo, rows, licence, data hash")
    listing.add_argument("--data-root", help="prepared-data root (default: $COMIC_EMOTION_DATA)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_list)
    demo = actions.add_parser("build-demo", help="generate the synthetic demo set (once per seed)")
    demo.add_argument("--seed", type=int, default=None, help="demo seed (default: the suite's)")
    demo.set_defaults(func=run_build_demo)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _root(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else data_root()


def run_prepare(args: argparse.Namespace) -> int:
    """Run ``comic-emotion data prepare``; returns the exit code."""
    root = _root(args.data_root)
    if root is None:
        raise CliError("no data root: pass --data-root DIR or set COMIC_EMOTION_DATA")
    manifest = prepare(get_converter(args.name), args.source, root)
    if args.json:
        print(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False))
        return 0
    for split, info in manifest["splits"].items():
        print(f"{args.name}/{split}: {info['rows']} rows")
    print(f"licence: {manifest['licence']}" + (" (non-commercial)" if manifest["non_commercial"] else ""))
    print(f"data hash: {data_hash(manifest)[:16]}  ->  {root / args.name}")
    return 0


def list_rows(root: Path | None) -> list[dict[str, Any]]:
    """One row per dataset split known to the suite: real, demo, or a real corpus not prepared (no fallback)."""

    demo_root = _demo_root()
    rows: list[dict[str, Any]] = []
    for dataset, info in DATASETS.items():
        domain = info.domain
        real = root is not None and (root / dataset / "manifest.json").exists()
        if not real and not info.synthetic:
            rows.append({"dataset": dataset, "split": "-",
                         "source": f"not prepared (comic-emotion data prepare {dataset})", "rows": None,
                         "licence": "-", "non_commercial": False, "data_hash": None})
            continue
        directory = (root / dataset) if real else (demo_root / domain if demo_root else None)
        try:
            manifest = read_manifest(directory) if directory is not None else None
        except DataError:
            manifest = None
        if manifest is None:
            rows.append({"dataset": dataset, "split": "-", "source": "demo (not generated yet)", "rows": None,
                         "licence": "-", "non_commercial": False, "data_hash": None})
            continue
        for split, info in sorted(manifest.get("splits", {}).items()):
            rows.append({"dataset": dataset, "split": split, "source": "real" if real else f"demo ({domain})",
                         "rows": info.get("rows"), "licence": manifest.get("licence", "unknown"),
                         "non_commercial": bool(manifest.get("non_commercial")), "data_hash": data_hash(manifest)})
    return rows


def _demo_root() -> Path | None:
    path = demo_dir()
    return path if (path / "complete").exists() else None


def run_list(args: argparse.Namespace) -> int:
    """Run ``comic-emotion data list``; returns the exit code."""
    rows = list_rows(_root(args.data_root))
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    header = ("dataset", "split", "source", "rows", "licence", "data hash")
    table = [header] + [
        (r["dataset"], r["split"], r["source"], "-" if r["rows"] is None else str(r["rows"]),
         _short(r["licence"] + (" [NC]" if r["non_commercial"] else ""), 48), (r["data_hash"] or "-")[:12])
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for n, line in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    return 0


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def run_build_demo(args: argparse.Namespace) -> int:
    """Run ``comic-emotion data build-demo``; returns the exit code."""
    root = ensure_demo(DEMO_SEED if args.seed is None else args.seed)
    print(f"demo set: {root}", file=sys.stdout)
    return 0
