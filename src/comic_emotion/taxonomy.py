"""Emotion label sets of every corpus and their mapping to one canonical set.

Native labels stay the headline of each task (a benchmark must score a corpus in its own
vocabulary); the canonical set (Ekman's six basic emotions + neutral + other) exists so that
scores can be compared *across* domains, e.g. in the cross-style matrix.

Each label set is an ordered tuple: the order is the column order of label matrices, of
per-class metric tables and of submission files (EmoRecCom's CSV columns follow it).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

CANONICAL: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "other")

LABEL_SETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "canonical": CANONICAL,
        # The embedded synthetic demo set draws the six Ekman expressions plus neutral faces.
        "demo": ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"),
        # EmoRecCom (ICDAR 2021): file headers are lower case and say "other" (papers write "Others").
        "emorecom": ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "other"),
        # EmoComics35 utterance labels as written in its CSV.
        "emocomics35": ("Anger", "Disgust", "Fear", "Sadness", "Surprise", "Joy", "Neutral"),
        # KangaiSet face emotions (Manga109 faces).
        "kangaiset": ("Anger", "Disgust", "Fear", "Happiness", "Neutral", "Sadness", "Surprise"),
        # EmoArt-5k dominant emotions (12 classes, circumplex quadrants), in the order of the
        # label list of its fine-tuning prompt; the test export's targets include Glad and Annoyed.
        "emoart": (
            "Calm", "Excited", "Contentment", "Frustrated", "Sad", "Aroused",
            "Alarmed", "Bored", "Happy", "Annoyed", "Tired", "Glad",
        ),
        # ArtEmis, 9 labels as spelled in its CSV.
        "artemis": (
            "amusement", "awe", "contentment", "excitement", "anger", "disgust", "fear",
            "sadness", "something else",
        ),
        # EMID emotion VQA (image side); Ekman-style labels of its emotion questions.
        "emid": ("amusement", "anger", "awe", "contentment", "disgust", "excitement", "fear", "sadness"),
        # Corpora without emotion labels (OpenMantra parallel text, MangaVQA answers).
        "none": (),
    }
)

# Native label -> canonical label. Labels with no basic-emotion counterpart map to "other";
# positive low-arousal art labels (calm, contentment, relaxed) map to "neutral" or "happy"
# following the circumplex quadrant they sit in (see the README's taxonomy section).
_CANONICAL_OF: Mapping[str, str] = MappingProxyType(
    {
        "anger": "angry", "angry": "angry", "frustrated": "angry", "annoyed": "angry",
        "disgust": "disgust", "bored": "other", "tired": "other",
        "fear": "fear", "alarmed": "fear", "tense": "fear",
        "happy": "happy", "happiness": "happy", "joy": "happy", "amusement": "happy", "glad": "happy",
        "contentment": "happy", "excited": "happy", "excitement": "happy",
        "sad": "sad", "sadness": "sad",
        "surprise": "surprise", "awe": "surprise", "aroused": "surprise",
        "neutral": "neutral", "calm": "neutral", "relaxed": "neutral",
        "other": "other", "others": "other", "something else": "other",
    }
)


def label_set(name: str) -> tuple[str, ...]:
    """Return the ordered labels of the label set ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not a known label set; the message lists the known ones.
    """
    try:
        return LABEL_SETS[name]
    except KeyError:
        raise ValueError(f"unknown label set {name!r}; known: {', '.join(sorted(LABEL_SETS))}") from None


def to_canonical(label: str) -> str:
    """Map one native label (any known label set, any case) to the canonical set.

    >>> to_canonical("Joy"), to_canonical("something else")
    ('happy', 'other')
    """
    try:
        return _CANONICAL_OF[label.strip().lower()]
    except KeyError:
        raise ValueError(f"label {label!r} has no canonical mapping") from None


def canonicalise(labels: list[str] | tuple[str, ...]) -> list[str]:
    """Map labels to the canonical set, de-duplicated, in canonical order."""
    mapped = {to_canonical(label) for label in labels}
    return [label for label in CANONICAL if label in mapped]
