"""Robustness report from lmms-eval results files (and their sample logs).

Each results JSON holds tasks; a task is a *variant* when ``configs.<task>.metadata`` names a
``perturbation`` and ``severity`` (the ``comic_emotion_robust`` subtasks), otherwise it is *clean*. A
variant is compared with the clean task of the same model, dataset and split. Per (perturbation,
severity) the report gives:

- ``score``: the headline metric, recomputed from the sample log rows with
  :func:`comic_emotion.metrics.scoring.aggregate` (the same code as the task's aggregation), or read from
  the results JSON when no sample log was written (run lmms-eval with ``--log_samples``);
- ``relative_drop``: ``(clean - score) / clean`` for a higher-is-better metric (``(score - clean) / clean``
  for a lower-is-better one), so positive is worse;
- ``coverage``: share of samples the perturbation actually changed (metric ``perturbation_changed``);
- ``flip_rate``: share of samples, among ids in both logs, whose predicted label set differs from clean;

and per model and dataset, over the noise-robustness perturbations only (not translation shifts, which
go to the cross-language table, nor full-mask ablations): the worst case, and an mCE-style aggregate
(Hendrycks & Dietterich 2019): ``mCE = mean_p mean_s E(p, s)`` with ``E = 1 - score`` (unnormalised),
``relative mCE = mean_p mean_s (E(p, s) - E(clean))``, and, given a reference model run on the same
variants, ``mCE_ref = mean_p sum_s E(p, s) / sum_s E_ref(p, s)``.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Sequence

from comic_emotion.metrics.registry import METRICS
from comic_emotion.metrics.registry import PERTURBATION_CHANGED_KEY as CHANGED_KEY
from comic_emotion.metrics.scoring import aggregate
from comic_emotion.perturbations import PERTURBATIONS
from comic_emotion.reports.cross_style import cross_style_matrix

from comic_emotion.results import Run, RunError, TaskResult, load_run


def load_runs(path: str | Path) -> list[tuple[Run, TaskResult]]:
    """The comic_emotion subtasks of one results file (``*_results.json``) with their sample logs."""
    path = Path(path)
    if path.is_dir():
        found = sorted(path.rglob("*_results.json"))
        example = f", e.g. {found[-1]}" if found else " (none found in it)"
        raise RunError(f"{path}: is a directory; pass the *_results.json files lmms-eval wrote{example}")
    run = load_run(path)
    return [(run, task) for task in run.tasks.values()]


def _key(run: Run, task: TaskResult) -> tuple[str, str, str]:
    return (run.label, task.dataset, task.split)


def score_of(task: TaskResult, metric: str) -> float | None:
    """The headline metric of a subtask: recomputed from sample rows, else the results JSON value."""
    if task.rows:
        return aggregate(metric, task.rows)
    return task.metrics.get(metric)


def ci_of(task: TaskResult, metric: str, score: float | None) -> tuple[float | None, float | None]:
    """The 95 % bootstrap CI lmms-eval recorded for ``metric`` (``<metric>_ci_low/_ci_high``), when it is
    the CI of ``score``: a score recomputed from sample logs that differs from the recorded value gets none."""
    value, low, high = (task.metrics.get(k) for k in (metric, f"{metric}_ci_low", f"{metric}_ci_high"))
    if score is None or value is None or low is None or high is None or abs(value - score) > 1e-9:
        return None, None
    return low, high


def coverage_of(task: TaskResult) -> float | None:
    """Share of samples the perturbation changed: from the sample log, else the results JSON mean."""
    if task.changed:
        return sum(task.changed) / len(task.changed)
    return task.metrics.get(CHANGED_KEY)


def flip_rate(clean: TaskResult, variant: TaskResult) -> float | None:
    """Share of samples (ids in both logs) whose predicted label set changed; ``None`` without logs."""
    clean_rows, variant_rows = clean.rows, variant.rows
    if not clean_rows or not variant_rows:
        return None
    before = {r["id"]: set(r["pred"]) for r in clean_rows}
    pairs = [(before[r["id"]], set(r["pred"])) for r in variant_rows if r["id"] in before]
    return sum(a != b for a, b in pairs) / len(pairs) if pairs else None


def _error(score: float | None, higher_is_better: bool) -> float | None:
    return None if score is None else (1.0 - score if higher_is_better else score)


def _mce(cells: list[dict[str, Any]], clean_error: float | None) -> dict[str, float | None]:
    by_p: dict[str, list[float]] = {}
    for cell in cells:
        if cell["category"] == "robustness" and cell["error"] is not None:
            by_p.setdefault(cell["perturbation"], []).append(cell["error"])
    if not by_p:
        return {"mce": None, "relative_mce": None}
    mce = sum(sum(v) / len(v) for v in by_p.values()) / len(by_p)
    relative = None if clean_error is None else \
        sum(sum(e - clean_error for e in v) / len(v) for v in by_p.values()) / len(by_p)
    return {"mce": mce, "relative_mce": relative}


def _normalised_mce(cells: list[dict[str, Any]], reference: list[dict[str, Any]]) -> float | None:
    ref = {(c["perturbation"], c["severity"]): c["error"] for c in reference if c["error"] is not None}
    ratios = []
    for name in sorted({c["perturbation"] for c in cells if c["category"] == "robustness"}):
        pairs = [(c["error"], ref[(name, c["severity"])]) for c in cells
                 if c["perturbation"] == name and c["error"] is not None and (name, c["severity"]) in ref]
        denominator = sum(r for _, r in pairs)
        if pairs and denominator > 0:
            ratios.append(sum(e for e, _ in pairs) / denominator)
    return sum(ratios) / len(ratios) if ratios else None


def robustness_report(paths: Sequence[str | Path], *, metric: str = "macro_f1",
                      reference: str | None = None) -> dict[str, Any]:
    """Build the report (a JSON-ready dict) from results files.

    Parameters
    ----------
    paths
        lmms-eval ``*_results.json`` files (their ``*_samples_<task>.jsonl`` siblings are read too).
    metric
        Headline metric key (see :data:`comic_emotion.metrics.registry.METRICS`).
    reference
        Model (as shown in the report, or a unique substring) whose errors normalise the mCE.
    """
    if metric not in METRICS:
        close = difflib.get_close_matches(metric, list(METRICS), n=1, cutoff=0.8)
        hint = f"did you mean {close[0]}? " if close else ""
        raise ValueError(f"unknown metric {metric!r}; {hint}known: {', '.join(sorted(METRICS))}")
    higher = METRICS[metric].higher_is_better
    runs = [pair for path in paths for pair in load_runs(path)]
    partial = {id(task): run.partial_note() for run, task in runs}  # the one decision (comic_emotion.results)
    clean = {_key(*pair): pair[1] for pair in runs if pair[1].perturbation is None}
    variants = sorted(((_key(r, t), t) for r, t in runs if t.perturbation is not None),
                      key=lambda kt: (kt[0], kt[1].perturbation, kt[1].severity))
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for key, run in variants:
        if run.perturbation not in PERTURBATIONS:
            raise ValueError(f"task {run.task}: unknown perturbation {run.perturbation!r} in its metadata")
        base = clean.get(key)
        if base is None:
            raise ValueError(f"task {run.task}: no clean run of dataset {run.dataset!r} split {run.split!r} for "
                             f"model {key[0]} among the results given; include the clean subtask")
        group = groups.setdefault(key, {"model": key[0], "dataset": run.dataset, "split": run.split,
                                        "clean_task": base.task, "clean_score": score_of(base, metric),
                                        "partial": partial[id(base)] or partial[id(run)], "cells": []})
        group.setdefault("clean_ci", list(ci_of(base, metric, group["clean_score"])))
        score = score_of(run, metric)
        clean_score = group["clean_score"]
        drop = None
        if score is not None and clean_score:
            drop = (clean_score - score) / clean_score if higher else (score - clean_score) / clean_score
        group["cells"].append({
            "task": run.task, "perturbation": run.perturbation, "severity": run.severity,
            "category": PERTURBATIONS[run.perturbation].category, "score": score, "ci": list(ci_of(run, metric, score)),
            "relative_drop": drop,
            "coverage": coverage_of(run), "flip_rate": flip_rate(base, run),
            "error": _error(score, higher), "n": len(run.rows) if run.rows is not None else None,
        })
    for group in groups.values():
        robust = [c for c in group["cells"] if c["category"] == "robustness" and c["score"] is not None]
        pick = max if not higher else min
        worst = pick(robust, key=lambda c: c["score"]) if robust else None
        clean_score = group["clean_score"]
        if worst is not None and (clean_score is None or (worst["score"] >= clean_score if higher
                                                          else worst["score"] <= clean_score)):
            worst = None  # nothing dropped: there is no worst case to report
        group["worst_case"] = None if worst is None else {k: worst[k] for k in ("perturbation", "severity", "score")}
        group.update(_mce(group["cells"], _error(group["clean_score"], higher)))
    if reference is not None:
        matches = sorted({g["model"] for g in groups.values() if reference == g["model"] or reference in g["model"]})
        if len(matches) != 1:
            raise ValueError(f"reference model {reference!r} matches {matches or 'no model'}; "
                             f"models: {', '.join(sorted({g['model'] for g in groups.values()}))}")
        for (model, dataset, split), group in groups.items():
            ref = groups.get((matches[0], dataset, split))
            group["mce_normalised"] = None if ref is None else _normalised_mce(group["cells"], ref["cells"])
        reference = matches[0]
    clean_runs = sorted(((key[0], task) for key, task in clean.items()), key=lambda mt: mt[1].task)
    return {"metric": metric, "higher_is_better": higher, "reference_model": reference,
            "synthetic": any(task.synthetic for _, task in runs),
            # "partial run: --limit 5, 5 of 100 samples per subtask" (one per distinct note); None when all full
            "partial": "; ".join(sorted({note for note in partial.values() if note})) or None,
            "groups": [groups[k] for k in sorted(groups)], "cross_style": cross_style_matrix(clean_runs, metric=metric)}
