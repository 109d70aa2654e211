"""The metric keys of the comic_emotion lmms-eval tasks and their aggregation functions.

lmms-eval aggregates each metric key separately, over what ``process_results`` returned for that
key, and computes ``<metric>_stderr`` only for its built-in aggregations. So:

- every metric listed in :data:`TASK_METRICS` is one key; the 95 % bootstrap interval of a headline
  metric is two more keys, ``<metric>_ci_low`` and ``<metric>_ci_high`` (plain numbers: the results
  JSON stays numeric and lmms-eval's table shows them as rows of their own);
- :func:`results_for` stores the full sample row under the first key (the sample log keeps
  everything) and, under every other key, only the fields its metric reads, so the log grows by a
  few hundred bytes per key rather than a full row;
- ``aggregate_<key>`` functions (generated below) are what the task YAML names with ``!function``.

Undefined metrics aggregate to ``None`` (``null`` in JSON, ``N/A`` in the table). The key
``na_reasons`` aggregates to ``{metric: reason}`` for the metrics that are N/A because of their
answer field (``"not requested"``, ``"never produced"``; :func:`comic_emotion.metrics.na.undefined_reason`).

One metric set everywhere: :data:`TASK_METRICS` is every metric of the registry
(:data:`comic_emotion.metrics.registry.METRICS`), the set ``comic-emotion score`` reports, in the
order metrics with CIs first (:data:`comic_emotion.metrics.registry.CI_METRICS`), then the registry's
order. Directions and descriptions come from the registry too.

Key names: lmms-eval 0.7.3 pools a group's ``aggregate_metric_list`` entry into *every* subtask key
that contains it as a substring (``evaluator_utils.consolidate_group_results``), with the group's
aggregation; ours is ``mean_of_defined``, which skips ``None``. So ``utt_macro_f1`` (and its CI
bounds) get group rows of their own, the mean over the subtasks where they are defined; the
per-sample attribution F1 is still ``attribution_sample_f1`` and the strict-parse F1 ``strict_json_f1``.
The group rows ``macro_f1_ci_low/high`` are then the means of the subtasks' bounds: for the
unweighted mean of independent subtask scores that interval is wider than the exact one (the mean
of half-widths >= the root-sum-square / k), i.e. conservative.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from comic_emotion.metrics.na import na_reasons
from comic_emotion.metrics.registry import CI_METRICS, METRICS, NA_REASONS_KEY, metric_spec
from comic_emotion.metrics.scoring import aggregate

# Every registry metric: the same set as `comic-emotion score` (a test compares them).
TASK_METRICS: tuple[str, ...] = CI_METRICS + tuple(m for m in METRICS if m not in CI_METRICS)

_BASE = ("id", "label_set", "requested", "produced")
_FIELDS: Mapping[str, tuple[str, ...]] = {
    "classification": ("gold", "pred", "parse_status", "scores", "score_source"),
    "parsing": ("parse_status", "off_taxonomy"),
    "attribution": ("attr_annotated", "attr_gold", "attr_pred", "speakers_gold", "clusters_gold", "clusters_pred"),
    "utterance": ("utt_gold", "utt_pred"),
    "coverage": (),
    NA_REASONS_KEY: (),
    "calibration": ("gold", "confidences"),
    "explanation": ("explanation_refs", "bleu_tokenizer", "bleu_stats", "rouge"),
    "answer": ("answer_refs", "answer_bleu_tokenizer", "answer_bleu_stats", "answer_rouge", "answer_exact"),
}


def _base(key: str) -> str:
    for suffix in ("_ci_low", "_ci_high"):
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key


def metric_keys() -> tuple[str, ...]:
    """Every key of the task's ``metric_list``, in order."""
    return TASK_METRICS + tuple(f"{m}{s}" for m in CI_METRICS for s in ("_ci_low", "_ci_high")) + (NA_REASONS_KEY,)


def higher_is_better(key: str) -> bool:
    """The registry's direction of ``key`` (lmms-eval needs one for every key, ``na_reasons`` included)."""
    return metric_spec(key).higher_is_better


def fields_for(key: str) -> tuple[str, ...]:
    """The row fields the metric behind ``key`` reads."""
    metric = _base(key)
    group = NA_REASONS_KEY if key == NA_REASONS_KEY else METRICS[metric].group
    if group == "dimensions":
        dim = metric.split("_")[0]
        return _BASE + (f"{dim}_gold", f"{dim}_pred")
    return _BASE + _FIELDS[group]


def results_for(row: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``process_results`` output: the full row under the first key, projections under the others."""
    keys = metric_keys()
    out = {keys[0]: dict(row)}
    for key in keys[1:]:
        out[key] = {field: row[field] for field in fields_for(key)}
    return out


def _aggregator(key: str) -> Callable[[list[dict]], float | None]:
    def aggregate_key(rows: list[dict]) -> float | None:
        return aggregate(key, rows)

    if key == NA_REASONS_KEY:
        def aggregate_key(rows: list[dict]) -> dict[str, str]:  # replaces the numeric aggregator
            return na_reasons(rows)
    description = metric_spec(_base(key)).description
    aggregate_key.__name__ = aggregate_key.__qualname__ = f"aggregate_{key}"
    aggregate_key.__doc__ = f"lmms-eval aggregation of ``{key}``: {description}."
    return aggregate_key


AGGREGATORS: dict[str, Callable[[list[dict]], float | None]] = {f"aggregate_{k}": _aggregator(k) for k in metric_keys()}
globals().update(AGGREGATORS)
__all__ = [  # noqa: PLE0604 (the generated names are strings)
    "CI_METRICS", "TASK_METRICS", "metric_keys", "results_for", "fields_for", "higher_is_better",
    "metric_list_yaml", *AGGREGATORS,
]


def metric_list_yaml() -> str:
    """The ``metric_list`` block of the task template, generated from :func:`metric_keys`."""
    lines = ["metric_list:"]
    for key in metric_keys():
        lines += [f"  - metric: {key}", f"    aggregation: !function utils.aggregate_{key}",
                  f"    higher_is_better: {'true' if higher_is_better(key) else 'false'}"]
    return "\n".join(lines) + "\n"
