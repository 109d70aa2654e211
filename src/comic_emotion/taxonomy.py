"""Emotion label sets of every corpus and their mapping to one canonical set.

Native labels stay the headline of each task (a benchmark must score a corpus in its own
vocabulary); the canonical set (Ekman's six basic emotions + neutral + other) exists so that
scores can be compared *across* domains, e.g. in the cross-style matrix.

Each label set is an ordered tuple: the order is the column order of label matrices, of
per-class metric tables and of submission files (EmoRecCom's CSV columns follow it).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Iterable, Mapping

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


def neutral_label(labels: tuple[str, ...] | list[str]) -> str | None:
    """The label of ``labels`` that means "no emotion" (named ``neutral`` in any case), or ``None``."""
    return next((label for label in labels if label.strip().lower() == "neutral"), None)


def page_emotions(utterance_labels: Iterable[Iterable[str]], labels: tuple[str, ...] | list[str]) -> list[str]:
    """Page-level labels from per-utterance labels: the one rule of the suite.

    The page's labels are the union of its utterances' labels, except that the neutral label
    (:func:`neutral_label`) is kept only when *every* labelled utterance is neutral: a page where
    one character is angry and another neutral is an angry page. Converters derive page gold with
    this function and the answer parser merges a model's per-utterance answer with it, so a model
    that repeats the utterance gold scores the page gold exactly. Utterances with no label
    (an empty list) neither add labels nor make the page non-neutral. Labels come back in
    ``labels`` order; labels outside ``labels`` are dropped.

    >>> page_emotions([["Joy"], ["Neutral"]], ("Anger", "Joy", "Neutral"))
    ['Joy']
    >>> page_emotions([["Neutral"], ["Neutral"]], ("Anger", "Joy", "Neutral"))
    ['Neutral']
    """
    found: set[str] = set()
    for utterance in utterance_labels:
        found.update(utterance)
    neutral = neutral_label(labels)
    if neutral is not None and any(label != neutral for label in found if label in labels):
        found.discard(neutral)
    return [label for label in labels if label in found]


def canonicalise(labels: list[str] | tuple[str, ...]) -> list[str]:
    """Map labels to the canonical set, de-duplicated, in canonical order."""
    mapped = {to_canonical(label) for label in labels}
    return [label for label in CANONICAL if label in mapped]
