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
from collections.abc import Mapping
from typing import Any

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
    if isinstance(answer, Mapping):
        # Already-structured predictions (from another evaluator) go through the same parser.
        return parse_answer(json.dumps(answer, ensure_ascii=False, default=str), labels)
    return parse_answer(answer, labels)


def sample_row(record: Mapping[str, Any], answer: str | bytes | Mapping[str, Any] | None, *, label_set: str,
               label_scores: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Per-sample statistics for every metric, JSON-serialisable.

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
        Per-label scores from a scored task variant (per-label log-likelihoods). Sources in order:
        confidences stated in the answer, then ``label_scores``, then the 0/1 indicator fallback.

    Returns
    -------
    dict
        Keys: ``id``, ``label_set``, ``gold``, ``pred``, ``scores`` (one per label, label-set order),
        ``score_source`` (``confidence``, ``loglikelihood`` or ``indicator`` = 0/1 fallback),
        ``confidences``, ``parse_status``, ``off_taxonomy``, ``intensity_gold/pred``,
        ``valence_gold/pred``, ``arousal_gold/pred``, ``attr_annotated``, ``attr_gold``,
        ``attr_pred``, ``speaker_gold``, ``speaker_pred``, ``clusters_gold/pred`` (per text region),
        ``explanation_pred``,
        ``explanation_refs``, ``text_lang``, and per-sample text statistics ``bleu_tokenizer``,
        ``bleu_stats`` (sacrebleu's 10 counts) and ``rouge`` (ROUGE-1/2/L F) when there are references;
        likewise ``answer_pred``, ``answer_refs`` (the record's ``answers``), ``answer_bleu_tokenizer``,
        ``answer_bleu_stats``, ``answer_rouge`` and ``answer_exact`` (1 if the normalised answer equals
        a normalised reference) for question answering. Clusters follow the prompt's utterance order.
        ``requested`` lists the optional fields the prompt asked for
        (:func:`comic_emotion.prompts.requested_fields`), ``produced`` those the answer gave
        (:data:`OPTIONAL_FIELDS`). Utterance protocol (records labelling each utterance):
        ``utt_gold`` (one label list per prompt utterance) and ``utt_pred`` (one per answer entry,
        ``None`` for an answer without utterances); ``speakers_gold`` (gold speaker per prompt
        utterance, ``None`` where unknown; ``None`` without any gold speaker).
    """
    labels = get_label_set(label_set)
    sample_id = record.get("id")
    if not isinstance(sample_id, str) or not sample_id:
        raise ValueError(f"record without a string 'id': {str(dict(record))[:80]}")
    gold = _gold_labels(record, labels, label_set, "emotions", record.get("emotions"))
    parsed = _parse(answer, labels)
    pred = list(parsed.emotions)
    indicator = [1.0 if label in parsed.emotions else 0.0 for label in labels]
    if parsed.confidences:
        # Labels without a stated confidence keep their 0/1 indicator.
        scores = [parsed.confidences.get(label, indicator[j]) for j, label in enumerate(labels)]
        source = "confidence"
    elif label_scores:
        missing = [label for label in labels if label not in label_scores]
        if missing:
            raise ValueError(f"sample {sample_id!r}: label_scores lack labels {missing}")
        scores = [float(label_scores[label]) for label in labels]
        source = "loglikelihood"
    else:
        scores, source = indicator, "indicator"

    actors = _actor_index(record)
    resolve = lambda name: actors.get(normalise_actor(name), normalise_actor(name))
    attr_gold = sorted({(pair["actor_id"], label) for pair in record.get("attributions") or ()
                        for label in _gold_labels(record, labels, label_set, "attributions", [pair["emotion"]])})
    attr_pred = sorted({(resolve(actor), label) for actor, label in parsed.attributions})
    speakers = sorted({resolve(r["speaker"]) for r in record.get("text_regions") or () if r.get("speaker")})
    # Character clustering: gold speaker of each utterance, in the prompt's reading order, vs the
    # answer's per-utterance list.
    regions = ordered_regions(record)
    clusters_gold = [resolve(r["speaker"]) if r.get("speaker") else None for r in regions]
    utt_gold = [_gold_labels(record, labels, label_set, f"text_regions[{r.get('id')}].emotions", r.get("emotions"))
                for r in regions] if has_utterance_gold(record) else None
    utt_pred = [list(u) for u in parsed.utterances] if parsed.utterances is not None else None
    refs = [str(x) for x in record.get("explanations") or () if str(x).strip()]
    record_lang = text_language(record)
    lang = record_lang
    if lang == "und" and refs:
        lang = "ja" if is_cjk_text(refs) else "und"
    hypothesis = parsed.explanation or ""
    tokenizer, stats, rouge = _text_stats(hypothesis, refs, lang)
    answer_refs = [str(x) for x in record.get("answers") or () if str(x).strip()]
    answer_lang = record_lang
    if answer_lang == "und" and answer_refs:
        answer_lang = "ja" if is_cjk_text(answer_refs) else "und"
    answer_pred = parsed.answer or ""
    answer_tokenizer, answer_stats, answer_rouge = _text_stats(answer_pred, answer_refs, answer_lang)
    exact = normalise_answer(answer_pred)
    return {
        "id": sample_id,
        "label_set": label_set,
        "gold": gold,
        "pred": pred,
        "scores": scores,
        "score_source": source,
        "confidences": dict(parsed.confidences) if parsed.confidences else None,
        "parse_status": parsed.status,
        "off_taxonomy": list(parsed.off_taxonomy),
        "intensity_gold": _gold_number(record, "intensity"),
        "intensity_pred": parsed.intensity,
        "valence_gold": _gold_number(record, "valence", low=-1.0),
        "valence_pred": parsed.valence,
        "arousal_gold": _gold_number(record, "arousal"),
        "arousal_pred": parsed.arousal,
        "attr_annotated": bool(record.get("attributions")),
        "attr_gold": [list(p) for p in attr_gold],
        "attr_pred": [list(p) for p in attr_pred],
        "speaker_gold": speakers,
        "speaker_pred": resolve(parsed.speaker) if parsed.speaker else None,
        "clusters_gold": clusters_gold if sum(c is not None for c in clusters_gold) >= 2 else None,
        "clusters_pred": [resolve(s) if s else "" for s in parsed.utterance_speakers],
        "requested": list(requested_fields(record)),
        "produced": produced_fields(parsed),
        "utt_gold": utt_gold,
        "utt_pred": utt_pred,
        "speakers_gold": clusters_gold if has_speaker_gold(record) else None,
        "explanation_pred": hypothesis,
        "explanation_refs": refs,
        "text_lang": lang,
        # Per-sample text statistics, so corpus BLEU and mean ROUGE are sums over the sample log.
        "bleu_tokenizer": tokenizer,
        "bleu_stats": stats,
        "rouge": rouge,
        "answer_pred": answer_pred,
        "answer_refs": answer_refs,
        "answer_bleu_tokenizer": answer_tokenizer,
        "answer_bleu_stats": answer_stats,
        "answer_rouge": answer_rouge,
        "answer_exact": float(bool(exact) and exact in {normalise_answer(r) for r in answer_refs})
        if answer_refs else None,
    }
