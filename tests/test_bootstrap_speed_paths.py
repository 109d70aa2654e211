"""The fast paths of issue 18: one counts matrix times the statistics, and one bootstrap per CI metric.

- ``resampled_sums`` (one (n_resamples, n) counts matrix, one matrix product) equals a per-resample
  scikit-learn loop on the very same indices to 1e-12, in one block and in several.
- ``aggregate("<m>_ci_low")`` / ``aggregate("<m>_ci_high")`` (what lmms-eval calls, one key at a time)
  run the bootstrap once per metric and rows, give exactly the uncached interval, and keep tasks apart.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
from comic_emotion.metrics import bootstrap, lmms, na, scoring
from comic_emotion.metrics import classification as cls
from comic_emotion.metrics.scoring import aggregate, sample_row, score_metric
from test_metrics_scoring import perfect_answer, random_records


def _macro_f1(s: np.ndarray) -> np.ndarray:
    return cls.prf_from_counts(s.reshape(*s.shape[:-1], 3, -1), average="macro")[2]


@pytest.mark.parametrize("max_cells", [bootstrap.MAX_COUNT_CELLS, 7 * 257])  # one block; blocks of 7 resamples
def test_counts_times_stats_equals_sklearn_loop_on_the_same_indices(monkeypatch, max_cells):
    monkeypatch.setattr(bootstrap, "MAX_COUNT_CELLS", max_cells)
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.random((257, 6)) < 0.3, rng.random((257, 6)) < 0.4
    stats = cls.confusion_counts(y_true, y_pred).reshape(257, -1)
    sums = bootstrap.resampled_sums(stats, n_resamples=40, seed=9)
    idx = bootstrap.resample_indices(257, n_resamples=40, seed=9)
    loop = [skm.f1_score(y_true[i], y_pred[i], average="macro", zero_division=0) for i in idx]
    np.testing.assert_allclose(_macro_f1(sums), loop, atol=1e-12, rtol=0)
    weights = bootstrap.resample_weights(257, n_resamples=40, seed=9)
    assert np.array_equal(weights, np.stack([np.bincount(i, minlength=257) for i in idx]))
    assert np.array_equal(sums, weights @ stats)


def _rows(n: int, seed: int) -> list[dict]:
    return [sample_row(r, perfect_answer(r) if i % 3 else "sad, not sure", label_set="emorecom")
            for i, r in enumerate(random_records(n, seed=seed))]


@pytest.fixture()
def counted(monkeypatch):
    """Counts bootstrap passes (calls of the interval routine) and starts from an empty cache."""
    monkeypatch.setattr(scoring, "_CI_CACHE", type(scoring._CI_CACHE)())
    calls = []
    original = scoring._intervals

    def _intervals(prepared, **kwargs):
        calls.append(sorted(prepared))
        return original(prepared, **kwargs)

    monkeypatch.setattr(scoring, "_intervals", _intervals)
    return calls


def test_both_bounds_come_from_one_bootstrap_and_equal_the_uncached_interval(counted):
    rows = _rows(60, seed=4)
    per_key = [lmms.results_for(row) for row in rows]
    for metric in ("macro_f1", "intensity_mae", "bleu"):
        want = score_metric(metric, rows).ci
        before = len(counted)
        low = getattr(lmms, f"aggregate_{metric}_ci_low")([r[f"{metric}_ci_low"] for r in per_key])
        high = getattr(lmms, f"aggregate_{metric}_ci_high")([r[f"{metric}_ci_high"] for r in per_key])
        assert len(counted) == before + 1, metric  # the projections of both keys are equal rows
        assert (low, high) == ((want.low, want.high) if want else (None, None)), metric


def test_interleaved_tasks_and_changed_rows_get_their_own_intervals(counted):
    task_a, task_b = _rows(50, seed=1), _rows(50, seed=2)
    want_a, want_b = score_metric("macro_f1", task_a).ci, score_metric("macro_f1", task_b).ci
    assert want_a != want_b
    got = [aggregate("macro_f1_ci_low", task_a), aggregate("macro_f1_ci_low", task_b),
           aggregate("macro_f1_ci_high", task_a), aggregate("macro_f1_ci_high", task_b)]
    assert got == [want_a.low, want_b.low, want_a.high, want_b.high]
    changed = [dict(r) for r in task_a]
    changed[0]["pred"] = [] if changed[0]["pred"] else ["anger"]
    assert aggregate("macro_f1_ci_low", changed) == score_metric("macro_f1", changed).ci.low
    # Other seeds and resample counts are other entries, too.
    assert aggregate("macro_f1_ci_low", task_a, seed=1) == score_metric("macro_f1", task_a, seed=1).ci.low
    assert aggregate("macro_f1_ci_high", task_a, n_resamples=200) == score_metric(
        "macro_f1", task_a, n_resamples=200).ci.high


def test_a_rerun_with_an_empty_cache_gives_the_same_bounds(counted):
    rows = _rows(40, seed=7)
    first = [aggregate(f"accuracy{s}", rows) for s in scoring.CI_SUFFIXES]
    scoring._CI_CACHE.clear()
    assert [aggregate(f"accuracy{s}", rows) for s in scoring.CI_SUFFIXES] == first
    assert len(counted) == 2


def test_one_pass_reasons_equal_the_per_metric_reasons():
    rows = _rows(30, seed=5)
    variants = [rows, [{k: v for k, v in r.items() if k != "requested"} for r in rows],
                [{**r, "requested": []} for r in rows], [{**r, "produced": []} for r in rows],
                [{**r, "requested": ["explanation"], "produced": ["explanation"]} if i % 2 else r
                 for i, r in enumerate(rows)]]
    for variant in variants:
        want = {m: reason for m in scoring.METRICS if (reason := na.undefined_reason(m, variant)) is not None}
        assert na.undefined_reasons(variant) == want
        assert na.na_reasons(variant) == want


def test_rouge_of_hypotheses_without_tokens_equals_rouge_score_without_importing_nltk():
    import subprocess
    import sys

    from comic_emotion.metrics import text

    hyps = ["", "   ", "!!! ...", "。", "she smiles", "嬉しい"]
    refs = [["she smiles because she won"], ["a b", "c"], ["no"], ["嬉しい"], ["she smiles"], ["嬉しい顔"]]
    scorer = text._rouge_scorer()
    want = [[scorer.score_multi(r, h)[t].fmeasure for t in text.ROUGE_TYPES] for h, r in zip(hyps, refs)]
    np.testing.assert_array_equal(text.rouge_f(hyps, refs), want)
    code = ("import sys; from comic_emotion.metrics import text; "
            "print(text.rouge_f(['', '?!'], [['a b'], ['c']]).tolist(), 'nltk' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[[0.0,", "0.0,", "0.0],", "[0.0,", "0.0,", "0.0]]", "False"]


def test_rows_that_do_not_pickle_are_scored_without_the_cache(counted):
    rows = [{**r, "extra": (lambda: None)} for r in _rows(30, seed=8)]
    assert aggregate("macro_f1_ci_high", rows) == score_metric("macro_f1", rows).ci.high
    assert len(scoring._CI_CACHE) == 0
