"""Cross-style matrix: one checkpoint's score on each art style (comic, manga, art).

Rows are checkpoints (model + model_args, e.g. the staged fine-tunes), columns are domains; each cell is
the clean task's macro F1 after mapping gold and predicted labels to the canonical set
(:func:`comic_emotion.taxonomy.canonicalise`), so domains whose native label sets differ (EmoArt's 12
circumplex labels, KangaiSet's 7) are compared on one vocabulary. Only the canonical labels that every
style of the matrix can express are scored (:func:`shared_labels`, listed in the matrix and its
table): native labels without a basic-emotion counterpart (EmoArt's Bored and Tired, ArtEmis'
"something else") would otherwise land in a synthetic ``other`` class that no style shares. The
score itself is :func:`comic_emotion.metrics.scoring.aggregate` on the canonicalised sample rows
(macro over the shared labels that occur). Without a sample log the cell falls back to the task's
native macro F1 from the results JSON and says so (``labels: native``).
"""

from __future__ import annotations

from typing import Any, Sequence

from comic_emotion.metrics.scoring import aggregate

from comic_emotion.data import domain_of
from comic_emotion.results import TaskResult
from comic_emotion.taxonomy import CANONICAL, canonicalise, label_set

SYNTHETIC = "other"  # the catch-all canonical class: never scored across styles


def shared_labels(label_sets: Sequence[str]) -> list[str]:
    """The canonical labels (``other`` excluded) that every named native label set maps some label to."""
    images = [set(canonicalise(list(label_set(name)))) for name in label_sets if label_set(name)]
    shared = set.intersection(*images) if images else set()
    return [c for c in CANONICAL if c in shared and c != SYNTHETIC]


def canonical_rows(rows: Sequence[dict[str, Any]], shared: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Sample rows with gold and predictions mapped to the canonical label set, kept to ``shared`` labels."""
    keep = set(shared) if shared is not None else set(CANONICAL) - {SYNTHETIC}
    out = []
    for row in rows:
        gold = [c for c in canonicalise(row["gold"]) if c in keep]
        pred = [c for c in canonicalise(row["pred"]) if c in keep]
        out.append({**row, "label_set": "canonical", "gold": gold, "pred": pred,
                    "scores": [1.0 if label in pred else 0.0 for label in CANONICAL], "score_source": "indicator"})
    return out


def cross_style_matrix(runs: Sequence[tuple[str, TaskResult]], *, metric: str = "macro_f1") -> dict[str, Any]:
    """``{"domains", "shared_labels", "rows": [{"model", "cells": {domain: {"score", "labels", "task", "n"}}}]}``.

    ``runs``: (model label, clean subtask result) pairs.
    """
    shared = shared_labels(sorted({row["label_set"] for _, task in runs for row in task.rows or ()}))
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for model, task in runs:
        domain = domain_of(task.dataset)
        if task.rows:
            cell = {"score": aggregate(metric, canonical_rows(task.rows, shared)), "labels": "canonical shared",
                    "n": len(task.rows)}
        else:
            cell = {"score": task.metrics.get(metric), "labels": "native", "n": None}
        # Several datasets of one domain (EmoRecCom, EmoComics35): keep the first by task name, say which.
        table.setdefault(model, {}).setdefault(domain, {**cell, "task": task.task})
    domains = [d for d in ("comic", "manga", "art") if any(d in cells for cells in table.values())]
    domains += sorted({d for cells in table.values() for d in cells} - set(domains))
    return {"metric": metric, "domains": domains, "shared_labels": shared,
            "rows": [{"model": model, "cells": table[model]} for model in sorted(table)]}
