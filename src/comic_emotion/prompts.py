"""Prompts of the comic_emotion tasks: what a model is shown besides the image.

The prompt gives the transcribed text of the panel (the *text channel*: speech bubbles, captions,
titles, in reading order, without speaker names: who speaks is for the model to see), the
visible character ids (so attributions can be named), the task's label set, and the JSON answer
format. Tasks without emotion labels ask a question (MangaVQA) or who speaks each numbered utterance
(Manga109Dialog) instead. Models answer in other formats too; :mod:`comic_emotion.metrics.parsing` copes.

lmms-eval's *simple* model classes take the prompt string and the images separately; its *chat*
classes take one user turn (:func:`chat_messages`) holding the same images and the same string, so
both paths show a model the same words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from comic_emotion.taxonomy import label_set

# The answer format of an emotion task: one JSON object. "emotions" (the page's labels) is always
# asked; every other field only where the record has gold for it (see requested_fields), so a metric
# of a field the prompt never asked for is N/A ("not requested"), never 0.
ANSWER_FIELDS: Mapping[str, str] = {
    "emotions": '"emotions": [<labels>]',
    "utterances": '"utterances": [{"emotions": [<labels>]}, ...]',
    "utterances+speakers": '"utterances": [{"emotions": [<labels>], "speaker": <character id or null>}, ...]',
    "confidence": '"confidence": {<label>: <0-1>, ...}',
    "intensity": '"intensity": <0-1>',
    "valence": '"valence": <-1 to 1>',
    "arousal": '"arousal": <0-1>',
    "speakers": '"speakers": ["<character id>", ...]',
    "attributions": '"attributions": {<character id>: [<labels>]}',
    "explanation": '"explanation": "<one short sentence>"',
}
# Every field at once (documentation; a record's prompt shows the fields it asks for).
ANSWER_FORMAT = "{" + ", ".join(v for k, v in ANSWER_FIELDS.items() if k not in ("utterances",
                                                                               "utterances+speakers", "speakers")) + "}"
# The utterance-level protocol, for records with per-utterance gold (text_regions[].emotions): the
# prompt numbers the utterances (reading order, empty ones dropped: ordered_regions) and asks for
# one entry per utterance, in order, with its speaker where the record has gold speakers:
#   {"emotions": [<page labels>], "utterances": [{"emotions": [<labels>], "speaker": "<id>"}, ...], ...}
# Scoring (comic_emotion.metrics): entry i is utterance i; a missing entry is an empty prediction,
# an extra one is all false positives, and either counts in utt_slot_mismatch. The page's labels
# are "emotions" when given; an answer with utterances only gets the page labels the one page rule
# derives from them (comic_emotion.taxonomy.page_emotions: union, Neutral only when every
# utterance is Neutral); an answer with page labels only is scored at page level and counts as a
# slot mismatch. A list of per-utterance label lists under "emotions" (the seed project's target,
# {'emotions': [['Joy'], ['Neutral']]}) is read as utterances.
UTTERANCE_ANSWER_FORMAT = "{" + ", ".join(
    ANSWER_FIELDS[k] for k in ("emotions", "utterances+speakers", "confidence", "intensity", "attributions",
                               "explanation")) + "}"
# Tasks without emotion labels; the keys are those metrics.parsing reads (``answer``, ``speakers``).
VQA_ANSWER_FORMAT = '{"answer": "<answer>"}'
SPEAKERS_ANSWER_FORMAT = '{"speakers": ["<character id>", ...]}'

_SCENE = {
    "comic": "a comic panel (read left to right)",
    "manga": "a manga panel (read right to left)",
    "art": "a painting",
    "aux": "an image",
}


def ordered_regions(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The text regions of a record in reading order (empty ones dropped): the utterances of the prompt.

    Rows (``y`` in bands of 40 px), then ``x`` left to right, or right to left for ``rtl`` pages;
    regions without boxes keep their record order. Speaker scores read utterances in this order.
    """
    regions = [r for r in record.get("text_regions") or () if r.get("text", "").strip()]

    def reading_order(region: Mapping[str, Any]) -> tuple[float, float]:
        bbox = region.get("bbox")
        if bbox is None:
            return (0.0, 0.0)
        x, y, w, _ = bbox
        right_to_left = record.get("reading_direction") == "rtl"
        return (round(y / 40), -(x + w) if right_to_left else x)

    return sorted(regions, key=reading_order) if any(r.get("bbox") for r in regions) else regions


def has_utterance_gold(record: Mapping[str, Any]) -> bool:
    """Whether the record labels each utterance (some prompt utterance has ``emotions``): the utterance protocol."""
    return bool(label_set(record["label_set"])) and any(r.get("emotions") is not None for r in ordered_regions(record))


def has_speaker_gold(record: Mapping[str, Any]) -> bool:
    """Whether some prompt utterance has a gold speaker (the prompt then asks who speaks each utterance)."""
    return any(r.get("speaker") for r in ordered_regions(record))


def requested_fields(record: Mapping[str, Any]) -> tuple[str, ...]:
    """The optional answer fields the prompt of ``record`` asks for (``emotions`` is always asked).

    A field is asked where the record has gold to score it: ``confidence`` on every emotion task
    (calibration and ROC-AUC need only the labels), ``intensity`` / ``valence`` / ``arousal`` with a
    gold value, ``attributions`` with gold pairs, ``explanation`` with reference explanations,
    ``utterances`` with per-utterance gold, ``speakers`` with a gold speaker of some utterance
    (inside the utterance entries where utterances are asked, else as a ``"speakers"`` list).
    The scores use this list: a metric whose field no sample asked for is N/A, "not requested".
    """
    if not label_set(record["label_set"]):
        return () if record.get("question") else (("speakers",) if has_speaker_gold(record) else ())
    fields = ["confidence"]
    fields += [f for f in ("intensity", "valence", "arousal") if record.get(f) is not None]
    if record.get("attributions"):
        fields.append("attributions")
    if any(str(x).strip() for x in record.get("explanations") or ()):
        fields.append("explanation")
    if has_utterance_gold(record):
        fields.append("utterances")
    if has_speaker_gold(record):
        fields.append("speakers")
    return tuple(fields)


def answer_format(fields: tuple[str, ...]) -> str:
    """The JSON answer template asking for ``emotions`` plus ``fields`` (see :data:`ANSWER_FIELDS`)."""
    keys = ["emotions"]
    if "utterances" in fields:
        keys.append("utterances+speakers" if "speakers" in fields else "utterances")
    elif "speakers" in fields:
        keys.append("speakers")
    keys += [k for k in ("confidence", "intensity", "valence", "arousal", "attributions", "explanation") if k in fields]
    return "{" + ", ".join(ANSWER_FIELDS[k] for k in keys) + "}"


def text_channel(record: Mapping[str, Any]) -> list[str]:
    """The text lines of a record in reading order, one per text region (empty ones dropped)."""
    return [" ".join(r["text"].split()) for r in ordered_regions(record)]


def _label_free_lines(record: Mapping[str, Any]) -> list[str]:
    """The task and answer format of a record without emotion labels: a question, or speakers of utterances."""
    if record.get("question"):
        return ["Answer the question in the language of the page.",
                f"Answer with JSON only: {VQA_ANSWER_FORMAT}"]
    text = text_channel(record)
    lines = ["Utterances:", *(f"{i}. {line}" for i, line in enumerate(text, 1))]
    names = [f"{c['actor_id']} ({c['name']})" if c.get("name") else c["actor_id"] for c in record.get("characters") or ()]
    if names:
        lines.append(f"Characters: {', '.join(names)}.")
    lines.append(f"Which character speaks each utterance? Give one character id per utterance, in order "
                 f"({len(text)} in all).")
    lines.append(f"Answer with JSON only: {SPEAKERS_ANSWER_FORMAT}")
    return lines


def build_prompt(record: Mapping[str, Any], *, pre_prompt: str = "", post_prompt: str = "") -> str:
    """The full user prompt for one record.

    A record with emotion labels asks for emotions and the fields of :func:`requested_fields`
    (:func:`answer_format`; numbered utterances and :data:`UTTERANCE_ANSWER_FORMAT` where it labels
    each utterance); one without (label set
    ``none``) asks its ``question`` (:data:`VQA_ANSWER_FORMAT`) or, lacking one, who speaks each
    utterance (:data:`SPEAKERS_ANSWER_FORMAT`).
    """
    labels = label_set(record["label_set"])
    lines = [pre_prompt] if pre_prompt else []
    lines.append(f"You are shown {_SCENE.get(record['domain'], 'an image')}.")
    if record.get("question"):
        lines.append(f"Question: {record['question']}")
    if not labels:
        lines.extend(_label_free_lines(record))
    else:
        fields = requested_fields(record)
        text = text_channel(record)
        numbered = "utterances" in fields or "speakers" in fields
        if text and numbered:
            lines.append("Utterances:")
            lines.extend(f"{i}. {line}" for i, line in enumerate(text, 1))
        elif text:
            lines.append("Text in the image:")
            lines.extend(f"- {line}" for line in text)
        actors = [c["actor_id"] for c in record.get("characters") or ()]
        if actors:
            lines.append(f"Characters: {', '.join(actors)}.")
        lines.append(f"Which emotions are expressed? Choose one or more of: {', '.join(labels)}.")
        if "utterances" in fields:
            who = " and the character id of its speaker" if "speakers" in fields else ""
            lines.append(f"Give \"emotions\" for the whole image and one \"utterances\" entry per numbered utterance, "
                         f"in order ({len(text)} in all), with its emotions{who}.")
        elif "speakers" in fields:
            lines.append(f"Give \"speakers\": the character id speaking each numbered utterance, in order "
                         f"({len(text)} in all).")
        lines.append(f"Answer with JSON only: {answer_format(fields)}")
    if post_prompt:
        lines.append(post_prompt)
    return "\n".join(lines)


def chat_messages(images: Sequence[Any], prompt: str) -> list[dict[str, Any]]:
    """One user turn for lmms-eval's chat model classes: the images, then the prompt text.

    The format is lmms-eval 0.7.3's ``ChatMessages`` (``lmms_eval.protocol``): an image part is
    ``{"type": "image", "url": <PIL image>}``, the text part ``{"type": "text", "text": prompt}``.
    ``prompt`` is :func:`build_prompt`'s output, unchanged, so chat and simple runs see the same words.

    >>> chat_messages([], "Which emotions?")
    [{'role': 'user', 'content': [{'type': 'text', 'text': 'Which emotions?'}]}]
    """
    content: list[dict[str, Any]] = [{"type": "image", "url": image} for image in images]
    content.append({"type": "text", "text": prompt})
    return [{"role": "user", "content": content}]
