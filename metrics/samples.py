"""One JSON-serialisable row of statistics per sample: gold fields + parsed prediction.

:func:`sample_row` is what an lmms-eval ``process_results`` stores per metric key and what the
sample log keeps, so every aggregate can be recomputed from sample logs (and by
``comic-emotion score`` from a predictions file) with the same code.

Gold problems (labels outside the label set, NaN intensities) raise ``ValueError`` naming the
sample and field; an unparseable *answer* is not an error, it is a row with ``parse_status == "failed"``.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

from comic_emotion.metrics import text
from comic_emotion.metrics.parsing import ParsedAnswer, parse_answer

from comic_emotion.prompts import has_speaker_gold, has_utterance_gold, ordered_regions, requested_fields
from comic_emotion.taxonomy import canonicalise
from comic_emotion.taxonomy import label_set as get_label_set

SCORE_SOURCES = ("confidence", "loglikelihood", "indicator")
# The optional answer fields whose presence is counted (``<field>_coverage``) and whose metrics are
# N/A when no sample asked for them or no answer gave them.
OPTIONAL_FIELDS = ("confidence", "intensity", "valence", "arousal", "attributions", "explanation", "utterances",
                   "speakers")


def produced_fields(parsed: ParsedAnswer) -> list[str]:
    """The optional fields (:data:`OPTIONAL_FIELDS`) that a parsed answer contains."""
    present = {"confidence": parsed.confidences is not None, "intensity": parsed.intensity is not None,
               "valence": parsed.valence is not None, "arousal": parsed.arousal is not None,
               "attributions": bool(parsed.attributions), "explanation": parsed.explanation is not None,
               "utterances": parsed.utterances is not None, "speakers": any(parsed.utterance_speakers)}
    return [f for f in OPTIONAL_FIELDS if present[f]]


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def normalise_actor(name: str) -> str:
    """Case- and whitespace-insensitive form of an actor id or name."""
    return " ".join(str(name).casefold().split())


def _actor_index(record: Mapping[str, Any]) -> dict[str, str]:
    """normalised id / name / alias -> actor_id, from the record's characters."""
    index: dict[str, str] = {}
    for character in record.get("characters") or ():
        actor = character["actor_id"]
        for name in (actor, character.get("name"), *(character.get("aliases") or ())):
            if name:
                index.setdefault(normalise_actor(name), actor)
    return index


def _gold_labels(record: Mapping[str, Any], labels: tuple[str, ...], name: str, field: str,
                 values: Any) -> list[str]:
    values = list(values or ())
    if record.get("label_set") != name and name == "canonical":
        values = canonicalise(values)
    allowed = set(labels)
    for value in values:
        if value not in allowed:
            raise ValueError(f"sample {record.get('id')!r}: field {field!r}: gold label {value!r} is not in "
                             f"label set {name!r} ({', '.join(labels)})")
    return [label for label in labels if label in set(values)]


def _gold_number(record: Mapping[str, Any], field: str, low: float = 0.0) -> float | None:
    value = record.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= 1.0:
        raise ValueError(f"sample {record.get('id')!r}: field {field!r}: gold value {value!r} is not a finite "
                         f"number in [{low:g}, 1]")
    return float(value)


def text_language(record: Mapping[str, Any]) -> str:
    """The language of a sample's text (most common ``text_regions[].lang``; ``und`` if none)."""
    langs = Counter(str(r.get("lang", "und")).split("-")[0] for r in record.get("text_regions") or ())
    return min(langs.items(), key=lambda kv: (-kv[1], kv[0]))[0] if langs else "und"


def is_cjk_text(texts: list[str]) -> bool:
    """Whether references are written in a CJK script (for the tokenizer choice when no language is given)."""
    return any(_CJK.search(text) for text in texts)


def normalise_answer(answer: str) -> str:
    """The form compared by ``answer_exact_match``: NFKC, case-folded, without spaces and punctuation.

    Full-width and half-width forms, ``。``/``.`` and ``「」`` quotes do not make two answers differ.
    """
    folded = unicodedata.normalize("NFKC", answer).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


def _text_stats(hypothesis: str, refs: list[str], lang: str) -> tuple[str | None, list[int] | None,
                                                                      list[float] | None]:
    """(sacrebleu tokenizer, its 10 per-sample counts, ROUGE-1/2/L F) of one text, or Nones without references."""
    if not refs:
        return None, None, None
    tokenizer = text.bleu_tokenizer(lang)
    return (tokenizer, text.bleu_stats([hypothesis], [refs], [tokenizer])[0].astype(int).tolist(),
            text.rouge_f([hypothesis], [refs])[0].tolist())


def _parse(answer: Any, labels: tuple[str, ...]) -> ParsedAnswer:
    """Parse a raw answer, or an already-structured one (from another evaluator) by the same rules."""
    if isinstance(answer, Mapping):
        # Already-structured predictions (from another evaluator) go through the same parser.
        return parse_answer(json.dumps(answer, ensure_ascii=False, default=str), labels)
    return parse_answer(answer, labels)


class ClassificationRow(TypedDict):
    """Page labels: gold, prediction, per-label scores for AUC, and how the answer parsed."""

    gold: list[str]
    pred: list[str]
    scores: list[float]
    score_source: str
    confidences: dict[str, float] | None
    parse_status: str
    off_taxonomy: list[str]


class DimensionsRow(TypedDict):
    """Gold and predicted intensity, valence and arousal (``None`` where absent)."""

    intensity_gold: float | None
    intensity_pred: float | None
    valence_gold: float | None
    valence_pred: float | None
    arousal_gold: float | None
    arousal_pred: float | None


class AttributionRow(TypedDict):
    """(actor_id, emotion) pairs, gold and predicted, with names resolved to actor ids."""

    attr_annotated: bool
    attr_gold: list[list[str]]
    attr_pred: list[list[str]]


class SpeakerRow(TypedDict):
    """Who speaks: the page's speakers, the answer's speaker, and per-utterance speakers for clustering."""

    speaker_gold: list[str]
    speaker_pred: str | None
    clusters_gold: list[str | None] | None
    clusters_pred: list[str]
    speakers_gold: list[str | None] | None


class UtteranceRow(TypedDict):
    """One label list per prompt utterance (gold) and per answer entry (prediction)."""

    utt_gold: list[list[str]] | None
    utt_pred: list[list[str]] | None


class ExplanationRow(TypedDict):
    """The explanation, its references, and its per-sample BLEU counts and ROUGE F-scores."""

    explanation_pred: str
    explanation_refs: list[str]
    text_lang: str
    bleu_tokenizer: str | None
    bleu_stats: list[int] | None
    rouge: list[float] | None


class AnswerRow(TypedDict):
    """The answer to a question, its references, text statistics and exact match."""

    answer_pred: str
    answer_refs: list[str]
    answer_bleu_tokenizer: str | None
    answer_bleu_stats: list[int] | None
    answer_rouge: list[float] | None
    answer_exact: float | None


class SampleRow(ClassificationRow, DimensionsRow, AttributionRow, SpeakerRow, UtteranceRow, ExplanationRow,
                AnswerRow):
    """Every field of a sample row (see :func:`sample_row`): the sections plus identity and field tracking."""

    id: str
    label_set: str
    requested: list[str]
    produced: list[str]


Resolve = Callable[[str], str]


def _resolver(record: Mapping[str, Any]) -> Resolve:
    """Map a name or alias to the record's actor id, so gold and prediction compare by id."""
    actors = _actor_index(record)
    return lambda name: actors.get(normalise_actor(name), normalise_actor(name))


def classification_row(record: Mapping[str, Any], parsed: ParsedAnswer, *, labels: tuple[str, ...],
                       label_set: str, label_scores: Mapping[str, float] | None = None) -> ClassificationRow:
    """Page labels and the per-label scores ROC-AUC ranks by.

    Scores come from, in order: confidences stated in the answer (labels without one keep their 0/1
    indicator), ``label_scores`` of a scored task variant, the 0/1 indicator; ``score_source`` says
    which, since an AUC over indicators is a weaker number.
    """
    gold = _gold_labels(record, labels, label_set, "emotions", record.get("emotions"))
    indicator = [1.0 if label in parsed.emotions else 0.0 for label in labels]
    if parsed.confidences:
        scores = [parsed.confidences.get(label, indicator[j]) for j, label in enumerate(labels)]
        source = "confidence"
    elif label_scores:
        missing = [label for label in labels if label not in label_scores]
        if missing:
            raise ValueError(f"sample {record.get('id')!r}: label_scores lack labels {missing}")
        scores = [float(label_scores[label]) for label in labels]
        source = "loglikelihood"
    else:
        scores, source = indicator, "indicator"
    return ClassificationRow(
        gold=gold, pred=list(parsed.emotions), scores=scores, score_source=source,
        confidences=dict(parsed.confidences) if parsed.confidences else None,
        parse_status=parsed.status, off_taxonomy=list(parsed.off_taxonomy))


def dimensions_row(record: Mapping[str, Any], parsed: ParsedAnswer) -> DimensionsRow:
    """Intensity, valence (in [-1, 1]) and arousal; gold outside its range is a data error, not a miss."""
    return DimensionsRow(
        intensity_gold=_gold_number(record, "intensity"), intensity_pred=parsed.intensity,
        valence_gold=_gold_number(record, "valence", low=-1.0), valence_pred=parsed.valence,
        arousal_gold=_gold_number(record, "arousal"), arousal_pred=parsed.arousal)


def attribution_row(record: Mapping[str, Any], parsed: ParsedAnswer, *, labels: tuple[str, ...], label_set: str,
                    resolve: Resolve) -> AttributionRow:
    """Sorted, de-duplicated (actor_id, emotion) pairs; predicted names and aliases resolve to actor ids."""
    gold = sorted({(pair["actor_id"], label) for pair in record.get("attributions") or ()
                   for label in _gold_labels(record, labels, label_set, "attributions", [pair["emotion"]])})
    pred = sorted({(resolve(actor), label) for actor, label in parsed.attributions})
    return AttributionRow(attr_annotated=bool(record.get("attributions")), attr_gold=[list(p) for p in gold],
                          attr_pred=[list(p) for p in pred])


def speaker_row(record: Mapping[str, Any], parsed: ParsedAnswer, *, resolve: Resolve) -> SpeakerRow:
    """Speakers of the page and of each utterance, in the prompt's reading order.

    ``clusters_gold`` needs two gold speakers (a single one makes every grouping agree);
    ``speakers_gold`` is set only for records with speaker gold (:func:`has_speaker_gold`).
    """
    clusters_gold = [resolve(r["speaker"]) if r.get("speaker") else None for r in ordered_regions(record)]
    return SpeakerRow(
        speaker_gold=sorted({resolve(r["speaker"]) for r in record.get("text_regions") or () if r.get("speaker")}),
        speaker_pred=resolve(parsed.speaker) if parsed.speaker else None,
        clusters_gold=clusters_gold if sum(c is not None for c in clusters_gold) >= 2 else None,
        clusters_pred=[resolve(s) if s else "" for s in parsed.utterance_speakers],
        speakers_gold=clusters_gold if has_speaker_gold(record) else None)


def utterance_row(record: Mapping[str, Any], parsed: ParsedAnswer, *, labels: tuple[str, ...],
                  label_set: str) -> UtteranceRow:
    """Per-utterance labels; ``None`` gold for records without utterance labels, ``None`` pred for an answer without."""
    gold = [_gold_labels(record, labels, label_set, f"text_regions[{r.get('id')}].emotions", r.get("emotions"))
            for r in ordered_regions(record)] if has_utterance_gold(record) else None
    return UtteranceRow(utt_gold=gold,
                        utt_pred=[list(u) for u in parsed.utterances] if parsed.utterances is not None else None)


def _references(record: Mapping[str, Any], field: str) -> list[str]:
    return [str(x) for x in record.get(field) or () if str(x).strip()]


def _reference_language(record_lang: str, refs: list[str]) -> str:
    """The record's text language, or ``ja`` for CJK references when it has none (for the tokenizer)."""
    if record_lang == "und" and refs:
        return "ja" if is_cjk_text(refs) else "und"
    return record_lang


def explanation_row(record: Mapping[str, Any], parsed: ParsedAnswer) -> ExplanationRow:
    """The explanation against the record's references, with per-sample statistics so corpus BLEU sums over rows."""
    refs = _references(record, "explanations")
    lang = _reference_language(text_language(record), refs)
    hypothesis = parsed.explanation or ""
    tokenizer, stats, rouge = _text_stats(hypothesis, refs, lang)
    return ExplanationRow(explanation_pred=hypothesis, explanation_refs=refs, text_lang=lang,
                          bleu_tokenizer=tokenizer, bleu_stats=stats, rouge=rouge)


def answer_row(record: Mapping[str, Any], parsed: ParsedAnswer) -> AnswerRow:
    """The answer to a question against the record's ``answers``, with text statistics and exact match."""
    refs = _references(record, "answers")
    lang = _reference_language(text_language(record), refs)
    answer = parsed.answer or ""
    tokenizer, stats, rouge = _text_stats(answer, refs, lang)
    exact = normalise_answer(answer)
    return AnswerRow(answer_pred=answer, answer_refs=refs, answer_bleu_tokenizer=tokenizer, answer_bleu_stats=stats,
                     answer_rouge=rouge,
                     answer_exact=float(bool(exact) and exact in {normalise_answer(r) for r in refs}) if refs else None)


def sample_row(record: Mapping[str, Any], answer: str | bytes | Mapping[str, Any] | None, *, label_set: str,
               label_scores: Mapping[str, float] | None = None) -> SampleRow:
    """Per-sample statistics for every metric, JSON-serialisable: one section per builder above.

    Parameters
    ----------
    record
        Canonical sample (:mod:`comic_emotion.schema`); its gold fields are read.
    answer
        The raw model answer (or a mapping of already-structured fields).
    label_set
        Name of the task's label set. Gold labels of another native set are mapped only to
        ``"canonical"``; otherwise they must belong to ``label_set``.
    label_scores
        Per-label scores from a scored task variant (per-label log-likelihoods), used when the
        answer states no confidences (see :func:`classification_row`).

    Returns
    -------
    SampleRow
        ``id``, ``label_set``, ``requested`` (the optional fields the prompt asked for,
        :func:`comic_emotion.prompts.requested_fields`), ``produced`` (those the answer gave,
        :data:`OPTIONAL_FIELDS`), and the fields of :class:`ClassificationRow`,
        :class:`DimensionsRow`, :class:`AttributionRow`, :class:`SpeakerRow`,
        :class:`UtteranceRow`, :class:`ExplanationRow` and :class:`AnswerRow`.
    """
    labels = get_label_set(label_set)
    sample_id = record.get("id")
    if not isinstance(sample_id, str) or not sample_id:
        raise ValueError(f"record without a string 'id': {str(dict(record))[:80]}")
    parsed = _parse(answer, labels)
    resolve = _resolver(record)
    return SampleRow(
        id=sample_id, label_set=label_set,
        **classification_row(record, parsed, labels=labels, label_set=label_set, label_scores=label_scores),
        **dimensions_row(record, parsed),
        **attribution_row(record, parsed, labels=labels, label_set=label_set, resolve=resolve),
        **speaker_row(record, parsed, resolve=resolve),
        requested=list(requested_fields(record)), produced=produced_fields(parsed),
        **utterance_row(record, parsed, labels=labels, label_set=label_set),
        **explanation_row(record, parsed),
        **answer_row(record, parsed),
    )
