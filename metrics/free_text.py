"""Read an answer that is not an object: emotion words, a speaker and an intensity in running text.

The last resort of :func:`comic_emotion.metrics.parsing.parse_answer` (status ``lenient``): the
answer is scanned with the emotion lexicon (:mod:`comic_emotion.metrics.lexicon`), English words
negated by one of the two previous words are skipped ("not happy"), and words that in running text
are usually something else ("the other man") are not read as emotions. Mapping a word to the task's
label set is the lexicon's job; this module only decides which words of a text are emotion words.
"""

from __future__ import annotations

import re

from comic_emotion.metrics.lexicon import EN_PHRASES, EN_WORDS, JA_STEMS, map_word

_NEGATIONS = frozenset({"not", "no", "never", "without", "isn't", "aren't", "wasn't", "nor", "hardly"})
# Emotion words that in running text are usually something else ("the other man", "the content").
# Verb forms that are usually another word ("please answer", "a bore", "a car tire", "the exhaust").
_FREE_TEXT_SKIP = frozenset({"content", "other", "others", "blank", "wonder", "shock", "mad", "alarm", "please",
                             "bore", "tire", "exhaust", "revolt", "energy"})
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_INTENSITY_TEXT = re.compile(r"(?:intensity|強度)\D{0,12}?(\d+(?:\.\d+)?)\s*(%|/\s*100|/\s*10)?", re.IGNORECASE)
_SPEAKER_TEXT = re.compile(r"(?:speaker(?:\s+is)?\s*[:=]?|話者[はが:：]?)\s*['\"「]?([\w\-]+)", re.IGNORECASE)
_SCALES = {"%": 100.0, "/100": 100.0, "/10": 10.0}


def scan_text(text: str, labels: tuple[str, ...]) -> tuple[set[str], list[str]]:
    """Labels of ``labels`` and off-taxonomy emotion words mentioned in free text (EN words and phrases, JA stems)."""
    found: set[str] = set()
    off: list[str] = []

    def hit(word: str) -> None:
        label, _ = map_word(word, labels)
        if label is not None:
            found.add(label)
        elif word not in off:
            off.append(word)

    lowered = text.lower()
    previous: list[str] = ["", ""]
    for match in _WORD.finditer(lowered):
        word = match.group()
        if word in EN_WORDS and word not in _FREE_TEXT_SKIP and not _NEGATIONS.intersection(previous):
            hit(word)
        previous = [previous[1], word]
    for phrase in EN_PHRASES:
        if phrase in lowered and phrase not in _FREE_TEXT_SKIP:
            hit(phrase)
    if not text.isascii():
        for stem, _concept in JA_STEMS:
            if stem in text:
                hit(stem)
    return found, off


def speaker_in_text(text: str) -> str | None:
    """The speaker a sentence names ("speaker is B", "話者はA"), or ``None``."""
    match = _SPEAKER_TEXT.search(text)
    return match.group(1) if match else None


def intensity_in_text(text: str) -> float | None:
    """The intensity a sentence states ("intensity: 70%", "強度 7/10"), divided by its scale; not yet range-checked."""
    match = _INTENSITY_TEXT.search(text)
    if not match:
        return None
    number, scale = float(match.group(1)), (match.group(2) or "").replace(" ", "")
    return number / _SCALES.get(scale, 1.0)
