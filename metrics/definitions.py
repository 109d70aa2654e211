"""How each metric is computed from sample rows: per-sample statistics plus a score of their sums.

A :class:`Prepared` metric holds an (n, k) statistics matrix over the rows it applies to and a
function of column sums (vectorised over leading axes), or, for rank-based metrics, a function of
resampling weights. ``None`` means the metric is undefined for these rows (e.g. no intensity gold).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import numpy as np
from comic_emotion.metrics import classification as cls
from comic_emotion.metrics import regression as reg
from comic_emotion.metrics import text

ECE_BINS = 10


@dataclass(frozen=True)
class Prepared:
    """Statistics of one metric over the rows it applies to."""

    stats: np.ndarray
    from_sums: Callable[[np.ndarray], np.ndarray] | None = None
    from_weights: Callable[[np.ndarray], np.ndarray] | None = None
    signature: Mapping[str, str] | None = None
    # BCa needs one score per left-out sample; too slow where the score is a Python loop (BLEU).
    bca: bool = True

    def value(self) -> float:
        """The metric on all rows: the score of the column sums, or of all-ones weights for rank metrics."""
        if self.from_sums is not None:
            return float(self.from_sums(self.stats.sum(0)))
        return float(self.from_weights(np.ones((1, self.stats.shape[0])))[0])


Rows = Sequence[Mapping[str, Any]]


def _matrices(rows: Rows, labels: tuple[str, ...], *, strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
    y_true = cls.label_matrix([r["gold"] for r in rows], labels, what="gold")
    y_pred = cls.label_matrix([r["pred"] if not strict or r["parse_status"] == "strict" else []
                               for r in rows], labels, what="pred")
    return y_true, y_pred


def _choice(parameter: str, value: str, allowed: Sequence[str]) -> int:
    """Position of ``value`` in ``allowed``, or sklearn's expected-vs-got error."""
    if value not in allowed:
        raise ValueError(f"The {parameter!r} parameter must be one of {tuple(allowed)}. Got {value!r} instead.")
    return list(allowed).index(value)


def prf(average: str, *, score: str = "f1", strict: bool = False) -> Callable[[Rows, tuple[str, ...]], Prepared]:
    """Precision, recall or F1 (``score``) of the page labels, averaged as ``average`` says.

    One counting core (tp/fp/fn per label per sample) serves all nine P/R/F1 variants, so their
    bootstrap shares one statistics matrix; ``strict`` scores non-JSON answers as empty predictions.
    """
    which = _choice("score", score, cls.PRF_SCORES)

    def prepare(rows: Rows, labels: tuple[str, ...]) -> Prepared:
        counts = cls.confusion_counts(*_matrices(rows, labels, strict=strict)).reshape(len(rows), -1)
        k = len(labels)
        return Prepared(counts, lambda s: cls.prf_from_counts(s.reshape(*s.shape[:-1], 3, k), average=average)[which],
                        signature={"average": average, "zero_division": "0", "parse": "strict" if strict else "any"})
    return prepare


def per_class_f1(rows: Rows, labels: tuple[str, ...], j: int) -> Prepared:
    """Binary F1 of label ``j`` alone (the per-label rows of ``comic-emotion score``)."""
    counts = cls.confusion_counts(*_matrices(rows, labels)).reshape(len(rows), -1)
    k = len(labels)
    f1 = cls.PRF_SCORES.index("f1")
    return Prepared(counts, lambda s: cls.prf_from_counts(s.reshape(*s.shape[:-1], 3, k), average=None)[f1][..., j])


def outcome(kind: str) -> Callable[[Rows, tuple[str, ...]], Prepared]:
    """Mean per-sample outcome ``kind`` (``exact_match``, ``jaccard`` = accuracy, ``hamming`` = loss).

    Each sample contributes one number, so the statistics are (outcome, 1) and the score is their ratio.
    """
    which = _choice("kind", kind, cls.OUTCOMES)

    def prepare(rows: Rows, labels: tuple[str, ...]) -> Prepared:
        values = cls.sample_outcomes(*_matrices(rows, labels))[:, which]
        return Prepared(np.stack([values, np.ones_like(values)], 1), lambda s: s[..., 0] / s[..., 1])
    return prepare


def _auc_inputs(rows: Rows, labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    y_true = cls.label_matrix([r["gold"] for r in rows], labels, what="gold")
    scores = np.asarray([r["scores"] for r in rows], dtype=float)
    sources = {s: sum(r["score_source"] == s for r in rows) for s in ("confidence", "loglikelihood", "indicator")}
    skipped = [labels[j] for j in range(len(labels)) if y_true[:, j].all() or not y_true[:, j].any()]
    sig = {"scores": ",".join(f"{k}={v}" for k, v in sources.items()), "single_class_skipped": "+".join(skipped) or "none"}
    return y_true, scores, sig


def roc_auc_macro(rows: Rows, labels: tuple[str, ...]) -> Prepared | None:
    """Mean per-label ROC-AUC over labels with both gold values, as a function of resampling weights.

    AUC is rank-based, not a function of sums, so the bootstrap reweights samples instead of
    resumming statistics; the signature counts where the scores came from (stated confidences,
    log-likelihoods, or the 0/1 fallback, which makes AUC a coarse number).
    """
    y_true, scores, sig = _auc_inputs(rows, labels)
    if all(y_true[:, j].all() or not y_true[:, j].any() for j in range(len(labels))):
        return None  # no class has both gold values (or the label set is empty)

    def from_weights(weights: np.ndarray) -> np.ndarray:
        per_class = [v for v in cls.weighted_auc(y_true, scores, weights) if v is not None]
        return np.mean(np.stack(per_class), axis=0)
    return Prepared(np.zeros((len(rows), 0)), from_weights=from_weights, signature=sig)


def auc_fallback_rate(rows: Rows, labels: tuple[str, ...]) -> Prepared:
    """Share of rows whose AUC scores are the 0/1 indicator, so a reader knows how coarse ``roc_auc_macro`` is."""
    return _share(rows, lambda r: r["score_source"] == "indicator")


def _share(rows: Rows, predicate: Callable[[Mapping[str, Any]], bool]) -> Prepared:
    hits = np.asarray([1.0 if predicate(r) else 0.0 for r in rows])
    return Prepared(np.stack([hits, np.ones_like(hits)], 1), lambda s: s[..., 0] / s[..., 1])


def share(predicate: Callable[[Mapping[str, Any]], bool]) -> Callable[[Rows, tuple[str, ...]], Prepared]:
    """A rate over all rows (parse failures, off-taxonomy answers): each row is a 0/1 hit and a count of 1."""
    return lambda rows, labels: _share(rows, predicate)


def dimension(name: str, which: str) -> Callable[[Rows, tuple[str, ...]], Prepared | None]:
    """MAE/RMSE/Pearson/Spearman/CCC of ``name`` (intensity, valence, arousal) over rows with gold and prediction."""
    def prepare(rows: Rows, labels: tuple[str, ...]) -> Prepared | None:
        pairs = [(r[f"{name}_gold"], r[f"{name}_pred"]) for r in rows
                 if r.get(f"{name}_gold") is not None and r.get(f"{name}_pred") is not None]
        if which == "coverage":
            annotated = [r for r in rows if r.get(f"{name}_gold") is not None]
            return _share(annotated, lambda r: r[f"{name}_pred"] is not None) if annotated else None
        if len(pairs) < (1 if which in ("mae", "rmse") else 2):
            return None
        gold, pred = np.asarray(pairs, dtype=float).T
        stats = reg.moment_stats(gold, pred)
        if which == "spearman":
            return Prepared(stats, from_weights=lambda w: reg.weighted_spearman(gold, pred, w))
        fn = {"mae": reg.mae_from_sums, "rmse": reg.rmse_from_sums, "pearson": reg.pearson_from_sums,
              "ccc": reg.ccc_from_sums}[which]
        return Prepared(stats, fn)
    return prepare


def _pair_counts(row: Mapping[str, Any]) -> tuple[float, float, float]:
    gold = {tuple(p) for p in row["attr_gold"]}
    pred = {tuple(p) for p in row["attr_pred"]}
    return float(len(gold & pred)), float(len(pred)), float(len(gold))


def attribution(which: str) -> Callable[[Rows, tuple[str, ...]], Prepared | None]:
    """Precision/recall/F1 over (actor_id, emotion) pairs: micro (pooled) or macro (mean over samples)."""
    def prepare(rows: Rows, labels: tuple[str, ...]) -> Prepared | None:
        annotated = [r for r in rows if r.get("attr_annotated")]
        if not annotated:
            return None
        counts = np.asarray([_pair_counts(r) for r in annotated])
        if which == "macro_f1":
            tp, n_pred, n_gold = counts.T
            f1 = cls._divide(2 * tp, n_pred + n_gold, 1.0)
            return Prepared(np.stack([f1, np.ones_like(f1)], 1), lambda s: s[..., 0] / s[..., 1])
        num_den = {"micro_precision": (lambda s: s[..., 0], lambda s: s[..., 1]),
                   "micro_recall": (lambda s: s[..., 0], lambda s: s[..., 2]),
                   "micro_f1": (lambda s: 2 * s[..., 0], lambda s: s[..., 1] + s[..., 2])}[which]
        return Prepared(counts, lambda s: cls._divide(num_den[0](s), num_den[1](s), 0.0))
    return prepare


def _speaker_hits(row: Mapping[str, Any]) -> tuple[float, float]:
    gold = row["speakers_gold"]
    pred = list(row.get("clusters_pred") or ())
    pairs = [(g, pred[i] if i < len(pred) else "") for i, g in enumerate(gold) if g is not None]
    return float(sum(g == p for g, p in pairs)), float(len(pairs))


def speaker_accuracy(rows: Rows, labels: tuple[str, ...]) -> Prepared | None:
    """Share of utterances with a gold speaker whose predicted speaker id is that speaker, pooled over samples.

    Ids are compared after resolving names and aliases to actor ids (case- and space-insensitive);
    an utterance the answer gives no speaker for is a miss.
    """
    annotated = [r for r in rows if r.get("speakers_gold") and any(g is not None for g in r["speakers_gold"])]
    if not annotated:
        return None
    stats = np.asarray([_speaker_hits(r) for r in annotated])
    return Prepared(stats, lambda s: s[..., 0] / s[..., 1], signature={"unit": "utterance", "match": "actor id"})


def _utterance_slots(row: Mapping[str, Any]) -> tuple[list[list[str]], list[list[str]]]:
    """Gold and predicted label lists slot by slot: a missing entry is an empty prediction, an extra one has no gold."""
    gold = [list(g) for g in row["utt_gold"]]
    pred = [list(p) for p in row.get("utt_pred") or ()]
    n = max(len(gold), len(pred))
    return gold + [[]] * (n - len(gold)), pred + [[]] * (n - len(pred))


def _utterance_rows(rows: Rows) -> list[Mapping[str, Any]]:
    return [r for r in rows if r.get("utt_gold") is not None]


def utterance_prf(average: str) -> Callable[[Rows, tuple[str, ...]], Prepared | None]:
    """F1 over utterances (every utterance one multi-label decision), summed per sample so pages resample whole."""
    def prepare(rows: Rows, labels: tuple[str, ...]) -> Prepared | None:
        scored = _utterance_rows(rows)
        if not scored:
            return None
        k = len(labels)
        counts = np.zeros((len(scored), 3 * k))
        for i, row in enumerate(scored):
            gold, pred = _utterance_slots(row)
            if gold:
                counts[i] = cls.confusion_counts(cls.label_matrix(gold, labels, what="utt_gold"),
                                                 cls.label_matrix(pred, labels, what="utt_pred")).sum(0).reshape(-1)
        f1 = cls.PRF_SCORES.index("f1")
        return Prepared(counts, lambda s: cls.prf_from_counts(s.reshape(*s.shape[:-1], 3, k), average=average)[f1],
                        signature={"average": average, "unit": "utterance", "slots": "missing=empty, extra=false positives"})
    return prepare


def utterance_accuracy(rows: Rows, labels: tuple[str, ...]) -> Prepared | None:
    """Mean over utterance slots of |gold ∩ pred| / |gold ∪ pred| (plain accuracy for single labels)."""
    scored = _utterance_rows(rows)
    if not scored:
        return None
    stats = np.zeros((len(scored), 2))
    for i, row in enumerate(scored):
        gold, pred = _utterance_slots(row)
        if gold:
            outcomes = cls.sample_outcomes(cls.label_matrix(gold, labels), cls.label_matrix(pred, labels))
            jaccard = outcomes[:, cls.OUTCOMES.index("jaccard")]
            stats[i] = (jaccard.sum(), len(gold))
    return Prepared(stats, lambda s: s[..., 0] / s[..., 1], signature={"unit": "utterance"})


def utterance_slot_mismatch(rows: Rows, labels: tuple[str, ...]) -> Prepared | None:
    """Share of answers whose number of utterance entries differs from the prompt's (no entries at all counts)."""
    scored = _utterance_rows(rows)
    if not scored:
        return None
    return _share(scored, lambda r: r.get("utt_pred") is None or len(r["utt_pred"]) != len(r["utt_gold"]))


def coverage(field: str) -> Callable[[Rows, tuple[str, ...]], Prepared | None]:
    """Share of answers containing ``field``, over the samples whose prompt asked for it (``None`` if none did)."""
    def prepare(rows: Rows, labels: tuple[str, ...]) -> Prepared | None:
        asked = [r for r in rows if field in (r.get("requested") or ())]
        return _share(asked, lambda r: field in (r.get("produced") or ())) if asked else None
    return prepare


def clustering(which: str) -> Callable[[Rows, tuple[str, ...]], Prepared | None]:
    """Agreement of predicted and gold speaker groupings of a sample's utterances (ARI, AMI, V-measure),
    per sample over utterances with a gold speaker, mean over samples (Manga-MMTL's clustering scores).

    A sample whose answer gives no per-utterance speakers scores 0 (otherwise an empty answer would
    score 1 on panels where every utterance has its own speaker); within a list, a missing or unnamed
    entry is a singleton cluster. When no answer names speakers at all, or the prompts never asked,
    the metric is N/A (``comic_emotion.metrics.na.undefined_reason``), not 0.
    """
    def prepare(rows: Rows, labels: tuple[str, ...]) -> Prepared | None:
        scored = [r for r in rows if r.get("clusters_gold")]
        if not scored:
            return None
        # lazy: scikit-learn
        import sklearn.metrics as skm

        fn = {"ari": skm.adjusted_rand_score, "ami": skm.adjusted_mutual_info_score,
              "v_measure": skm.v_measure_score}[which]
        values = []
        for row in scored:
            pred = list(row.get("clusters_pred") or ())
            if not any(pred):
                values.append(0.0)
                continue
            pairs = [(g, pred[i] if i < len(pred) and pred[i] else f"\0{i}")
                     for i, g in enumerate(row["clusters_gold"]) if g is not None]
            values.append(float(fn([g for g, _ in pairs], [p for _, p in pairs])))
        values_arr = np.asarray(values)
        return Prepared(np.stack([values_arr, np.ones_like(values_arr)], 1), lambda s: s[..., 0] / s[..., 1],
                        signature={"clusters": "per sample, mean; no speaker list = 0; missing entry = singleton"})
    return prepare


def _calibration_pairs(row: Mapping[str, Any]) -> list[tuple[float, float]]:
    gold = set(row["gold"])
    return [(float(c), 1.0 if label in gold else 0.0) for label, c in (row.get("confidences") or {}).items()]


def calibration(which: str) -> Callable[[Rows, tuple[str, ...]], Prepared | None]:
    """ECE (10 equal-width bins) or Brier score over every (sample, label) with a stated confidence."""
    def prepare(rows: Rows, labels: tuple[str, ...]) -> Prepared | None:
        stated = [r for r in rows if r.get("confidences")]
        if not stated:
            return None
        stats = np.zeros((len(stated), 3 * ECE_BINS + 2))
        for i, row in enumerate(stated):
            for conf, hit in _calibration_pairs(row):
                b = min(int(conf * ECE_BINS), ECE_BINS - 1)
                stats[i, [b, ECE_BINS + b, 2 * ECE_BINS + b]] += (1.0, conf, hit)
                stats[i, -2:] += ((conf - hit) ** 2, 1.0)
        if which == "brier":
            return Prepared(stats, lambda s: s[..., -2] / s[..., -1], signature={"pairs": "stated confidences"})

        def ece(s: np.ndarray) -> np.ndarray:
            # sum_b (n_b / N) |acc_b - conf_b| = sum_b |hits_b - confidence sum_b| / N
            conf, hit = s[..., ECE_BINS:2 * ECE_BINS], s[..., 2 * ECE_BINS:3 * ECE_BINS]
            return np.abs(conf - hit).sum(-1) / s[..., -1]
        return Prepared(stats, ece, signature={"bins": f"{ECE_BINS} equal-width", "pairs": "stated confidences"})
    return prepare


# Row fields of each scored text: (references, sacrebleu tokenizer, BLEU counts, ROUGE-1/2/L F).
TEXT_FIELDS: Mapping[str, tuple[str, str, str, str]] = {
    "explanation": ("explanation_refs", "bleu_tokenizer", "bleu_stats", "rouge"),
    "answer": ("answer_refs", "answer_bleu_tokenizer", "answer_bleu_stats", "answer_rouge"),
}


def _text_rows(rows: Rows, refs: str) -> list[Mapping[str, Any]]:
    return [r for r in rows if r.get(refs)]


def text_bleu(kind: str) -> Callable[[Rows, tuple[str, ...]], Prepared | None]:
    """Corpus BLEU of the ``kind`` text (``explanation`` or ``answer``) over rows with references."""
    refs, tok, counts, _ = TEXT_FIELDS[kind]

    def prepare(rows: Rows, labels: tuple[str, ...]) -> Prepared | None:
        scored = _text_rows(rows, refs)
        if not scored:
            return None
        toks = [r[tok] for r in scored]
        stats = np.asarray([r[counts] for r in scored], dtype=float)
        sig = {"sacrebleu": text.bleu_signature(toks, [len(r[refs]) for r in scored])}
        return Prepared(stats, text.bleu_from_sums, signature=sig, bca=False)
    return prepare


bleu = text_bleu("explanation")


# The order of a row's ROUGE F-scores (``rouge``, ``answer_rouge``), as :func:`text.rouge_f` returns them.
ROUGE_TYPES: tuple[str, str, str] = ("rouge1", "rouge2", "rougeL")


def rouge(rouge_type: str, *, kind: str = "explanation") -> Callable[[Rows, tuple[str, ...]], Prepared | None]:
    """Mean best-reference ROUGE F (``rouge1``, ``rouge2`` or ``rougeL``) of the ``kind`` text over rows with references."""
    which = _choice("rouge_type", rouge_type, ROUGE_TYPES)
    refs, _, _, field = TEXT_FIELDS[kind]

    def prepare(rows: Rows, labels: tuple[str, ...]) -> Prepared | None:
        scored = _text_rows(rows, refs)
        if not scored:
            return None

        values = np.asarray([r[field][which] for r in scored], dtype=float)
        return Prepared(np.stack([values, np.ones_like(values)], 1), lambda s: s[..., 0] / s[..., 1],
                        signature={"rouge": f"tok:{text.LatinCjkTokenizer.name}|stem:no|multi:max-f"
                                            f"|version:{version('rouge-score')}"})
    return prepare


def answer_exact_match(rows: Rows, labels: tuple[str, ...]) -> Prepared | None:
    """Share of questions whose normalised answer equals a normalised reference (see ``normalise_answer``)."""
    scored = [r for r in rows if r.get("answer_exact") is not None]
    if not scored:
        return None
    prepared = _share(scored, lambda r: r["answer_exact"] == 1.0)
    return Prepared(prepared.stats, prepared.from_sums, signature={"normalise": "nfkc|casefold|no-space|no-punct"})
