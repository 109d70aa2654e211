"""Bootstrap intervals: equality with a per-resample sklearn loop, coverage in simulation, paired tests."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
from comic_emotion.metrics import classification as cls
from comic_emotion.metrics.bootstrap import (
    bootstrap_sums,
    mcnemar_exact,
    paired_bootstrap,
    resample_indices,
    resample_weights,
)


def macro_f1_of_sums(s: np.ndarray) -> np.ndarray:
    return cls.prf_from_counts(s.reshape(*s.shape[:-1], 3, -1), average="macro")[2]


def test_vectorised_resamples_equal_sklearn_loop_on_the_same_indices():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.random((300, 8)) < 0.3, rng.random((300, 8)) < 0.3
    stats = cls.confusion_counts(y_true, y_pred).reshape(300, -1)
    _, resampled = bootstrap_sums(stats, macro_f1_of_sums, n_resamples=50, seed=7, method="percentile")
    idx = resample_indices(300, n_resamples=50, seed=7)
    loop = [skm.f1_score(y_true[i], y_pred[i], average="macro", zero_division=0) for i in idx]
    np.testing.assert_allclose(resampled, loop, atol=1e-12, rtol=0)


def test_resampling_is_seeded_and_reproducible():
    a = resample_weights(100, n_resamples=30, seed=1)
    assert np.array_equal(a, resample_weights(100, n_resamples=30, seed=1))
    assert not np.array_equal(a, resample_weights(100, n_resamples=30, seed=2))
    assert (a.sum(1) == 100).all()


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_95_percent_intervals_cover_the_population_value(method):
    # Synthetic population: per-label Bernoulli gold, predictions correct with probability 0.7.
    rng = np.random.default_rng(11)
    population_true = rng.random((200_000, 4)) < 0.3
    population_pred = np.where(rng.random((200_000, 4)) < 0.7, population_true, ~population_true)
    truth = skm.f1_score(population_true, population_pred, average="macro", zero_division=0)
    covered, trials = 0, 300
    for t in range(trials):
        pick = rng.integers(0, 200_000, 1000)
        stats = cls.confusion_counts(population_true[pick], population_pred[pick]).reshape(1000, -1)
        interval, _ = bootstrap_sums(stats, macro_f1_of_sums, n_resamples=500, seed=t, method=method)
        covered += interval.low <= truth <= interval.high
    assert covered / trials >= 0.93


def test_paired_bootstrap_detects_a_real_difference_and_not_a_null_one():
    rng = np.random.default_rng(5)
    gold = rng.random((500, 4)) < 0.3
    good = np.where(rng.random((500, 4)) < 0.9, gold, ~gold)
    bad = np.where(rng.random((500, 4)) < 0.6, gold, ~gold)
    a = cls.confusion_counts(gold, good).reshape(500, -1)
    b = cls.confusion_counts(gold, bad).reshape(500, -1)
    result = paired_bootstrap(a, b, macro_f1_of_sums, n_resamples=500, seed=0)
    assert result["difference"] > 0 and result["ci_low"] > 0 and result["p_value"] < 0.01
    same = paired_bootstrap(a, a, macro_f1_of_sums, n_resamples=200, seed=0)
    assert same["difference"] == 0 and same["p_value"] == 1.0
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[500, 10\]"):
        paired_bootstrap(a, b[:10], macro_f1_of_sums)


def test_mcnemar_exact_matches_binomial_tail():
    from scipy.stats import binomtest

    a = np.array([1] * 30 + [0] * 10 + [1] * 50)
    b = np.array([0] * 30 + [1] * 10 + [1] * 50)
    assert mcnemar_exact(a, b)["p_value"] == pytest.approx(binomtest(10, 40, 0.5).pvalue, abs=1e-12)
    assert mcnemar_exact(a, a)["p_value"] == 1.0
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        mcnemar_exact(a, b[:5])
