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

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from comic_emotion.data import is_synthetic
from comic_emotion.leaderboard.runs import partial_note

CHANGED_KEY = "perturbation_changed"


@dataclass
class TaskRun:
    """One task of one results file, with its sample log rows when present."""

    task: str
    model: str
    dataset: str
    split: str
    perturbation: str | None
    severity: int | None
    results: dict[str, Any]
    samples: list[dict[str, Any]] | None = field(default=None, repr=False)
    synthetic: bool = False  # computed on the demo set (comic_emotion.data.is_synthetic)
    partial: str | None = None  # a --limit run (comic_emotion.leaderboard.runs.partial_note); None when full

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.model, self.dataset, self.split)


def _model_of(results: dict[str, Any]) -> str:
    config = results.get("config") or {}
    name = str(config.get("model") or results.get("model_name") or "unknown")
    args = config.get("model_args")
    if isinstance(args, dict):
        args = ",".join(f"{k}={v}" for k, v in sorted(args.items()))
    return f"{name}({args})" if args else name


def load_runs(path: str | Path) -> list[TaskRun]:
    """The comic_emotion tasks of one results file (``*_results.json``) and their sample logs."""
    path = Path(path)
    if path.is_dir():
        found = sorted(path.rglob("*_results.json"))
        example = f", e.g. {found[-1]}" if found else " (none found in it)"
        raise ValueError(f"{path}: is a directory; pass the *_results.json files lmms-eval wrote{example}")

    def refuse(constant: str) -> None:
        raise ValueError(f"{path}: contains {constant}, which strict JSON does not allow; the run is broken, rerun it")

    try:
        results = json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)
    except FileNotFoundError:
        raise ValueError(f"{path}: results file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a JSON results file ({exc})") from None
    if not isinstance(results, dict) or "results" not in results:
        raise ValueError(f"{path}: no 'results' key; pass the *_results.json that lmms-eval wrote")
    prefix = path.name[: -len("results.json")] if path.name.endswith("results.json") else None
    model = _model_of(results)
    configs = results.get("configs") or {}
    ours = [t for t in results["results"] if "dataset" in ((configs.get(t) or {}).get("metadata") or {})]
    partial = partial_note(results, ours)
    runs = []
    for task, values in results["results"].items():
        metadata = (configs.get(task) or {}).get("metadata") or {}
        if task not in ours:
            continue  # a group row or a task of another suite
        samples = None
        log = path.parent / f"{prefix}samples_{task}.jsonl" if prefix is not None else None
        if log is not None and log.is_file():
            with log.open(encoding="utf-8") as handle:
                samples = [json.loads(line) for line in handle if line.strip()]
        severity = metadata.get("severity")
        runs.append(TaskRun(task, model, str(metadata["dataset"]), str(metadata.get("data_split", "test")),
                            metadata.get("perturbation"), None if severity is None else int(severity),
                            values, samples, is_synthetic(metadata), partial))
    return runs


def _rows(run: TaskRun, metric: str) -> list[dict[str, Any]] | None:
    if run.samples is None:
        return None
    rows = [s[metric] for s in run.samples if isinstance(s.get(metric), dict)]
    return rows if len(rows) == len(run.samples) else None


def score_of(run: TaskRun, metric: str) -> float | None:
    """The headline metric of a run: recomputed from sample rows, else the results JSON value."""
    rows = _rows(run, metric)
    if rows:
        from comic_emotion.metrics.scoring import aggregate

        return aggregate(metric, rows)
    value = run.results.get(f"{metric},none")
    return value if isinstance(value, (int, float)) else None


def ci_of(run: TaskRun, metric: str, score: float | None) -> tuple[float | None, float | None]:
    """The 95 % bootstrap CI lmms-eval recorded for ``metric`` (``<metric>_ci_low/_ci_high``), when it is
    the CI of ``score``: a score recomputed from sample logs that differs from the recorded value gets none."""
    value = run.results.get(f"{metric},none")
    low, high = run.results.get(f"{metric}_ci_low,none"), run.results.get(f"{metric}_ci_high,none")
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (value, low, high))
    if score is None or not numbers or abs(value - score) > 1e-9:
        return None, None
    return float(low), float(high)


def coverage_of(run: TaskRun) -> float | None:
    if run.samples is not None and all(CHANGED_KEY in s for s in run.samples) and run.samples:
        return sum(float(s[CHANGED_KEY]) for s in run.samples) / len(run.samples)
    value = run.results.get(f"{CHANGED_KEY},none")
    return value if isinstance(value, (int, float)) else None


def flip_rate(clean: TaskRun, variant: TaskRun, metric: str) -> float | None:
    """Share of samples (ids in both logs) whose predicted label set changed; ``None`` without logs."""
    clean_rows, variant_rows = _rows(clean, metric), _rows(variant, metric)
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
        Headline metric key (see :data:`comic_emotion.metrics.scoring.METRICS`).
    reference
        Model (as shown in the report, or a unique substring) whose errors normalise the mCE.
    """
    from comic_emotion.metrics.scoring import METRICS
    from comic_emotion.perturbations import PERTURBATIONS

    if metric not in METRICS:
        import difflib

        close = difflib.get_close_matches(metric, list(METRICS), n=1, cutoff=0.8)
        hint = f"did you mean {close[0]}? " if close else ""
        raise ValueError(f"unknown metric {metric!r}; {hint}known: {', '.join(sorted(METRICS))}")
    higher = METRICS[metric].higher_is_better
    runs = [run for path in paths for run in load_runs(path)]
    clean = {run.key: run for run in runs if run.perturbation is None}
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for run in sorted((r for r in runs if r.perturbation is not None), key=lambda r: (r.key, r.perturbation, r.severity)):
        if run.perturbation not in PERTURBATIONS:
            raise ValueError(f"task {run.task}: unknown perturbation {run.perturbation!r} in its metadata")
        base = clean.get(run.key)
        if base is None:
            raise ValueError(f"task {run.task}: no clean run of dataset {run.dataset!r} split {run.split!r} for "
                             f"model {run.model} among the results given; include the clean subtask")
        group = groups.setdefault(run.key, {"model": run.model, "dataset": run.dataset, "split": run.split,
                                            "clean_task": base.task, "clean_score": score_of(base, metric),
                                            "partial": base.partial or run.partial, "cells": []})
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
            "coverage": coverage_of(run), "flip_rate": flip_rate(base, run, metric),
            "error": _error(score, higher), "n": len(run.samples) if run.samples is not None else None,
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
    from comic_emotion.perturbations.cross_style import cross_style_matrix

    return {"metric": metric, "higher_is_better": higher, "reference_model": reference,
            "synthetic": any(run.synthetic for run in runs),
            # "partial run: --limit 5, 5 of 100 samples per subtask" (one per distinct note); None when all full
            "partial": "; ".join(sorted({run.partial for run in runs if run.partial})) or None,
            "groups": [groups[k] for k in sorted(groups)], "cross_style": cross_style_matrix(sorted(clean.values(), key=lambda r: r.task), metric=metric)}
