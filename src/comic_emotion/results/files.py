"""Finding and opening what lmms-eval wrote, and the stage record beside it: file-level reading and
writing of runs, with one :class:`RunError` for everything that cannot be used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from comic_emotion.storage import write_json_atomic

# A comic_emotion_staged run's stage record in its results JSON (written by comic_emotion.lmms_plugin).
CHECKPOINT_KEY = "comic_emotion_checkpoint"


class RunError(ValueError):
    """A run that cannot be used: lmms-eval wrote no results, or a results file or sample log is broken.

    The message is one line naming the file (and task, field or line) and what to do.
    """


def results_files(output_path: str | os.PathLike[str]) -> list[Path]:
    """All ``*_results.json`` files under ``output_path``, oldest first."""
    return sorted(Path(output_path).rglob("*_results.json"), key=lambda p: (p.stat().st_mtime_ns, p.name))


def load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunError(f"{path}: results file not found") from None
    except IsADirectoryError:
        raise RunError(f"{path}: is a directory; pass the <date>_results.json that lmms-eval wrote") from None
    except UnicodeDecodeError as exc:
        raise RunError(f"{path}: not UTF-8 text ({exc.reason})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                       "truncated or not a results file") from None


def read_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """An lmms-eval results JSON as a plain dict (group rows included), for the summary tables.

    Unreadable files raise :class:`RunError` naming the file; :func:`load_run` is the validated,
    typed reader the leaderboard, the gate and the reports use.
    """
    raw = load_json(Path(path))
    if not isinstance(raw, dict):
        raise RunError(f"{path}: top level is {type(raw).__name__}, expected the results object of lmms-eval")
    return raw


def check_results(results: Mapping[str, Any], expected_tasks: Iterable[str]) -> None:
    """Raise :class:`RunError` if an expected subtask has no metrics in ``results``."""
    present = results.get("results") or {}
    missing = [task for task in expected_tasks if not present.get(task)]
    if missing:
        raise RunError(f"no results for {', '.join(missing)}: lmms-eval logged a task failure (see its log)")


def metric_values(entry: Mapping[str, Any]) -> dict[str, float]:
    """The numeric metrics of one task or group entry, keyed by metric name (filter suffix ``,none`` dropped).

    Unlike :func:`task_metrics` this neither validates nor refuses: it serves tables of any results file.
    """
    metrics = {}
    for key, value in entry.items():
        if "," not in key or "_stderr" in key or isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            metrics[key.split(",")[0]] = float(value)
    return metrics


def checkpoint_sidecar(results_path: str | os.PathLike[str]) -> Path:
    """Where ``comic-emotion stages`` keeps a stage's record: ``<date>_results.checkpoint.json`` beside the results."""
    path = Path(results_path)
    return path.with_name(path.name.replace("_results.json", "_results.checkpoint.json"))


def write_checkpoint_record(results_path: str | os.PathLike[str], record: Mapping[str, Any]) -> Path:
    """Write a stage's record beside its results file (atomically); returns the sidecar's path."""
    sidecar = checkpoint_sidecar(results_path)
    write_json_atomic(sidecar, dict(record))
    return sidecar
