"""The stage-delta table of a fine-tuning sweep (``comic-emotion stages``), from its runs.

Per stage, domain (subtask) and metric: the score and its 95 % bootstrap interval, the delta against the
previous stage and against the base, and *forgetting*: how far the score fell below the best earlier
adapter stage, counted only on a domain an earlier stage improved over the base (the sign follows the
metric's direction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from comic_emotion.metrics import registry
from comic_emotion.metrics.registry import metric_spec
from comic_emotion.metrics.scoring import score_metric

from comic_emotion.data import DEMO_BANNER
from comic_emotion.results import Run, RunError


def _lower_is_better(metric: str) -> bool:
    return metric_spec(metric).lower_is_better


def stage_scores(run: Run, tasks: Sequence[str]) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{task: {metric: {"score", "ci_low", "ci_high"}}}`` of one stage's run (CIs from sample logs if absent)."""
    missing = [task for task in tasks if task not in run.tasks]
    if missing:
        raise RunError(f"no results for {', '.join(missing)}: lmms-eval logged a task failure (see its log)")
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for task in tasks:
        result = run.tasks[task]
        values = result.metrics
        entry = {}
        for metric, value in values.items():
            if metric.endswith(("_ci_low", "_ci_high")):
                continue
            low, high = values.get(f"{metric}_ci_low"), values.get(f"{metric}_ci_high")
            if low is None and high is None and result.rows:
                score = score_metric(metric, result.rows)
                if score.ci is not None:
                    low, high = score.ci.low, score.ci.high
            entry[metric] = {"score": value, "ci_low": low, "ci_high": high}
        out[task] = entry
    return out


def delta_table(stages: Sequence[str], scores: Sequence[Mapping[str, Mapping[str, Mapping[str, Any]]]],
                results_files: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of the stage-delta table (see the module docstring) from per-stage scores, in stage order."""
    rows = []
    for k, (stage, per_task, path) in enumerate(zip(stages, scores, results_files)):
        for task, metrics in per_task.items():
            for metric, cell in metrics.items():
                history = [scores[j].get(task, {}).get(metric, {}).get("score") for j in range(k + 1)]
                value, base = history[-1], history[0]
                previous = history[-2] if k else None
                sign = -1.0 if _lower_is_better(metric) else 1.0
                delta = lambda a, b: None if a is None or b is None else a - b
                forgetting = None
                earlier = [s for s in history[1:-1] if s is not None]  # adapter stages before this one
                if value is not None and base is not None and earlier:
                    peak = max(earlier, key=lambda s: sign * s)
                    forgetting = max(0.0, sign * (peak - value)) if sign * (peak - base) > 0 else 0.0
                rows.append({"stage": stage, "stage_index": k, "task": task, "metric": metric, "score": value,
                             "ci_low": cell.get("ci_low"), "ci_high": cell.get("ci_high"),
                             "delta_prev": delta(value, previous), "delta_base": delta(value, base),
                             "forgetting": forgetting, "lower_is_better": sign < 0, "results_file": path})
    return rows


def _fmt(value: Any, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


# The metrics stage_deltas.md shows (the registry's headline tier); stage_deltas.json keeps every metric.
HEADLINE_METRICS = registry.HEADLINE_METRICS


def markdown_table(rows: Sequence[Mapping[str, Any]], *, demo: bool, partial: str | None = None,
                   metrics: Sequence[str] | None = HEADLINE_METRICS) -> str:
    """The stage-delta table as markdown: the headline ``metrics`` (``None``: all), defined rows only.

    ``partial`` is the note of a ``--limit`` sweep. Rows left out are counted under the table.
    """
    lines = [f"> {DEMO_BANNER}", ""] if demo else []
    if partial:
        lines += [f"> PARTIAL RUN: {partial.split(': ', 1)[-1]}; not a full evaluation", ""]
    shown = [r for r in rows if (metrics is None or r["metric"] in metrics) and r["score"] is not None]
    undefined = sum(1 for r in rows if (metrics is None or r["metric"] in metrics) and r["score"] is None)
    lines += ["| stage | task | metric | score | 95% CI | Δ prev | Δ base | forgetting |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in shown:
        ci = "–" if r["ci_low"] is None else f"[{r['ci_low']:.4f}, {r['ci_high']:.4f}]"
        lines.append(f"| {r['stage']} | {r['task']} | {r['metric']}{' ↓' if r['lower_is_better'] else ''} | "
                     f"{_fmt(r['score'])} | {ci} | {_fmt(r['delta_prev'], True)} | {_fmt(r['delta_base'], True)} | "
                     f"{_fmt(r['forgetting'])} |")
    hidden = len(rows) - len(shown) - undefined
    notes = [f"{undefined} undefined (N/A) rows hidden" if undefined else "",
             f"{hidden} rows of other metrics in stage_deltas.json" if hidden else ""]
    if any(notes):
        lines += ["", "; ".join(n for n in notes if n) + "."]
    return "\n".join(lines) + "\n"


