"""The lmms-eval metric wiring: projected rows aggregate exactly like full rows; every key has an aggregator."""

from __future__ import annotations

import json
import math

import pytest
from comic_emotion.metrics import lmms
from comic_emotion.metrics.registry import METRICS
from comic_emotion.metrics.scoring import aggregate, sample_row
from test_metrics_scoring import perfect_answer, random_records


@pytest.fixture(scope="module")
def rows():
    recs = random_records(60, seed=4)
    return [sample_row(r, perfect_answer(r) if i % 3 else "sad, not sure", label_set="emorecom")
            for i, r in enumerate(recs)]


def test_projected_rows_aggregate_like_full_rows(rows):
    per_key = [lmms.results_for(row) for row in rows]
    from comic_emotion.metrics.na import na_reasons

    assert lmms.aggregate_na_reasons([r[lmms.NA_REASONS_KEY] for r in per_key]) == na_reasons(rows)
    for key in lmms.TASK_METRICS + tuple(k for k in lmms.metric_keys() if k.endswith(("_ci_low", "_ci_high"))):
        items = [results[key] for results in per_key]
        got = getattr(lmms, f"aggregate_{key}")(items)
        want = aggregate(key, rows)
        assert (got is None and want is None) or got == pytest.approx(want, abs=1e-12), key


def test_first_key_keeps_the_full_row_and_results_are_json(rows):
    results = lmms.results_for(rows[0])
    assert results[lmms.metric_keys()[0]] == rows[0]
    json.dumps(results, allow_nan=False)
    naive = len(lmms.metric_keys()) * len(json.dumps(rows[0]))  # the full row under every key
    assert len(json.dumps(results)) < naive / 2


def test_every_key_is_known_with_a_direction():
    for key in lmms.metric_keys():
        if key == lmms.NA_REASONS_KEY:
            continue
        base = key.replace("_ci_low", "").replace("_ci_high", "")
        assert base in METRICS
        assert lmms.higher_is_better(key) == METRICS[base].higher_is_better
        assert callable(getattr(lmms, f"aggregate_{key}"))


def test_ci_keys_bracket_the_value(rows):
    for metric in lmms.CI_METRICS:
        value = aggregate(metric, rows)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        low, high = aggregate(f"{metric}_ci_low", rows), aggregate(f"{metric}_ci_high", rows)
        assert low <= value + 1e-12 and value <= high + 1e-12, metric


def test_task_template_lists_every_metric_key_with_its_aggregator():
    from comic_emotion.tasks import tasks_dir

    text = (tasks_dir() / "_default_template_yaml").read_text(encoding="utf-8")
    assert lmms.metric_list_yaml() in text


def test_no_key_contains_the_group_metric_except_its_ci_bounds():
    # lmms-eval pools a group's metric into every key containing it as a substring (with the group's
    # mean_of_defined): only the macro-F1 families, each pooled under its own key.
    for key in lmms.metric_keys():
        if "macro_f1" in key:
            assert key in ("macro_f1", "macro_f1_ci_low", "macro_f1_ci_high", "utt_macro_f1", "utt_macro_f1_ci_low",
                           "utt_macro_f1_ci_high"), key


def test_lmms_results_carry_every_score_metric():
    # One metric set everywhere: lmms-eval's keys are `comic-emotion score`'s metrics (one registry).
    from comic_emotion.metrics.scoring import score_rows

    rows = [sample_row(r, perfect_answer(r), label_set="emorecom") for r in random_records(6)]
    scored = {k for k in score_rows(rows, n_resamples=5) if "/" not in k}
    assert set(lmms.TASK_METRICS) == scored == set(METRICS)
    assert {"attribution_micro_precision", "attribution_micro_recall"} <= set(lmms.TASK_METRICS)
    from comic_emotion.tasks import tasks_dir

    template = (tasks_dir() / "_default_template_yaml").read_text(encoding="utf-8")
    listed = {line.split(":", 1)[1].strip() for line in template.splitlines() if line.strip().startswith("- metric:")}
    assert listed == set(lmms.metric_keys())
