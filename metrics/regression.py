"""Agreement of predicted and gold intensities (and valence/arousal): MAE, RMSE, Pearson, Spearman, CCC.

Each metric is a function of column sums of per-sample statistics (:func:`moment_stats`), so the
bootstrap resamples them with one matrix product; Spearman re-ranks within each resample with
weighted mid-ranks (duplicated samples tie), which equals ``scipy.stats.spearmanr`` on the
resampled arrays.

CCC is Lin's concordance correlation coefficient (Lin 1989) with population (1/n) moments:
``2 cov(x, y) / (var x + var y + (mean x - mean y)^2)``. A correlation is undefined (NaN) when
either side is constant.
"""

from __future__ import annotations

import numpy as np

_N, _X, _Y, _XX, _YY, _XY, _ABS, _SQ, _ERR = range(9)


def moment_stats(gold: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Per-sample (1, x, y, x^2, y^2, xy, |e|, e^2, e) with x, y centred on the gold/pred means, e = pred - gold.

    Centring (cov is shift-invariant) keeps the moment formulas accurate to ~1e-15.
    """
    gold, pred = np.asarray(gold, dtype=float), np.asarray(pred, dtype=float)
    if gold.shape != pred.shape or gold.ndim != 1:
        raise ValueError(f"inconsistent numbers of samples: [{gold.size}, {pred.size}]")
    if gold.size == 0:
        raise ValueError("no samples with both a gold and a predicted value")
    if not (np.isfinite(gold).all() and np.isfinite(pred).all()):
        raise ValueError("gold and predicted values must be finite numbers")
    err = pred - gold
    x, y = gold - gold.mean(), pred - pred.mean()
    return np.stack([np.ones_like(x), x, y, x * x, y * y, x * y, np.abs(err), err * err, err], axis=1)


def _moments(s: np.ndarray):
    n = s[..., _N]
    mx, my = s[..., _X] / n, s[..., _Y] / n
    vx, vy = s[..., _XX] / n - mx ** 2, s[..., _YY] / n - my ** 2
    return mx, my, vx, vy, s[..., _XY] / n - mx * my


def mae_from_sums(s: np.ndarray) -> np.ndarray:
    """Mean absolute error from summed moment statistics (any leading shape: one value per resample)."""
    return s[..., _ABS] / s[..., _N]


def rmse_from_sums(s: np.ndarray) -> np.ndarray:
    """Root mean squared error from summed moment statistics; penalises the rare large miss more than MAE."""
    return np.sqrt(s[..., _SQ] / s[..., _N])


def pearson_from_sums(s: np.ndarray) -> np.ndarray:
    """Pearson correlation from summed moments; NaN when gold or prediction is constant (undefined, not 0)."""
    _, _, vx, vy, cov = _moments(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((vx > 1e-15) & (vy > 1e-15), cov / np.sqrt(np.abs(vx * vy)), np.nan)


def ccc_from_sums(s: np.ndarray) -> np.ndarray:
    """Lin's concordance correlation from summed moments.

    Unlike Pearson, a constant offset or scale between prediction and gold lowers it: it measures
    agreement on the gold's own scale, not only association.
    """
    _, _, vx, vy, cov = _moments(s)
    # The centred columns lose the offset between the means, so the mean difference comes from e.
    mean_err = s[..., _ERR] / s[..., _N]
    denom = vx + vy + mean_err ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 1e-15, 2 * cov / denom, np.nan)


def _weighted_ranks(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mid-ranks of every sample within each weighted resample, shape (n_resamples, n)."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    group = np.empty(values.size, dtype=int)
    group[order] = np.cumsum(np.r_[True, sorted_values[1:] != sorted_values[:-1]]) - 1
    counts = np.add.reduceat(weights[:, order], starts, axis=1)
    ranks = np.cumsum(counts, axis=1) - counts + (counts + 1) / 2.0
    return ranks[:, group]


def weighted_spearman(gold: np.ndarray, pred: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Spearman's rho of each weighted resample (weights: (n_resamples, n) integer counts)."""
    gold, pred = np.asarray(gold, dtype=float), np.asarray(pred, dtype=float)
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    rx, ry = _weighted_ranks(gold, weights), _weighted_ranks(pred, weights)
    total = weights.sum(1, keepdims=True)
    mx = (weights * rx).sum(1, keepdims=True) / total
    my = (weights * ry).sum(1, keepdims=True) / total
    cov = (weights * (rx - mx) * (ry - my)).sum(1)
    vx = (weights * (rx - mx) ** 2).sum(1)
    vy = (weights * (ry - my) ** 2).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((vx > 1e-12) & (vy > 1e-12), cov / np.sqrt(vx * vy), np.nan)
