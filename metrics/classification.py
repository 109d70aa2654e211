"""Single- and multi-label classification metrics over label-indicator matrices.

One counting core (:func:`confusion_counts`: per-sample true positives, false positives and false
negatives per class) carries every precision/recall/F1 variant, so a bootstrap only has to resample
sums of rows (see :mod:`comic_emotion.metrics.bootstrap`). Results equal scikit-learn's
``precision_recall_fscore_support`` (tests check it on random inputs), and ``roc_auc_score`` per class.

Which labels a macro average covers: the labels that *occur* in the gold or the prediction of the
scored samples, as scikit-learn's ``f1_score`` does for multiclass input when ``labels=`` is not
given (for indicator matrices that is ``labels=`` the occurring columns). A label the scored
samples never mention (no gold, no prediction: e.g. ``Neutral`` on EmoComics35's test split, or any
rare label under ``--limit 5``) has no F1 to average; counting it as 0 would cap a perfect answer
below 1. The rule is applied to the summed counts, so every bootstrap resample averages over the
labels that occur in *that* resample. With no label occurring at all the macro average is
undefined (NaN, reported as ``None``).

Conventions (as scikit-learn): a class that occurs but has no predicted (or no true) sample has
precision (or recall) ``zero_division``; ``weighted`` averages weight classes by their true support
(the plain mean when no class has any true sample).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

AVERAGES = ("macro", "micro", "weighted", None)
# Up to this many distinct scores in a class, weighted_auc sums per score by one matrix product.
_DENSE_SCORES = 32


def label_matrix(label_lists: Sequence[Sequence[str]], labels: Sequence[str], *, what: str = "labels") -> np.ndarray:
    """Encode label lists as a boolean (n_samples, n_labels) matrix in ``labels`` order.

    Raises
    ------
    ValueError
        If a label is not in ``labels``; the message names the sample index.
    """
    index = {label: j for j, label in enumerate(labels)}
    out = np.zeros((len(label_lists), len(labels)), dtype=bool)
    for i, sample in enumerate(label_lists):
        for label in sample:
            j = index.get(label)
            if j is None:
                raise ValueError(f"{what}[{i}]: label {label!r} is not in the label set ({', '.join(labels)})")
            out[i, j] = True
    return out


def _check_pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool)
    if y_true.ndim != 2 or y_pred.ndim != 2:
        raise ValueError(f"expected 2-d label-indicator matrices, got shapes {y_true.shape} and {y_pred.shape}")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"inconsistent shapes of y_true and y_pred: {list(y_true.shape)} and {list(y_pred.shape)}")
    if y_true.shape[0] == 0:
        raise ValueError("no samples: y_true and y_pred are empty")
    return y_true, y_pred


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per-sample counts, shape (n_samples, 3, n_labels): true positives, false positives, false negatives."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    return np.stack([y_true & y_pred, ~y_true & y_pred, y_true & ~y_pred], axis=1).astype(np.float64)


def _divide(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), zero_division)


# The order of :func:`prf_from_counts`' result and of :func:`sample_outcomes`' columns, so callers
# pick a score by name (``PRF_SCORES.index("f1")``) rather than by a bare position.
PRF_SCORES: tuple[str, str, str] = ("precision", "recall", "f1")
OUTCOMES: tuple[str, str, str] = ("exact_match", "jaccard", "hamming")


def prf_from_counts(counts: np.ndarray, *, average: str | None = "macro",
                    zero_division: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 from summed counts of shape (..., 3, n_labels).

    Works on any leading shape, so one call scores every bootstrap resample at once.

    Parameters
    ----------
    counts
        Summed (tp, fp, fn) per class, e.g. ``confusion_counts(...).sum(0)``.
    average
        ``"macro"`` (unweighted mean over the classes that occur: tp + fp + fn > 0 in those counts;
        NaN when none does), ``"micro"`` (pool counts), ``"weighted"`` (mean weighted by true
        support) or ``None`` (per class, every class; :func:`occurring` says which occur).
    zero_division
        Value where a denominator is zero (scikit-learn's parameter of the same name).
    """
    if average not in AVERAGES:
        raise ValueError(f"The 'average' parameter must be one of {AVERAGES}. Got {average!r} instead.")
    tp, fp, fn = counts[..., 0, :], counts[..., 1, :], counts[..., 2, :]
    if average == "micro":
        tp, fp, fn = tp.sum(-1), fp.sum(-1), fn.sum(-1)
    precision = _divide(tp, tp + fp, zero_division)
    recall = _divide(tp, tp + fn, zero_division)
    f1 = _divide(2 * tp, 2 * tp + fp + fn, zero_division)
    if average == "macro":
        present = occurring(counts)
        n_present = present.sum(-1)

        def mean(v: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(n_present > 0, np.where(present, v, 0.0).sum(-1) / np.maximum(n_present, 1), np.nan)
        return mean(precision), mean(recall), mean(f1)
    if average == "weighted":
        support = tp + fn
        total = support.sum(-1)

        def weigh(v: np.ndarray) -> np.ndarray:
            # As scikit-learn: with no true sample at all the weights are dropped (plain mean).
            return np.where(total > 0, _divide((v * support).sum(-1), total, zero_division), v.mean(-1))
        return weigh(precision), weigh(recall), weigh(f1)
    return precision, recall, f1


def occurring(counts: np.ndarray) -> np.ndarray:
    """Which classes occur in summed counts (..., 3, n_labels): in the gold or the prediction (tp + fp + fn > 0)."""
    return (counts[..., 0, :] + counts[..., 1, :] + counts[..., 2, :]) > 0


def _prf_score(y_true: np.ndarray, y_pred: np.ndarray, score: str, *, average: str | None,
               zero_division: float) -> float | np.ndarray:
    """The one counting core of the three wrappers below: ``score`` (a :data:`PRF_SCORES` name) of the pooled counts."""
    result = prf_from_counts(confusion_counts(y_true, y_pred).sum(0), average=average,
                             zero_division=zero_division)[PRF_SCORES.index(score)]
    return float(result) if np.ndim(result) == 0 else result


def f1_score(y_true: np.ndarray, y_pred: np.ndarray, *, average: str | None = "macro",
             zero_division: float = 0.0) -> float | np.ndarray:
    """F1 = 2 TP / (2 TP + FP + FN), averaged as ``average`` says (macro: over the labels that occur).

    >>> import numpy as np
    >>> f1_score(np.array([[1, 0], [0, 1]]), np.array([[1, 0], [1, 0]]))
    0.3333333333333333
    >>> f1_score(np.array([[1, 0, 0]]), np.array([[1, 0, 0]]))  # labels 2 and 3 never occur
    1.0
    """
    return _prf_score(y_true, y_pred, "f1", average=average, zero_division=zero_division)


def precision_score(y_true: np.ndarray, y_pred: np.ndarray, *, average: str | None = "macro",
                    zero_division: float = 0.0) -> float | np.ndarray:
    """Precision = TP / (TP + FP), averaged as ``average`` says."""
    return _prf_score(y_true, y_pred, "precision", average=average, zero_division=zero_division)


def recall_score(y_true: np.ndarray, y_pred: np.ndarray, *, average: str | None = "macro",
                 zero_division: float = 0.0) -> float | np.ndarray:
    """Recall = TP / (TP + FN), averaged as ``average`` says."""
    return _prf_score(y_true, y_pred, "recall", average=average, zero_division=zero_division)


def sample_outcomes(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per-sample (exact match, Jaccard, Hamming errors / n_labels), shape (n_samples, 3).

    Jaccard of two empty sets is 1 (both say "no emotion"), scikit-learn's ``zero_division=1``.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    inter = (y_true & y_pred).sum(1)
    union = (y_true | y_pred).sum(1)
    exact = (y_true == y_pred).all(1)
    jaccard = _divide(inter.astype(float), union.astype(float), 1.0)
    hamming = (y_true != y_pred).sum(1) / y_true.shape[1]
    return np.stack([exact.astype(float), jaccard, hamming], axis=1)


def exact_match(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Subset accuracy: the share of samples whose predicted label set equals the gold one."""
    return float(sample_outcomes(y_true, y_pred)[:, OUTCOMES.index("exact_match")].mean())


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Multi-label accuracy (Godbole & Sarawagi 2004): mean over samples of |gold ∩ pred| / |gold ∪ pred|.

    Equals ordinary accuracy when every gold and predicted set has exactly one label.
    """
    return float(sample_outcomes(y_true, y_pred)[:, OUTCOMES.index("jaccard")].mean())


def hamming_loss(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of (sample, label) cells where gold and prediction disagree."""
    return float(sample_outcomes(y_true, y_pred)[:, OUTCOMES.index("hamming")].mean())


def roc_auc_per_class(y_true: np.ndarray, scores: np.ndarray) -> list[float | None]:
    """ROC-AUC of each class (one-vs-rest), ``None`` where the gold column has a single value.

    scikit-learn's ``roc_auc_score`` warns and returns ``nan`` for such a class (1.9); we return
    ``None`` and leave the class out of the mean (the EmoRecCom metric is the mean over classes).
    """
    y_true = np.asarray(y_true, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    if y_true.shape != scores.shape or y_true.ndim != 2:
        raise ValueError(f"inconsistent shapes of y_true and scores: {list(y_true.shape)} and {list(scores.shape)}")
    weights = np.ones((1, y_true.shape[0]))
    return [None if v is None else float(v[0]) for v in weighted_auc(y_true, scores, weights)]


def weighted_auc(y_true: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> list[np.ndarray | None]:
    """Per-class ROC-AUC for each row of sample ``weights`` (n_resamples, n_samples), ties counted half.

    AUC = P(score of a positive > score of a negative) + 0.5 P(tie) (Mann-Whitney), computed from
    weighted counts of positives and negatives per distinct score, so a bootstrap resample (integer
    weights) needs no re-sorting. ``None`` for a class whose gold column has a single value.
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    groups: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = []
    for j in range(y_true.shape[1]):
        pos = y_true[:, j]
        if pos.all() or not pos.any():
            groups.append(None)
            continue
        order = np.argsort(scores[:, j], kind="stable")
        sorted_scores = scores[order, j]
        starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
        groups.append((order, starts, pos[order]))
    # Few distinct scores (0/1 indicators, stated confidences): the per-score sums of every class are
    # one matrix product with a 0/1 membership matrix, instead of gathering the weights per class;
    # with integer weights both sum exactly, so the results are the same.
    dense = [j for j, g in enumerate(groups) if g is not None and len(g[1]) <= _DENSE_SCORES]
    sums: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if dense:
        widths = [len(groups[j][1]) for j in dense]
        membership = np.zeros((weights.shape[1], 2 * sum(widths)))
        column = 0
        for j, width in zip(dense, widths):
            order, starts, pos_sorted = groups[j]
            first = np.zeros(len(order), dtype=bool)
            first[starts] = True
            group_of = np.cumsum(first) - 1  # the distinct score of each sorted sample
            membership[order, column + group_of] = 1.0
            membership[order[pos_sorted], column + width + group_of[pos_sorted]] = 1.0
            column += 2 * width
        product = weights @ membership
        column = 0
        for j, width in zip(dense, widths):
            sums[j] = product[:, column:column + width], product[:, column + width:column + 2 * width]
            column += 2 * width
    out: list[np.ndarray | None] = []
    for j, g in enumerate(groups):
        if g is None:
            out.append(None)
            continue
        if j in sums:
            both, p = sums[j]
        else:
            order, starts, pos_sorted = g
            w = weights[:, order]
            both = np.add.reduceat(w, starts, axis=1)
            p = np.add.reduceat(w * pos_sorted, starts, axis=1)
        neg = both - p
        below = np.cumsum(neg, axis=1) - neg
        total = p.sum(1) * neg.sum(1)
        with np.errstate(divide="ignore", invalid="ignore"):
            auc = (p * (below + 0.5 * neg)).sum(1) / total
        out.append(np.where(total > 0, auc, np.nan))
    return out


def mean_roc_auc(y_true: np.ndarray, y_score: np.ndarray, *, labels: Sequence[str], exclude: Sequence[str] = (),
                 single_class: str = "error") -> dict[str, Any]:
    """EmoRecCom's official metric: the mean over classes of the per-class ROC-AUC.

    The challenge scored submissions with scikit-learn's ``roc_auc_score`` per class, so this calls
    it (rather than :func:`roc_auc_per_class`, whose Mann-Whitney sums agree only to ~1e-15) and
    published numbers are reproduced bit for bit. Unlike ``roc_auc_macro``, which skips single-valued
    classes silently, a single-valued class is an error unless ``single_class="ignore"``: a
    submission scored on a split where a class never occurs is not the official number.

    Parameters
    ----------
    y_true : array of shape (n, k)
        Gold 0/1 labels, columns in the order of ``labels``.
    y_score : array of shape (n, k)
        Scores, same order.
    labels
        The class names, one per column (the ``emorecom`` label set for the challenge).
    exclude
        Classes left out of the mean. The official metric excludes none; ``("other",)`` gives the
        7-class variant found in some teams' code.
    single_class
        What to do when a class has only positives or only negatives in ``y_true`` (its ROC-AUC is
        undefined): ``"error"`` (default) raises ``ValueError`` naming the class; ``"ignore"``
        reports the class as ``nan`` and averages the others, listing it under ``undefined``.

    Returns
    -------
    dict
        ``{"mean_roc_auc", "per_class": {label: auc}, "classes": averaged labels, "undefined": [...],
        "excluded": [...]}``.
    """
    from sklearn.metrics import roc_auc_score  # lazy: scikit-learn costs ~0.5 s to import

    if single_class not in ("error", "ignore"):
        raise ValueError(f"The 'single_class' parameter must be 'error' or 'ignore'. Got {single_class!r} instead.")
    labels = list(labels)
    unknown = [label for label in exclude if label not in labels]
    if unknown:
        raise ValueError(f"cannot exclude unknown class(es) {unknown}; classes: {', '.join(labels)}")
    y_true, y_score = np.asarray(y_true), np.asarray(y_score, dtype=float)
    if y_true.shape != y_score.shape or y_true.ndim != 2 or y_true.shape[1] != len(labels):
        raise ValueError(f"y_true and y_score must both have shape (n, {len(labels)}); "
                         f"got {y_true.shape} and {y_score.shape}")
    per_class: dict[str, float] = {}
    undefined: list[str] = []
    for j, label in enumerate(labels):
        if label in exclude:
            continue
        if len(np.unique(y_true[:, j])) < 2:
            if single_class == "error":
                raise ValueError(f"class {label!r} has only one value ({int(y_true[0, j]) if len(y_true) else '-'}) "
                                 "in y_true: its ROC-AUC is undefined; pass single_class='ignore' to average the "
                                 "other classes")
            per_class[label] = float("nan")
            undefined.append(label)
            continue
        per_class[label] = float(roc_auc_score(y_true[:, j], y_score[:, j]))
    averaged = [label for label in per_class if label not in undefined]
    if not averaged:
        raise ValueError("no class has both positive and negative examples: the mean ROC-AUC is undefined")
    return {"mean_roc_auc": float(np.mean([per_class[label] for label in averaged])), "per_class": per_class,
            "classes": averaged, "undefined": undefined, "excluded": list(exclude)}
