"""``comic-emotion tasks-dir``: print the task directory, for ``lmms-eval --include_path``."""

from __future__ import annotations

import argparse

from comic_emotion.tasks import tasks_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``tasks-dir`` subcommand (see :mod:`comic_emotion.cli.main`)."""
    parser = subparsers.add_parser(
        "tasks-dir",
        help="print the directory of the comic_emotion task YAML files",
        description="Print the task directory, for `lmms-eval --include_path $(comic-emotion tasks-dir)` "
        "where the automatic task registration is unavailable.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``comic-emotion tasks-dir``; returns the exit code."""
    print(tasks_dir())
    return 0
