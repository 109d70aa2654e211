"""Corpus-level scores from sample rows: every metric with a bootstrap CI and a signature.

The per-sample side is :func:`sample_row` (re-exported from :mod:`comic_emotion.metrics.samples`);
this module turns a list of rows into numbers. lmms-eval task aggregations call :func:`aggregate`;
``comic-emotion score`` calls :func:`score_rows`. Both run the same code.

Undefined metrics. A metric that does not apply to the data (no intensity gold, no explanation
references, no stated confidences, a single-valued gold column in every class for AUC) has the
value ``None``: JSON ``null`` in the results file and ``N/A`` in lmms-eval's table. It is never
``NaN`` (``json.dumps`` writes ``NaN``, which strict JSON readers reject) and never a made-up 0.
"""

from __future__ import annotations

import hashlib
import math
import pickle
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from comic_emotion.metrics import classification as cls
from comic_emotion.metrics import definitions as d
from comic_emotion.metrics.bootstrap import Interval, bca_interval, percentile_interval, weight_chunks
from comic_emotion.metrics.na import undefined_reason, undefined_reasons
from comic_emotion.metrics.parsing import PARSER_VERSION
from comic_emotion.metrics.registry import CI_SUFFIXES, COVERAGE_FIELDS, DIMENSIONS, METRICS, metric_spec
from comic_emotion.metrics.samples import SCORE_SOURCES, sample_row

from comic_emotion import __version__
from comic_emotion.taxonomy import label_set as get_label_set

__all__ = ["SCORE_SOURCES", "Score", "aggregate", "prepare", "sample_row", "score_rows"]

CI_LEVEL = 0.95

# How each registry metric is computed (:mod:`comic_emotion.metrics.definitions`); its meaning,
# direction and display live in :mod:`comic_emotion.metrics.registry`, the one table of metadata.
_PREPARE: dict[str, Callable[[Sequence[Mapping[str, Any]], tuple[str, ...]], d.Prepared | None]] = {
    "macro_f1": d.prf("macro", score="f1"),
    "micro_f1": d.prf("micro", score="f1"),
    "weighted_f1": d.prf("weighted", score="f1"),
    "macro_precision": d.prf("macro", score="precision"),
    "macro_recall": d.prf("macro", score="recall"),
    "micro_precision": d.prf("micro", score="precision"),
    "micro_recall": d.prf("micro", score="recall"),
    "strict_json_f1": d.prf("macro", score="f1", strict=True),
    "accuracy": d.outcome("jaccard"),
    "exact_match": d.outcome("exact_match"),
    "hamming_loss": d.outcome("hamming"),
    "roc_auc_macro": d.roc_auc_macro,
    "auc_fallback_rate": d.auc_fallback_rate,
    "parse_failure_rate": d.share(lambda r: r["parse_status"] == "failed"),
    "strict_parse_rate": d.share(lambda r: r["parse_status"] == "strict"),
    "lenient_parse_rate": d.share(lambda r: r["parse_status"] == "lenient"),
    "repaired_parse_rate": d.share(lambda r: r["parse_status"] == "repaired"),
    "off_taxonomy_rate": d.share(lambda r: bool(r["off_taxonomy"])),
    "attribution_micro_f1": d.attribution("micro_f1"),
    "attribution_micro_precision": d.attribution("micro_precision"),
    "attribution_micro_recall": d.attribution("micro_recall"),
    "attribution_sample_f1": d.attribution("macro_f1"),
    "speaker_accuracy": d.speaker_accuracy,
    "speaker_ari": d.clustering("ari"),
    "speaker_ami": d.clustering("ami"),
    "speaker_v_measure": d.clustering("v_measure"),
    "ece": d.calibration("ece"),
    "brier": d.calibration("brier"),
    "bleu": d.bleu,
    "rouge1": d.rouge("rouge1"),
    "rouge2": d.rouge("rouge2"),
    "rougeL": d.rouge("rougeL"),
    "answer_bleu": d.text_bleu("answer"),
    "answer_rougeL": d.rouge("rougeL", kind="answer"),
    "answer_exact_match": d.answer_exact_match,
    "utt_macro_f1": d.utterance_prf("macro"),
    "utt_micro_f1": d.utterance_prf("micro"),
    "utt_accuracy": d.utterance_accuracy,
    "utt_slot_mismatch": d.utterance_slot_mismatch,
    **{f"{field}_coverage": d.coverage(field) for field in COVERAGE_FIELDS},
    **{f"{dim}_{which}": d.dimension(dim, which) for dim in DIMENSIONS
       for which in ("mae", "rmse", "pearson", "spearman", "ccc")},
}
if set(_PREPARE) != set(METRICS):  # a metric without a computation, or a computation without metadata
    raise ImportError(f"scoring and registry disagree: {sorted(set(_PREPARE) ^ set(METRICS))}")

@dataclass(frozen=True)
class Score:
    """One corpus-level number with its interval and every setting that changes it."""

    name: str
    value: float | None
    ci: Interval | None
    n: int
    signature: Mapping[str, str] = field(default_factory=dict)

    def signature_string(self) -> str:
        """The signature as sacrebleu prints it (``key:value|...``), short enough for a table cell."""
        return "|".join(f"{k}:{v}" for k, v in self.signature.items())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``comic-emotion score --out``, with the registry's direction for the reader."""
        return {"value": self.value, "ci": self.ci.to_dict() if self.ci else None, "n": self.n,
                "higher_is_better": _direction(self.name),
                "signature": dict(self.signature), "signature_string": self.signature_string()}


def _direction(name: str) -> bool | None:
    """The registry direction of a score's key; ``None`` for a name the registry does not know."""
    try:
        return metric_spec(name).higher_is_better
    except ValueError:
        return None


def _label_set_of(rows: Sequence[Mapping[str, Any]]) -> tuple[str, tuple[str, ...]]:
    if not rows:
        raise ValueError("no sample rows to aggregate")
    names = {row.get("label_set") for row in rows}
    if len(names) != 1:
        raise ValueError(f"sample rows mix label sets {sorted(map(str, names))}; score each task separately")
    name = names.pop()
    return str(name), get_label_set(str(name))


def _check_ids(rows: Sequence[Mapping[str, Any]]) -> None:
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if row.get("id") in seen:
            raise ValueError(f"row {i}: duplicate sample id {row.get('id')!r}")
        seen.add(row.get("id"))


def prepare(metric: str, rows: Sequence[Mapping[str, Any]]) -> d.Prepared | None:
    """The statistics of ``metric`` over ``rows`` (``None`` where it is undefined)."""
    return _prepare(metric, rows, _label_set_of(rows)[1])


def _prepare(metric: str, rows: Sequence[Mapping[str, Any]], labels: tuple[str, ...], *,
             reasons: Mapping[str, str] | None = None) -> d.Prepared | None:
    if metric not in _PREPARE:
        raise ValueError(f"unknown metric {metric!r}; known: {', '.join(sorted(_PREPARE))}")
    if not labels and (METRICS[metric].group in ("classification", "calibration", "utterance")
                       or metric == "off_taxonomy_rate"):
        return None  # a task without emotion labels (speaker links, VQA)
    if (undefined_reason(metric, rows) if reasons is None else reasons.get(metric)) is not None:
        return None
    return _PREPARE[metric](rows, labels)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _intervals(prepared: Mapping[str, d.Prepared], *, seed: int, n_resamples: int) -> dict[str, Interval | None]:
    """Bootstrap intervals of several metrics over the same rows, in one pass over the resamples.

    All metrics see the same resamples (same seed), so the weights are drawn once; BCa where the
    metric is a function of sums and cheap to jackknife, percentile otherwise.
    """
    out: dict[str, Interval | None] = {name: None for name in prepared}
    live = {name: p for name, p in prepared.items() if p.stats.shape[0] >= 2 and n_resamples >= 1
            and "ci" not in (p.signature or {})}
    if not live:
        return out
    n = next(iter(live.values())).stats.shape[0]
    if any(p.stats.shape[0] != n for p in live.values()):
        # Metrics over different subsets of rows (e.g. only rows with intensity gold): one pass per size.
        for size in sorted({p.stats.shape[0] for p in live.values()}):
            subset = {k: p for k, p in live.items() if p.stats.shape[0] == size}
            out.update(_intervals(subset, seed=seed, n_resamples=n_resamples))
        return out
    # Many metrics share one statistics matrix (all P/R/F1 variants use the same counts): multiply once.
    shared: dict[tuple, np.ndarray] = {}
    key_of = {}
    for name, p in live.items():
        if p.from_sums is not None:
            key = (p.stats.shape, hashlib.sha1(np.ascontiguousarray(p.stats).tobytes()).hexdigest())
            shared.setdefault(key, p.stats)
            key_of[name] = key
    # Integer-valued statistics (counts, 0/1 outcomes) go into one matrix, so the weights are read once
    # per block instead of once per statistics matrix: integer sums are exact in any order, so the
    # values are the same. Fractional ones (ROUGE, moments) keep their own product.
    exact = [key for key, stats in shared.items() if np.array_equal(stats, np.rint(stats))]
    columns = np.cumsum([0] + [shared[key].shape[1] for key in exact])
    combined = np.concatenate([shared[key] for key in exact], axis=1) if exact else None
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in live}
    for weights in weight_chunks(n, n_resamples=n_resamples, seed=seed):
        sums = {key: weights @ stats for key, stats in shared.items() if key not in exact}
        if combined is not None:
            product = weights @ combined
            sums.update({key: product[:, columns[i]:columns[i + 1]] for i, key in enumerate(exact)})
        for name, p in live.items():
            chunks[name].append(p.from_sums(sums[key_of[name]]) if p.from_sums is not None else p.from_weights(weights))
    for name, p in live.items():
        resampled = np.concatenate(chunks[name])
        if p.from_sums is not None and p.bca:
            total = p.stats.sum(0)
            jackknife = np.asarray(p.from_sums(total[None, :] - p.stats), dtype=float)
            out[name] = bca_interval(resampled, float(p.from_sums(total)), jackknife, level=CI_LEVEL)
        else:
            out[name] = percentile_interval(resampled, level=CI_LEVEL)
    return out


def _score(metric: str, name: str, prepared: d.Prepared | None, ci: Interval | None, *, seed: int,
           n_resamples: int, reason: str | None = None) -> Score:

    signature = {"metric": metric, "label_set": name, "parser": PARSER_VERSION}
    if prepared is None:
        return Score(metric, None, None, 0, {**signature, "undefined": reason or "no applicable samples",
                                             "version": __version__})
    value = _finite_or_none(prepared.value())
    ci = ci if value is not None else None
    signature.update(prepared.signature or {})
    signature.update({"bs": str(n_resamples), "seed": str(seed), "ci": f"{ci.method}{CI_LEVEL:g}" if ci else "none",
                      "version": __version__})
    return Score(metric, value, ci, int(prepared.stats.shape[0]), signature)


def score_metric(metric: str, rows: Sequence[Mapping[str, Any]], *, seed: int = 0,
                 n_resamples: int = 1000) -> Score:
    """One :class:`Score` (value, CI, signature) of ``metric`` over ``rows``."""
    return score_rows(rows, seed=seed, n_resamples=n_resamples, metrics=[metric], per_class=False)[metric]


# lmms-eval calls one aggregation function per metric key, so ``<metric>_ci_low`` and ``<metric>_ci_high``
# arrive one after the other with equal rows: the interval is computed for the first and served from
# here for the second, instead of rerunning the bootstrap. The key is the exact content of the rows
# (plus metric, seed, resample count), and the interval is a deterministic function of exactly that,
# so a hit returns what recomputing would; other tasks or reruns with other rows simply miss.
_CI_CACHE: OrderedDict[tuple[str, int, int, str], Interval | None] = OrderedDict()
_CI_CACHE_SIZE = 64


def _rows_digest(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """BLAKE2b of the rows' pickle (``None`` if they do not pickle: then nothing is cached).

    A pickle is a faithful serialisation, so different rows never share a digest; equal rows built
    differently (key order, shared objects) may get two digests, which only costs a recomputation.
    Pickling is ~2.5x faster than canonical JSON on 10,000 rows (0.1 s vs 0.28 s), and the digest is
    computed for both bounds, so its cost counts twice against the one bootstrap saved.
    """
    try:
        data = pickle.dumps(list(rows), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - any unpicklable value: compute without the cache
        return None
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def _cached_interval(metric: str, rows: Sequence[Mapping[str, Any]], *, seed: int,
                     n_resamples: int) -> Interval | None:
    """The bootstrap interval of ``metric`` over ``rows``, computed once per distinct (rows, metric, seed, n)."""
    digest = _rows_digest(rows)
    if digest is None:
        return score_metric(metric, rows, seed=seed, n_resamples=n_resamples).ci
    key = (metric, seed, n_resamples, digest)
    if key in _CI_CACHE:
        _CI_CACHE.move_to_end(key)
        return _CI_CACHE[key]
    ci = score_metric(metric, rows, seed=seed, n_resamples=n_resamples).ci
    _CI_CACHE[key] = ci
    while len(_CI_CACHE) > _CI_CACHE_SIZE:
        _CI_CACHE.popitem(last=False)
    return ci


def aggregate(metric: str, rows: Sequence[Mapping[str, Any]], *, seed: int = 0,
              n_resamples: int = 1000) -> float | None:
    """One corpus-level number from rows, for lmms-eval aggregation functions.

    ``metric`` may end in ``_ci_low`` / ``_ci_high`` to get the bounds of the 95 % bootstrap
    interval of the base metric. Returns ``None`` (JSON ``null``) where the metric is undefined.
    """
    for suffix in CI_SUFFIXES:
        if metric.endswith(suffix):
            ci = _cached_interval(metric[: -len(suffix)], rows, seed=seed, n_resamples=n_resamples)
            if ci is None:
                return None
            return ci.low if suffix == "_ci_low" else ci.high
    prepared = prepare(metric, rows)
    return None if prepared is None else _finite_or_none(prepared.value())


NO_SUPPORT = "no support: the label occurs in neither gold nor prediction (left out of macro averages)"


def _per_class(rows: Sequence[Mapping[str, Any]], labels: tuple[str, ...]) -> dict[str, d.Prepared | None]:
    """F1 and ROC-AUC of every label (keys ``f1/<label>``, ``roc_auc/<label>``).

    Every label keeps its row: a label occurring in neither gold nor prediction has F1 ``None``
    (reason :data:`NO_SUPPORT`, and it is left out of the macro averages); the signature of every
    label's F1 gives its gold support.
    """
    y_true, scores, sig = d._auc_inputs(rows, labels)
    y_pred = cls.label_matrix([r["pred"] for r in rows], labels, what="pred")
    out: dict[str, d.Prepared | None] = {}
    for j, label in enumerate(labels):
        if not (y_true[:, j].any() or y_pred[:, j].any()):
            out[f"f1/{label}"] = None
            continue
        f1 = d.per_class_f1(rows, labels, j)
        out[f"f1/{label}"] = d.Prepared(f1.stats, f1.from_sums, signature={
            "average": "binary", "support": str(int(y_true[:, j].sum())), "predicted": str(int(y_pred[:, j].sum()))})
    # Per-label AUC without a CI: its bootstrap would repeat the one of roc_auc_macro, the headline.
    for label, auc in zip(labels, cls.roc_auc_per_class(y_true, scores)):
        out[f"roc_auc/{label}"] = None if auc is None else d.Prepared(
            np.zeros((len(rows), 0)), signature={**sig, "ci": "not computed (see roc_auc_macro)"},
            from_weights=lambda w, v=auc: np.full(w.shape[0], v))
    return out


def score_rows(rows: Sequence[Mapping[str, Any]], *, seed: int = 0, n_resamples: int = 1000,
               metrics: Sequence[str] | None = None, per_class: bool = True) -> dict[str, Score]:
    """Every metric (or those named), plus per-label F1 and ROC-AUC, each with its CI and signature.

    Rows are put in sample-id order first, so values *and* bootstrap intervals depend on the set
    of samples only: lmms-eval gathers rows rank by rank under ``accelerate launch``, in another
    order than one process produces.
    """
    name, labels = _label_set_of(rows)
    _check_ids(rows)
    rows = sorted(rows, key=lambda row: str(row.get("id")))
    reasons = undefined_reasons(rows)
    prepared = {m: _prepare(m, rows, labels, reasons=reasons) for m in (metrics or METRICS)}
    if per_class:
        prepared.update(_per_class(rows, labels))
    defined = {k: p for k, p in prepared.items() if p is not None and math.isfinite(p.value())}
    cis = _intervals(defined, seed=seed, n_resamples=n_resamples)
    return {k: _score(k, name, p, cis.get(k), seed=seed, n_resamples=n_resamples,
                      reason=reasons.get(k) if k in METRICS else NO_SUPPORT if k.startswith("f1/") else None)
            for k, p in prepared.items()}


def rows_to_arrays(rows: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """Gold/pred indicator matrices and scores of rows (for callers comparing with other libraries)."""
    _, labels = _label_set_of(rows)
    return {"y_true": cls.label_matrix([r["gold"] for r in rows], labels),
            "y_pred": cls.label_matrix([r["pred"] for r in rows], labels),
            "scores": np.asarray([r["scores"] for r in rows], dtype=float)}
