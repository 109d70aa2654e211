"""Regression gate: did a candidate checkpoint get worse than a baseline, beyond noise and tolerance?

Per task and metric present in both runs: the change (candidate − baseline, and the same in the
"better" direction), a paired bootstrap CI of the change and its p-value over the samples both
runs scored (same resampling weights for both systems, sacrebleu's paired bootstrap), and for
accuracy-like metrics whose per-sample outcome is 0/1 the exact McNemar p-value instead. A metric
*regresses* when its change in the better direction is below ``-max_drop`` and ``p < alpha``, or
when it was defined for the baseline and is undefined for the candidate. A drop beyond ``max_drop``
with no paired test (a run without sample logs, fewer than 2 samples) is *cannot judge*: the gate
has no evidence either way and says why, rather than failing the checkpoint (exit code 2, not 1).

By default only the headline metrics (:data:`GATED_BY_DEFAULT`) are gated; a metric named in the
thresholds file is gated too, and ``gate: all`` gates every metric both runs have.

Thresholds are user input (YAML, read with ``yaml.safe_load`` only)::

    alpha: 0.05            # significance level
    max_drop: 0.0          # default allowed drop, in the metric's own units
    gate: [macro_f1, intensity_mae]   # or "all"; default: GATED_BY_DEFAULT
    metrics:               # per metric (optional)
      macro_f1: {max_drop: 0.01}
    tasks:                 # per task and metric (optional, wins over metrics)
      comic_emotion_art: {macro_f1: {max_drop: 0.03, alpha: 0.01}}
"""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from comic_emotion.metrics.registry import HEADLINE_METRICS, METRICS, metric_spec

from comic_emotion.data import DEMO_BANNER
from comic_emotion.results import Run, RunError, TaskResult, load_run

DEFAULT_THRESHOLDS = {"alpha": 0.05, "max_drop": 0.0}
# The registry's headline tier: each task's official metric (macro-F1, EmoRecCom's ROC-AUC, the
# label-free tasks' speaker ARI and answer ROUGE-L), accuracy, intensity error and the parse-failure rate.
GATED_BY_DEFAULT = HEADLINE_METRICS
ACCURACY_LIKE = ("accuracy", "exact_match")
N_RESAMPLES = 1000
SEED = 0
_KEYS = {"alpha", "max_drop"}


class GateInputError(ValueError):
    """Input the gate cannot judge (exit code 2)."""


@dataclass(frozen=True)
class Comparison:
    """One (task, metric) row of the gate."""

    task: str
    metric: str
    display_name: str
    baseline: float | None
    candidate: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    test: str
    max_drop: float
    alpha: float
    regressed: bool
    verdict: str = "ok"  # "ok" | "regressed" | "cannot judge"
    reason: str | None = None  # why a test was impossible, or why the row regressed without one


def _check_threshold(where: str, value: Any) -> Mapping[str, float]:
    if not isinstance(value, Mapping):
        raise GateInputError(f"{where}: expected a mapping with alpha/max_drop, got {value!r}")
    unknown = set(value) - _KEYS
    if unknown:
        raise GateInputError(f"{where}: unknown keys {sorted(unknown)}; allowed: alpha, max_drop")
    for key, number in value.items():
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number) \
                or number < 0 or (key == "alpha" and not 0 < number < 1):
            raise GateInputError(f"{where}.{key}: {number!r} is not a valid {key} "
                                 f"({'0 < alpha < 1' if key == 'alpha' else 'a number >= 0'})")
    return value


def load_thresholds(path: str | os.PathLike[str] | None) -> dict[str, Any]:
    """Read and validate a thresholds YAML (``yaml.safe_load``); ``None`` gives the defaults."""
    if path is None:
        return {"default": dict(DEFAULT_THRESHOLDS), "metrics": {}, "tasks": {}, "gate": list(GATED_BY_DEFAULT)}

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise GateInputError(f"{path}: cannot read thresholds ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise GateInputError(f"{path}: thresholds are not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise GateInputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise GateInputError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    unknown = set(data) - _KEYS - {"metrics", "tasks", "gate"}
    if unknown:
        raise GateInputError(f"{path}: unknown keys {sorted(unknown)}; allowed: alpha, max_drop, gate, metrics, tasks")
    gate = data.get("gate", list(GATED_BY_DEFAULT))
    if gate != "all" and (not isinstance(gate, list) or not all(isinstance(m, str) for m in gate)):
        raise GateInputError(f"{path}: gate: expected \"all\" or a list of metric names, got {gate!r}")
    default = {**DEFAULT_THRESHOLDS, **_check_threshold(str(path), {k: data[k] for k in _KEYS if k in data})}
    metrics = {m: _check_threshold(f"{path}: metrics.{m}", v) for m, v in (data.get("metrics") or {}).items()}
    tasks = {}
    for task, per_metric in (data.get("tasks") or {}).items():
        if not isinstance(per_metric, Mapping):
            raise GateInputError(f"{path}: tasks.{task}: expected metric: {{max_drop, alpha}} entries")
        tasks[task] = {m: _check_threshold(f"{path}: tasks.{task}.{m}", v) for m, v in per_metric.items()}
    for where, metric in [*((f"gate[{i}]", m) for i, m in enumerate(gate if gate != "all" else [])),
                          *((f"metrics.{m}", m) for m in metrics),
                          *((f"tasks.{t}.{m}", m) for t, per in tasks.items() for m in per)]:
        if metric not in METRICS:
            raise GateInputError(f"{path}: {where}: unknown metric {metric!r}; {_did_you_mean(metric, METRICS)}"
                                 f"known: {', '.join(sorted(METRICS))}")
    if gate != "all":  # a metric given its own threshold is gated
        gate = sorted({*gate, *metrics, *(m for per in tasks.values() for m in per)})
    return {"default": default, "metrics": metrics, "tasks": tasks, "gate": gate, "source": str(path)}


def _did_you_mean(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.8)
    return f"did you mean {close[0]}? " if close else ""


def _threshold(thresholds: Mapping[str, Any], task: str, metric: str) -> dict[str, float]:
    return {**thresholds["default"], **thresholds["metrics"].get(metric, {}),
            **thresholds["tasks"].get(task, {}).get(metric, {})}


def _aligned(task: str, a: TaskResult, b: TaskResult) -> tuple[list[dict], list[dict]] | None:
    if a.rows is None or b.rows is None:
        return None
    by_id = {r["id"]: r for r in b.rows}
    ids = [r["id"] for r in a.rows]
    if set(ids) != set(by_id) or len(ids) != len(b.rows):
        raise GateInputError(f"task {task}: baseline and candidate sample logs cover different samples "
                             f"({len(ids)} vs {len(b.rows)} rows, {len(set(ids) ^ set(by_id))} ids differ)")
    return a.rows, [by_id[i] for i in ids]


def _resampled(prepared: Any, weights: Any) -> Any:
    # lazy: NumPy
    import numpy as np

    if prepared.from_sums is not None:
        return np.asarray(prepared.from_sums(weights @ prepared.stats), dtype=float)
    return np.asarray(prepared.from_weights(weights), dtype=float)


def paired_test(metric: str, rows_a: list[dict], rows_b: list[dict]) -> tuple[float | None, float | None,
                                                                                float | None, str]:
    """(CI low, CI high, p-value, test name) of candidate − baseline over aligned rows."""
    # lazy: NumPy
    import numpy as np
    from comic_emotion.metrics.bootstrap import mcnemar_exact, percentile_interval, resample_weights
    from comic_emotion.metrics.scoring import prepare

    prep_a, prep_b = prepare(metric, rows_a), prepare(metric, rows_b)
    if prep_a is None or prep_b is None:
        return None, None, None, "none (metric undefined)"
    n_a, n_b = prep_a.stats.shape[0], prep_b.stats.shape[0]
    if n_a == n_b == len(rows_a) and n_a >= 2:
        # Every row enters the statistic: resample both systems with the same weights (paired).
        weights = resample_weights(n_a, n_resamples=N_RESAMPLES, seed=SEED)
        draws_a, draws_b, test = _resampled(prep_a, weights), _resampled(prep_b, weights), "paired bootstrap"
    elif min(n_a, n_b) >= 2:
        # The metric keeps only rows with a prediction (e.g. intensity): the row sets differ, so resample apart.
        draws_a = _resampled(prep_a, resample_weights(n_a, n_resamples=N_RESAMPLES, seed=SEED))
        draws_b = _resampled(prep_b, resample_weights(n_b, n_resamples=N_RESAMPLES, seed=SEED + 1))
        test = "unpaired bootstrap"
    else:
        return None, None, None, "none (fewer than 2 samples)"
    diffs = draws_b - draws_a
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size == 0:  # every resample left the metric undefined (numpy would warn "Mean of empty slice")
        return None, None, None, "none (metric undefined on every resample)"
    observed = prep_b.value() - prep_a.value()
    interval = percentile_interval(diffs)
    p = float((np.sum(np.abs(diffs - diffs.mean()) >= abs(observed)) + 1) / (diffs.size + 1))
    if metric in ACCURACY_LIKE and test == "paired bootstrap":
        out_a, out_b = prep_a.stats[:, 0], prep_b.stats[:, 0]
        if np.isin(out_a, (0.0, 1.0)).all() and np.isin(out_b, (0.0, 1.0)).all():
            p, test = mcnemar_exact(out_a, out_b)["p_value"], "McNemar exact"
    return (interval.low if interval else None, interval.high if interval else None, p, test)


def _check_comparable(base: Run, cand: Run) -> None:
    if base.synthetic != cand.synthetic:
        kind = {True: "the synthetic demo set", False: "real data"}
        raise GateInputError(f"{cand.path}: the baseline is on {kind[base.synthetic]} and the candidate on "
                             f"{kind[cand.synthetic]}; demo and real runs never gate each other: compare runs on the "
                             "same data")
    missing = sorted(set(base.clean_tasks()) - set(cand.clean_tasks()))
    if missing:
        raise GateInputError(f"{cand.path}: no results for {', '.join(missing)} (present in the baseline)")
    for task, a in base.clean_tasks().items():
        b = cand.tasks[task]
        for field, x, y in (("version", a.version, b.version), ("data_hash", a.data_hash, b.data_hash)):
            if x != y:
                raise GateInputError(f"task {task}: {field} differs (baseline {x!r}, candidate {y!r}); "
                                     "the runs do not compare")


def compare(baseline: str | os.PathLike[str], candidate: str | os.PathLike[str], *,
            thresholds: Mapping[str, Any] | None = None) -> list[Comparison]:
    """Gate rows for every (task, metric) in both runs; raises :class:`GateInputError` on bad input."""
    thresholds = thresholds or load_thresholds(None)
    try:
        base, cand = load_run(baseline), load_run(candidate)
    except RunError as exc:
        raise GateInputError(str(exc)) from None
    _check_comparable(base, cand)
    unknown = sorted(set(thresholds["tasks"]) - set(base.clean_tasks()))
    if unknown:
        raise GateInputError(f"{thresholds.get('source', 'thresholds')}: tasks.{unknown[0]}: no such task in the "
                             f"runs; {_did_you_mean(unknown[0], base.clean_tasks())}"
                             f"tasks: {', '.join(sorted(base.clean_tasks()))}")
    rows = []
    for task, a in sorted(base.clean_tasks().items()):
        b = cand.tasks[task]
        aligned = _aligned(task, a, b)
        no_logs = [f"the {name} ({run.path.name})" for name, run, result in (("baseline", base, a),
                                                                             ("candidate", cand, b))
                   if result.rows is None]
        gate = thresholds.get("gate", "all")
        for metric in sorted(m for m in a.metrics if m in b.metrics and not m.endswith(("_ci_low", "_ci_high"))
                             and (gate == "all" or m in gate)):
            meta = metric_spec(metric)
            limit = _threshold(thresholds, task, metric)
            va, vb = a.metrics[metric], b.metrics[metric]
            delta = None if va is None or vb is None else vb - va
            low = high = p = None
            test = "none (no sample logs)"
            reason = None
            if aligned is not None:
                low, high, p, test = paired_test(metric, *aligned)
            better = None if delta is None else (-delta if meta.lower_is_better else delta)
            beyond = better is not None and better < -limit["max_drop"] - 1e-12
            if va is not None and vb is None:
                verdict, reason = "regressed", "defined for the baseline, undefined for the candidate"
            elif beyond and p is None:
                verdict = "cannot judge"
                reason = (f"no sample logs beside {' and '.join(no_logs)}; rerun lmms-eval with --log_samples"
                          if no_logs else f"no paired test possible: {test.removeprefix('none (').rstrip(')')}")
            else:
                verdict = "regressed" if beyond and p < limit["alpha"] else "ok"
            rows.append(Comparison(task, metric, meta.display_name, va, vb, delta, low, high, p, test,
                                   float(limit["max_drop"]), float(limit["alpha"]), verdict == "regressed",
                                   verdict, reason))
    return rows


def gate_exit_code(rows: list[Comparison]) -> int:
    """0 no regression, 1 a regression with evidence, 2 drops the gate cannot judge (and none proven)."""
    if any(r.verdict == "regressed" for r in rows):
        return 1
    return 2 if any(r.verdict == "cannot judge" for r in rows) else 0


def cannot_judge_message(rows: list[Comparison]) -> str | None:
    """One line for stderr when the gate cannot judge, naming the first reason; ``None`` otherwise."""
    unjudged = [r for r in rows if r.verdict == "cannot judge"]
    if not unjudged or any(r.verdict == "regressed" for r in rows):
        return None
    return (f"cannot judge: {len(unjudged)} of {len(rows)} checks dropped by more than the allowed drop "
            f"with no paired test ({unjudged[0].task}: {unjudged[0].reason})")


def _fmt(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:+.{digits}f}" if digits < 0 else f"{value:.{digits}f}"


def markdown_summary(rows: list[Comparison], *, baseline: str, candidate: str,
                     notes: list[str] | None = None) -> str:
    """A pull-request comment: verdict line, ``notes`` (demo data, partial runs), one row per check."""
    bad = [r for r in rows if r.verdict == "regressed"]
    unjudged = [r for r in rows if r.verdict == "cannot judge"]
    head = (f"### ❌ Regression: {len(bad)} of {len(rows)} checks" if bad
            else f"### ⚠️ Cannot judge: {len(unjudged)} of {len(rows)} checks dropped with no paired test "
                 f"({unjudged[0].reason})" if unjudged
            else f"### ✅ No regression ({len(rows)} checks)")
    order = {"regressed": 0, "cannot judge": 1, "ok": 2}
    rows = sorted(rows, key=lambda r: order[r.verdict])  # failures first (stable: task, metric order kept)
    lines = [head, "", *(f"> {note}" for note in notes or ()), *([""] if notes else []),
             f"baseline `{baseline}` → candidate `{candidate}`", "",
             "| task | metric | baseline | candidate | Δ | 95% CI of Δ | p | test | allowed drop | verdict |",
             "| --- | --- | ---: | ---: | ---: | --- | ---: | --- | ---: | --- |"]
    for r in rows:
        ci = "–" if r.ci_low is None else f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}]"
        p = "–" if r.p_value is None else f"{r.p_value:.3g}"
        lines.append(f"| {r.task} | {r.display_name} | {_fmt(r.baseline)} | {_fmt(r.candidate)} | "
                     f"{'–' if r.delta is None else f'{r.delta:+.4f}'} | {ci} | {p} | {r.test} | {r.max_drop:g} | "
                     f"{'**regressed**' if r.regressed else r.verdict} |")
    lines += ["", f"A metric regresses when it gets worse by more than the allowed drop and p < alpha "
                  f"(alpha {rows[0].alpha:g} by default)." if rows else ""]
    return "\n".join(lines) + "\n"


def run_notes(baseline: str | os.PathLike[str], candidate: str | os.PathLike[str]) -> list[str]:
    """What a reader of the gate must know about the runs: synthetic demo data, partial runs."""
    notes = []
    for name, path in (("baseline", baseline), ("candidate", candidate)):
        run = load_run(path, sample_logs=False)
        if run.synthetic and DEMO_BANNER not in notes:
            notes.append(DEMO_BANNER)
        if run.partial:
            notes.append(f"{name}: {run.partial_note()}")
    return notes


def to_json(rows: list[Comparison], *, baseline: str, candidate: str) -> str:
    """The gate's verdict and every comparison as JSON (``regress --json``)."""
    verdict = {0: "ok", 1: "regressed", 2: "cannot judge"}[gate_exit_code(rows)]
    return json.dumps({"baseline": baseline, "candidate": candidate, "verdict": verdict,
                       "regressed": any(r.regressed for r in rows), "comparisons": [asdict(r) for r in rows]},
                      indent=2, allow_nan=False)
