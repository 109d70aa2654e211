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

ANSWER_FORMAT = (
    '{"emotions": [<labels>], "confidence": {<label>: <0-1>, ...}, "intensity": <0-1>, '
    '"speaker": <character id or null>, "attributions": {<character id>: [<labels>]}, '
    '"explanation": "<one short sentence>"}'
)
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

    A record with emotion labels asks for emotions (:data:`ANSWER_FORMAT`); one without (label set
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
        text = text_channel(record)
        if text:
            lines.append("Text in the image:")
            lines.extend(f"- {line}" for line in text)
        actors = [c["actor_id"] for c in record.get("characters") or ()]
        if actors:
            lines.append(f"Characters: {', '.join(actors)}.")
        lines.append(f"Which emotions are expressed? Choose one or more of: {', '.join(labels)}.")
        lines.append(f"Answer with JSON only: {ANSWER_FORMAT}")
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
