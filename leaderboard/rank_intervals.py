"""Rank intervals: a paired bootstrap over samples of each entry's rank on a headline score.

A board's entries share task versions and data hashes (the board refuses anything else), so they
were scored on the same samples. For the entries whose sample rows were kept when they were added
(``<board>.samples/<key>.json``, written by ``leaderboard add`` from the sample logs), and per table:

- ``overall``: the overall score (:func:`comic_emotion.leaderboard.ranking.overall_score`: mean over
  comic, manga and art of each domain's mean official emotion metric), among the entries scored on
  every emotion task of the board;
- ``<task>``: that task's official metric.

Each task is resampled with one weight matrix shared by every entry (paired, as ``regress`` does):
``resample_weights(n, n_resamples=1000, seed=SEED + i)`` where ``i`` is the task's position in the
board's sorted task names and rows are aligned by sorted sample id. In each resample an entry's rank
is 1 + the number of entries with a strictly better score (an undefined score counts as the worst).
The 95 % rank interval is the (2.5 %, lower) and (97.5 %, higher) quantile of those ranks.

Tie groups: entries sorted by their observed score (ties by key); the first opens group 1, and each
next entry joins the current group while its best rank (interval low) is at most the worst rank
(interval high) of the group's first entry, else it opens the next group. Entries in one group are
statistically tied: the data cannot order them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from comic_emotion.leaderboard.board import BoardError
from comic_emotion.leaderboard.ranking import EMOTION_OFFICIAL_METRICS, OVERALL_DOMAINS

from comic_emotion.storage import write_json_atomic

N_RESAMPLES = 1000
SEED = 0
LEVEL = 0.95


def samples_dir(board_path: str | os.PathLike[str]) -> Path:
    """Where a board keeps each entry's sample rows (``<board file name>.samples/``)."""
    path = Path(board_path)
    return path.with_name(path.name + ".samples")


def write_entry_rows(board_path: str | os.PathLike[str], key: str, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Keep an entry's per-task sample rows beside the board (atomic), for later rank intervals."""

    write_json_atomic(samples_dir(board_path) / f"{key}.json", {"key": key, "tasks": {t: list(r) for t, r in rows.items()}})


def read_entry_rows(board_path: str | os.PathLike[str], key: str) -> dict[str, list[dict]] | None:
    """An entry's per-sample rows by task, as stored beside the board; ``None`` when absent."""
    path = samples_dir(board_path) / f"{key}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:

        raise BoardError(f"{path}: sample rows of entry {key} are not valid JSON ({exc}); add that run again "
                         "with --replace") from None
    return data.get("tasks") or {}


def _draws(metric: str, rows: list[dict], weights: Any) -> Any:
    """Resampled values of ``metric`` (one per weight row), or ``None`` when not every row enters it."""
    # lazy: NumPy
    import numpy as np
    from comic_emotion.metrics.scoring import prepare

    prepared = prepare(metric, rows)
    if prepared is None or prepared.stats.shape[0] != len(rows):
        return None
    if prepared.from_sums is not None:
        return np.asarray(prepared.from_sums(weights @ prepared.stats), dtype=float)
    return np.asarray(prepared.from_weights(weights), dtype=float)


def rank_table(observed: Mapping[str, float], draws: Mapping[str, Any], *, lower_is_better: bool = False,
               level: float = LEVEL) -> dict[str, dict[str, Any]]:
    """``{key: {"rank", "interval", "group"}}`` from observed scores and (n_resamples,) draws per entry."""
    # lazy: NumPy
    import numpy as np

    keys = sorted(observed, key=lambda k: ((observed[k] if lower_is_better else -observed[k]), k))
    matrix = np.vstack([np.asarray(draws[k], dtype=float) for k in keys])
    worst = np.inf if lower_is_better else -np.inf
    matrix = np.where(np.isfinite(matrix), matrix, worst)
    better = (matrix[None, :, :] < matrix[:, None, :]) if lower_is_better else (matrix[None, :, :] > matrix[:, None, :])
    ranks = 1 + better.sum(axis=1)  # (entries, resamples): how many entries beat this one, plus one
    tail = (1 - level) / 2
    out: dict[str, dict[str, Any]] = {}
    for row, key in enumerate(keys):
        low = int(np.quantile(ranks[row], tail, method="lower"))
        high = int(np.quantile(ranks[row], 1 - tail, method="higher"))
        value = observed[key]
        rank = 1 + sum((observed[k] < value) if lower_is_better else (observed[k] > value) for k in keys)
        out[key] = {"rank": int(rank), "interval": [low, high]}
    group, leader = 0, None
    for key in keys:
        if leader is None or out[key]["interval"][0] > out[leader]["interval"][1]:
            group, leader = group + 1, key
        out[key]["group"] = group
    return out


def compute_rank_intervals(board: Mapping[str, Any], rows_by_key: Mapping[str, Mapping[str, list[dict]] | None]) -> dict[str, Any]:
    """The board's ``rank_intervals`` block (see the module docstring)."""
    # lazy: NumPy
    import numpy as np

    # lazy: NumPy (comic_emotion.metrics)
    from comic_emotion.metrics.bootstrap import resample_weights
    from comic_emotion.metrics.registry import metric_spec

    tasks = board["tasks"]
    names = sorted(tasks)
    per_task: dict[str, dict[str, Any]] = {}  # task -> {key: draws}
    left_out: dict[str, dict[str, str]] = {}
    for position, task in enumerate(names):
        metric = tasks[task]["official_metric"]
        holders = [(e["key"], rows_by_key.get(e["key"]) or {}) for e in board["entries"] if task in e["tasks"]]
        with_rows = [(k, r[task]) for k, r in holders if r.get(task)]
        left = {k: "no sample logs" for k, r in holders if not r.get(task)}
        draws: dict[str, Any] = {}
        if with_rows:
            ids = sorted(row["id"] for row in with_rows[0][1])
            weights = resample_weights(len(ids), n_resamples=N_RESAMPLES, seed=SEED + position) if len(ids) >= 2 else None
            for key, rows in with_rows:
                by_id = {row["id"]: row for row in rows}
                if weights is None or sorted(by_id) != ids or len(by_id) != len(rows):
                    left[key] = "other samples than the first entry with sample logs"
                    continue
                values = _draws(metric, [by_id[i] for i in ids], weights)
                if values is None:
                    left[key] = f"{metric} is undefined or leaves samples out"
                    continue
                draws[key] = values
        per_task[task] = draws
        left_out[task] = left
    tables: dict[str, Any] = {}
    entries = {e["key"]: e for e in board["entries"]}
    for task in names:
        metric = tasks[task]["official_metric"]
        observed = {k: entries[k]["tasks"][task]["metrics"][metric]["value"] for k in per_task[task]}
        observed = {k: v for k, v in observed.items() if v is not None}
        tables[task] = {"metric": metric, "entries": rank_table(observed, {k: per_task[task][k] for k in observed},
                                                               lower_is_better=metric_spec(metric).lower_is_better)
                        if observed else {}, "left_out": left_out[task]}
    # Overall: entries scored on every emotion task of the three domains, each with draws on all of them.
    by_domain: dict[str, list[str]] = {}
    for task in names:
        if tasks[task]["official_metric"] in EMOTION_OFFICIAL_METRICS and tasks[task]["domain"] in OVERALL_DOMAINS:
            by_domain.setdefault(tasks[task]["domain"], []).append(task)
    overall_tasks = [t for d in OVERALL_DOMAINS for t in by_domain.get(d, [])]
    observed, draws, left = {}, {}, {}
    if all(d in by_domain for d in OVERALL_DOMAINS):
        for entry in board["entries"]:
            key = entry["key"]
            if entry["overall"]["value"] is None or set(overall_tasks) - set(entry["tasks"]):
                left[key] = "not scored on every emotion task of comic, manga and art"
            elif any(key not in per_task[t] for t in overall_tasks):
                left[key] = "no paired sample rows for every task of the overall score"
            else:
                observed[key] = entry["overall"]["value"]
                draws[key] = np.mean([np.mean([per_task[t][key] for t in by_domain[d]], axis=0)
                                      for d in OVERALL_DOMAINS], axis=0)
    tables["overall"] = {"metric": "overall", "entries": rank_table(observed, draws) if observed else {},
                         "left_out": left}
    return {"method": "paired bootstrap over samples", "n_resamples": N_RESAMPLES, "seed": SEED, "level": LEVEL,
            "tables": tables}
