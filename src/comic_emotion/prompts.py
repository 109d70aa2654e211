"""Prompts of the comic_emotion tasks: what a model is shown besides the image.

The prompt gives the transcribed text of the panel (the *text channel*: speech bubbles, captions,
titles, in reading order, without speaker names: who speaks is for the model to see), the
visible character ids (so attributions can be named), the task's label set, and the JSON answer
format. Models answer in other formats too; :mod:`comic_emotion.metrics.parsing` copes.
"""

from __future__ import annotations

from typing import Any, Mapping

from comic_emotion.taxonomy import label_set

ANSWER_FORMAT = (
    '{"emotions": [<labels>], "confidence": {<label>: <0-1>, ...}, "intensity": <0-1>, '
    '"speaker": <character id or null>, "attributions": {<character id>: [<labels>]}, '
    '"explanation": "<one short sentence>"}'
)

_SCENE = {
    "comic": "a comic panel (read left to right)",
    "manga": "a manga panel (read right to left)",
    "art": "a painting",
    "aux": "an image",
}


def text_channel(record: Mapping[str, Any]) -> list[str]:
    """The text lines of a record in reading order, one per text region (empty ones dropped)."""
    regions = [r for r in record.get("text_regions") or () if r.get("text", "").strip()]

    def reading_order(region: Mapping[str, Any]) -> tuple[float, float]:
        bbox = region.get("bbox")
        if bbox is None:
            return (0.0, 0.0)
        x, y, w, _ = bbox
        right_to_left = record.get("reading_direction") == "rtl"
        return (round(y / 40), -(x + w) if right_to_left else x)

    ordered = sorted(regions, key=reading_order) if any(r.get("bbox") for r in regions) else regions
    return [" ".join(r["text"].split()) for r in ordered]


def build_prompt(record: Mapping[str, Any], *, pre_prompt: str = "", post_prompt: str = "") -> str:
    """The full user prompt for one record."""
    labels = label_set(record["label_set"])
    lines = [pre_prompt] if pre_prompt else []
    lines.append(f"You are shown {_SCENE.get(record['domain'], 'an image')}.")
    if record.get("question"):
        lines.append(f"Question: {record['question']}")
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
