"""Seeded, vectorised bootstrap confidence intervals and paired significance tests.

As sacrebleu's ``_bootstrap_resample``: one row of sufficient statistics per sample, one
(n_resamples, n_samples) resampling drawn from a seeded generator, and the score of every resample
computed at once. Resamples are represented as integer *weights* (how often each sample was drawn),
so a sum-based metric's resampled sums are one matrix product ``weights @ stats``.

Intervals: percentile (Efron & Tibshirani 1993, ch. 13) and, for sum-based metrics, BCa (ch. 14)
with the jackknife acceleration computed from leave-one-out sums, which costs one more matrix pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

METHODS = ("percentile", "bca")


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval."""

    low: float
    high: float
    level: float
    method: str

    def to_dict(self) -> dict[str, float | str]:
        """The interval as stored in results and score reports."""
        return {"low": self.low, "high": self.high, "level": self.level, "method": self.method}


# Above this many (resample, sample) cells the counts matrix is built in row blocks: 2**24 float64
# cells are 128 MiB (1,000 resamples of 16,000 samples fit in one block).
MAX_COUNT_CELLS = 1 << 24


def _check_sizes(n_samples: int, n_resamples: int) -> None:
    if n_samples < 1:
        raise ValueError("bootstrap needs at least one sample")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")


def weight_chunks(n_samples: int, *, n_resamples: int = 1000, seed: int = 0,
                  chunk: int | None = None) -> Iterator[np.ndarray]:
    """Bootstrap weights, row b counting how often each sample was drawn in resample b.

    The draw is ``np.random.default_rng(seed).integers(0, n, (n_resamples, n))``, the index matrix
    of :func:`resample_indices` (numpy's bounded integers give the same values in one call or in
    row blocks). By default the whole (n_resamples, n) counts matrix comes
    in one block, so a caller gets every resample's sums of per-sample statistics from one matrix
    product ``counts @ stats`` (sacrebleu's ``_bootstrap_resample`` shape); above
    :data:`MAX_COUNT_CELLS` cells, or with ``chunk`` (rows per block), it comes in blocks that reuse
    one buffer, so a caller must consume each block before asking for the next.
    """
    _check_sizes(n_samples, n_resamples)
    rows = chunk if chunk is not None else max(1, MAX_COUNT_CELLS // n_samples)
    rows = max(1, min(rows, n_resamples))
    rng = np.random.default_rng(seed)
    buffer = np.empty((rows, n_samples))
    for start in range(0, n_resamples, rows):
        size = min(rows, n_resamples - start)
        # int64, numpy's default: the same values as int32 (bounded integers), and faster to draw here
        # (0.034 s against 0.057 s for 1000 x 10,000, best of 3).
        idx = rng.integers(0, n_samples, size=(size, n_samples))
        for b in range(size):
            # Row by row: each bincount scatters into a cache-sized array (faster than one flat
            # bincount over size * n cells, and no int64 temporary of the whole matrix).
            buffer[b] = np.bincount(idx[b], minlength=n_samples)
        yield buffer[:size]


def resample_weights(n_samples: int, *, n_resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """All bootstrap weights at once, shape (n_resamples, n_samples) (see :func:`weight_chunks`)."""
    chunks = weight_chunks(n_samples, n_resamples=n_resamples, seed=seed, chunk=n_resamples)
    return next(chunks)


def resampled_sums(stats: np.ndarray, *, n_resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """Column sums of ``stats`` (n_samples, k) in every resample, shape (n_resamples, k).

    One counts matrix, one matrix product (per block when the counts exceed :data:`MAX_COUNT_CELLS`).
    """
    stats = np.asarray(stats, dtype=float)
    blocks = [w @ stats for w in weight_chunks(stats.shape[0], n_resamples=n_resamples, seed=seed)]
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


def resample_indices(n_samples: int, *, n_resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """The (n_resamples, n_samples) index matrix behind :func:`resample_weights`."""
    _check_sizes(n_samples, n_resamples)
    return np.random.default_rng(seed).integers(0, n_samples, size=(n_resamples, n_samples))


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]


def percentile_interval(resampled: np.ndarray, *, level: float = 0.95) -> Interval | None:
    """Percentile interval of resampled scores (undefined resamples, NaN, are dropped)."""
    values = _finite(resampled)
    if values.size == 0:
        return None
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return Interval(float(low), float(high), level, "percentile")


def bca_interval(resampled: np.ndarray, observed: float, jackknife: np.ndarray, *,
                 level: float = 0.95) -> Interval | None:
    """Bias-corrected and accelerated interval; falls back to percentile when BCa is undefined."""
    values = _finite(resampled)
    jack = _finite(jackknife)
    if values.size == 0 or jack.size < 3:
        return percentile_interval(resampled, level=level)
    share_below = (np.sum(values < observed) + 0.5 * np.sum(values == observed)) / values.size
    if not 0.0 < share_below < 1.0:
        return percentile_interval(resampled, level=level)
    normal = NormalDist()
    z0 = normal.inv_cdf(share_below)
    d = jack.mean() - jack
    denom = 6.0 * (np.sum(d ** 2) ** 1.5)
    accel = float(np.sum(d ** 3) / denom) if denom > 0 else 0.0
    alpha = (1.0 - level) / 2.0
    bounds = []
    for z in (normal.inv_cdf(alpha), normal.inv_cdf(1.0 - alpha)):
        adjusted = normal.cdf(z0 + (z0 + z) / (1.0 - accel * (z0 + z)))
        bounds.append(float(np.quantile(values, min(max(adjusted, 0.0), 1.0))))
    return Interval(bounds[0], bounds[1], level, "bca")


def bootstrap_sums(stats: np.ndarray, score: Callable[[np.ndarray], np.ndarray], *, n_resamples: int = 1000,
                   seed: int = 0, level: float = 0.95, method: str = "bca") -> tuple[Interval | None, np.ndarray]:
    """CI of a metric that is a function of column sums of per-sample ``stats`` (n_samples, k).

    ``score`` maps sums of shape (..., k) to values of shape (...). Returns the interval and the
    resampled values.
    """
    if method not in METHODS:
        raise ValueError(f"The 'method' parameter must be one of {METHODS}. Got {method!r} instead.")
    stats = np.asarray(stats, dtype=float)
    sums = resampled_sums(stats, n_resamples=n_resamples, seed=seed)
    resampled = np.asarray(score(sums), dtype=float)
    if method == "percentile" or stats.shape[0] < 3:
        return percentile_interval(resampled, level=level), resampled
    total = stats.sum(0)
    observed = float(score(total))
    jackknife = np.asarray(score(total[None, :] - stats), dtype=float)
    return bca_interval(resampled, observed, jackknife, level=level), resampled


def paired_bootstrap(stats_a: np.ndarray, stats_b: np.ndarray, score: Callable[[np.ndarray], np.ndarray], *,
                     n_resamples: int = 1000, seed: int = 0, level: float = 0.95) -> dict[str, float]:
    """Paired bootstrap of score(A) - score(B) on the same samples (Koehn 2004; sacrebleu's paired bs).

    Both systems are resampled with the same weights. The p-value is two-sided: the share of
    resampled differences, centred on the observed one, at least as far from zero as observed.
    """
    stats_a, stats_b = np.asarray(stats_a, dtype=float), np.asarray(stats_b, dtype=float)
    if stats_a.shape[0] != stats_b.shape[0]:
        raise ValueError(f"inconsistent numbers of samples: [{stats_a.shape[0]}, {stats_b.shape[0]}]")
    sums = [(w @ stats_a, w @ stats_b) for w in weight_chunks(stats_a.shape[0], n_resamples=n_resamples, seed=seed)]
    diffs = (np.asarray(score(np.concatenate([a for a, _ in sums])), float)
             - np.asarray(score(np.concatenate([b for _, b in sums])), float))
    observed = float(score(stats_a.sum(0)) - score(stats_b.sum(0)))
    diffs = _finite(diffs)
    interval = percentile_interval(diffs, level=level)
    p = float((np.sum(np.abs(diffs - diffs.mean()) >= abs(observed)) + 1) / (diffs.size + 1))
    return {"difference": observed, "ci_low": interval.low if interval else math.nan,
            "ci_high": interval.high if interval else math.nan, "p_value": p, "n_resamples": float(diffs.size)}


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> dict[str, float]:
    """Exact (binomial) McNemar test for paired 0/1 outcomes of two systems on the same samples.

    With b = #(A right, B wrong) and c = #(A wrong, B right), p = min(1, 2 P[X <= min(b, c)]) for
    X ~ Binomial(b + c, 1/2); p = 1 when there is no discordant pair.

    >>> mcnemar_exact([1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0])["p_value"]
    0.0625
    """
    a = np.asarray(correct_a).astype(bool)
    b_ = np.asarray(correct_b).astype(bool)
    if a.shape != b_.shape or a.ndim != 1:
        raise ValueError(f"inconsistent numbers of samples: [{a.size}, {b_.size}]")
    b = int(np.sum(a & ~b_))
    c = int(np.sum(~a & b_))
    n = b + c
    if n == 0:
        return {"b": 0.0, "c": 0.0, "p_value": 1.0}
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0 ** n
    return {"b": float(b), "c": float(c), "p_value": min(1.0, 2.0 * tail)}
