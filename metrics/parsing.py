"""Turn a raw model answer into a structured emotion prediction, deterministically.

The task prompt asks for a small JSON object (``{"emotions": [...], "utterances": [{"emotions":
[...], "speaker": "B"}, ...], "confidence": {...}, "intensity": 0.7, "attributions": {"A": ["happy"]},
"explanation": "..."}``, see :mod:`comic_emotion.prompts`), but models answer in many shapes.
:func:`parse_answer` tries, in order, and names the level it reached (``status``):

1. **strict**: the whole answer (stripped) is a JSON object;
2. **lenient**: a JSON or Python-literal object found verbatim inside the answer: in a code fence,
   from the first ``{`` to the last ``}``, or a bare label list; Python literals
   (``{'dominant_emotion': 'Calm'}``, the seed project's fine-tuning target format) go through
   :func:`ast.literal_eval`, never ``eval``. Free text (EN/JA sentence, bare labels) scanned with
   the emotion lexicon (:mod:`comic_emotion.metrics.lexicon`), skipping English words negated by
   the previous word, is lenient too;
3. **repaired**: an object that parses only after repair: a truncated answer closed after its
   last complete element (the model ran out of tokens);
4. **failed**: nothing usable; the answer counts as a parse failure (an empty prediction), never
   as a guess.

Per-utterance answers (``"utterances": [...]``, or a list of label lists under ``"emotions"``, the
seed project's EmoComics35 target) keep one label tuple per utterance; the page's labels are the
answer's flat ``"emotions"`` list when given, else the merge of the utterances by the suite's one
page rule (:func:`comic_emotion.taxonomy.page_emotions`: union, Neutral only when every utterance
is Neutral), the same function the converters derive page gold with.

Three modules, one step each: :mod:`comic_emotion.metrics.extraction` finds the object (JSON,
literal, repair) and names the status; :mod:`comic_emotion.metrics.free_text` reads an answer that
has none; this module maps either into the task's fields (labels, numbers, utterances, attributions).

Labels are mapped into the task's label set; emotion words that fit no label are reported as
``off_taxonomy``. Only the first :data:`MAX_PARSE_CHARS` characters are parsed, so a 100 kB
answer costs no more than a 16 kB one. Bump :data:`PARSER_VERSION` whenever a change can alter
a parse: it is part of every score's signature.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from comic_emotion.metrics.extraction import MAX_PARSE_CHARS, answer_text, find_object
from comic_emotion.metrics.free_text import intensity_in_text, scan_text, speaker_in_text
from comic_emotion.metrics.lexicon import map_word

from comic_emotion.taxonomy import page_emotions

PARSER_VERSION = "3"
MAX_EXPLANATION_CHARS = 2_000
STATUSES = ("strict", "lenient", "repaired", "failed")

_EMOTION_KEYS = ("emotions", "emotion", "labels", "label", "dominant_emotion", "dominant_emotions",
                 "emotion_labels", "predicted_emotions", "answer", "感情")
_UTTERANCE_KEYS = ("utterances", "utterance_emotions", "per_utterance", "発話")
_CONFIDENCE_KEYS = ("confidence", "confidences", "scores", "probabilities", "probs", "確信度")
_INTENSITY_KEYS = ("intensity", "emotion_intensity", "strength", "強度")
_SPEAKER_KEYS = ("speaker", "speaker_id", "話者")
_ATTRIBUTION_KEYS = ("attributions", "attribution", "characters", "per_character")
_EXPLANATION_KEYS = ("explanation", "reason", "reasoning", "rationale", "説明", "理由")
_UTTERANCE_SPEAKER_KEYS = ("utterance_speakers", "speakers", "speaker_per_utterance")
_ANSWER_KEYS = ("answer", "回答", "答え")
_ACTOR_KEYS = ("actor_id", "actor", "character", "name", "speaker", "who")
_INTENSITY_WORDS = (("very high", 0.9), ("extreme", 0.9), ("intense", 0.9), ("very strong", 0.9),
                    ("high", 0.75), ("strong", 0.75), ("moderate", 0.5), ("medium", 0.5),
                    ("very low", 0.1), ("low", 0.25), ("mild", 0.25), ("slight", 0.25), ("weak", 0.25),
                    ("none", 0.0), ("非常に強", 0.9), ("強", 0.75), ("中", 0.5), ("弱", 0.25))
_SPLIT = re.compile(r"\s*(?:,|、|/|;|\band\b|\+|\|)\s*")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class ParsedAnswer:
    """A model answer in the task's terms.

    ``emotions`` are labels of the task's label set, de-duplicated, in label-set order;
    ``off_taxonomy`` are emotion words the answer gave that fit no label. ``status`` is
    ``"strict"``, ``"lenient"`` or ``"failed"`` (see the module docstring). ``answer`` is the
    answer to a question (tasks without emotion labels only): the ``answer`` field, or the whole free text.
    ``utterances`` holds one label tuple per utterance entry of the answer, in order (``None`` when
    the answer gives no per-utterance labels); ``utterance_speakers`` the speaker named per entry
    (``""`` where none).
    """

    # Defaults are what an answer without the field gives, so builders name only what they found.
    emotions: tuple[str, ...] = ()
    confidences: dict[str, float] | None = None
    intensity: float | None = None
    speaker: str | None = None
    attributions: tuple[tuple[str, str], ...] = ()
    explanation: str | None = None
    status: str = "failed"
    off_taxonomy: tuple[str, ...] = ()
    valence: float | None = None
    arousal: float | None = None
    utterance_speakers: tuple[str, ...] = ()
    answer: str | None = None
    utterances: tuple[tuple[str, ...], ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


FAILED = ParsedAnswer(status="failed")


def _number(value: Any, *, low: float = 0.0, high: float = 1.0) -> float | None:
    """A finite number in [low, high]; percentages and 0-10 scales are rescaled (only when high == 1)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        match = _NUMBER.search(value)
        if not match:
            lowered = value.lower()
            return next((v for word, v in _INTENSITY_WORDS if word in lowered), None) if high == 1.0 else None
        number = float(match.group())
        if "%" in value:
            number /= 100.0
    elif isinstance(value, (int, float)):
        number = float(value)
    else:
        return None
    if not math.isfinite(number):
        return None
    if high == 1.0 and low == 0.0 and number > 1.0:
        number = number / 10.0 if number <= 10.0 else (number / 100.0 if number <= 100.0 else math.nan)
    return number if low <= number <= high else None


class _Collector:
    """Accumulates labels and off-taxonomy words for one answer."""

    def __init__(self, labels: tuple[str, ...]) -> None:
        self.labels = labels
        self.found: set[str] = set()
        self.off: list[str] = []

    def word(self, word: str) -> str | None:
        label = map_word(word, self.labels)[0]
        if label is not None:
            self.found.add(label)
        elif word.strip() and word.strip() not in self.off:
            self.off.append(word.strip()[:64])
        return label

    def value(self, value: Any) -> None:
        """Labels from a string, list (nested: per utterance), or mapping label -> score."""
        if isinstance(value, str):
            pieces = [p for p in _SPLIT.split(value.strip()) if p]
            for piece in pieces:
                if len(piece.split()) > 3 or (not piece.isascii() and len(piece) > 6):
                    self.found.update(scan_text(piece, self.labels)[0])
                else:
                    self.word(piece)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self.value(item)
        elif isinstance(value, Mapping):
            for key, score in value.items():
                number = _number(score)
                if number is None or number >= 0.5:
                    self.word(str(key))

    def ordered(self) -> tuple[str, ...]:
        return tuple(label for label in self.labels if label in self.found)


def _get(mapping: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if key in mapping:
            return mapping[key]
    return None


def _confidences(raw: Any, emotions_raw: Any, labels: tuple[str, ...]) -> dict[str, float] | None:
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(emotions_raw, Mapping):
        pairs = list(emotions_raw.items())
    elif isinstance(raw, (list, tuple)) and isinstance(emotions_raw, (list, tuple)) and len(raw) == len(emotions_raw):
        pairs = list(zip(emotions_raw, raw))
    elif raw is not None and isinstance(emotions_raw, str):
        pairs = [(emotions_raw, raw)]
    elif raw is not None and isinstance(emotions_raw, (list, tuple)) and len(emotions_raw) == 1:
        pairs = [(emotions_raw[0], raw)]
    out: dict[str, float] = {}
    for word, score in pairs:
        label = map_word(str(word), labels)[0] if isinstance(word, str) else None
        number = _number(score)
        if label is not None and number is not None:
            out[label] = max(number, out.get(label, 0.0))
    return {label: out[label] for label in labels if label in out} or None


def _attributions(raw: Any, labels: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs: set[tuple[str, str]] = set()

    def add(actor: Any, value: Any) -> None:
        if actor is None or isinstance(actor, (Mapping, list)):
            return
        collector = _Collector(labels)
        collector.value(value)
        pairs.update((str(actor).strip(), label) for label in collector.found)

    if isinstance(raw, Mapping):
        for actor, value in raw.items():
            add(actor, _get(value, ("emotions", "emotion", "labels")) if isinstance(value, Mapping) else value)
    elif isinstance(raw, (list, tuple)):
        for item in raw:
            if isinstance(item, Mapping):
                add(_get(item, _ACTOR_KEYS), _get(item, ("emotions", "emotion", "labels", "label")))
            elif isinstance(item, (list, tuple)) and len(item) >= 2:
                add(item[0], list(item[1:]))
    order = {label: i for i, label in enumerate(labels)}
    return tuple(sorted(pairs, key=lambda p: (p[0], order[p[1]])))


def _speaker_list(raw: Any) -> tuple[str, ...]:
    """Per-utterance speaker names, in utterance order (``None`` entries become empty strings)."""
    if not isinstance(raw, (list, tuple)):
        return ()
    return tuple("" if item is None else str(item).strip() for item in raw if isinstance(item, (str, int)) or item is None)


def _utterance_entries(raw: Any, *, nested_only: bool = False) -> list[tuple[Any, Any]] | None:
    """``(labels, speaker)`` of each entry of a per-utterance list, or ``None`` if ``raw`` is not one.

    Entries are objects (``{"emotions": [...], "speaker": "A"}``), label lists or single labels;
    with ``nested_only`` (a list found under ``"emotions"``) only a list of label lists counts.
    """
    if not isinstance(raw, (list, tuple)) or not raw:
        return None
    if nested_only and not all(isinstance(item, (list, tuple)) for item in raw):
        return None
    entries: list[tuple[Any, Any]] = []
    for item in raw:
        if isinstance(item, Mapping):
            entry = {str(k).strip().lower(): v for k, v in item.items()}
            entries.append((_get(entry, _EMOTION_KEYS), _get(entry, _SPEAKER_KEYS)))
        elif isinstance(item, (list, tuple, str)) or item is None:
            entries.append((item, None))
        else:
            return None
    return entries


def _utterances(entries: list[tuple[Any, Any]], labels: tuple[str, ...],
                off: list[str]) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """Per-utterance labels (label-set order) and speakers of parsed entries; off-taxonomy words go to ``off``."""
    out, speakers = [], []
    for raw, speaker in entries:
        collector = _Collector(labels)
        if raw is not None:
            collector.value(raw)
        out.append(collector.ordered())
        off.extend(word for word in collector.off if word not in off)
        speakers.append(str(speaker).strip() if isinstance(speaker, (str, int)) and not isinstance(speaker, bool)
                        else "")
    return tuple(out), tuple(speakers) if any(speakers) else ()


def _from_object(value: Any, labels: tuple[str, ...], status: str) -> ParsedAnswer | None:
    collector = _Collector(labels)
    if isinstance(value, list):
        entries = _utterance_entries(value, nested_only=True) if labels else None
        if entries is not None:  # [["Joy"], ["Neutral"]]: one label list per utterance
            utterances, _ = _utterances(entries, labels, collector.off)
            emotions = tuple(page_emotions(utterances, labels))
            return ParsedAnswer(emotions=emotions, status=status, off_taxonomy=tuple(collector.off),
                                utterances=utterances) if any(utterances) else None
        collector.value(value)
        emotions = collector.ordered()
        return ParsedAnswer(emotions=emotions, status=status, off_taxonomy=tuple(collector.off)) if emotions else None
    mapping = {str(k).strip().lower(): v for k, v in value.items()}
    # Without emotion labels, "answer" is the answer to a question, not an emotion.
    emotions_raw = _get(mapping, _EMOTION_KEYS) if labels else None
    answer = _get(mapping, _ANSWER_KEYS) if not labels else None
    entries = _utterance_entries(_get(mapping, _UTTERANCE_KEYS)) if labels else None
    if entries is None and labels:
        entries = _utterance_entries(emotions_raw, nested_only=True)
        if entries is not None:
            emotions_raw = None  # the seed's {'emotions': [[...], ...]}: utterances, page labels by the rule
    utterances, entry_speakers = _utterances(entries, labels, collector.off) if entries is not None else (None, ())
    if emotions_raw is not None:
        collector.value(emotions_raw)
    elif utterances is not None:
        collector.found.update(page_emotions(utterances, labels))
    elif mapping and all(_number(v) is not None and map_word(k, labels)[1] for k, v in mapping.items()):
        emotions_raw = mapping  # {"happy": 0.8, "sad": 0.1}: the keys are the labels
        collector.value(mapping)
    explanation = _get(mapping, _EXPLANATION_KEYS)
    speaker = _get(mapping, _SPEAKER_KEYS)
    if isinstance(speaker, (list, tuple)) and speaker:
        speaker = speaker[0]
    parsed = ParsedAnswer(
        emotions=collector.ordered(),
        confidences=_confidences(_get(mapping, _CONFIDENCE_KEYS), emotions_raw, labels),
        intensity=_number(_get(mapping, _INTENSITY_KEYS)),
        speaker=str(speaker).strip() or None if isinstance(speaker, (str, int)) else None,
        attributions=_attributions(_get(mapping, _ATTRIBUTION_KEYS), labels),
        explanation=str(explanation)[:MAX_EXPLANATION_CHARS] if isinstance(explanation, str) and explanation.strip()
        else None,
        status=status,
        off_taxonomy=tuple(collector.off),
        valence=_number(mapping.get("valence"), low=-1.0),
        arousal=_number(mapping.get("arousal")),
        utterance_speakers=entry_speakers or _speaker_list(_get(mapping, _UTTERANCE_SPEAKER_KEYS)),
        answer=str(answer).strip()[:MAX_EXPLANATION_CHARS] or None
        if isinstance(answer, (str, int, float)) and not isinstance(answer, bool) else None,
        utterances=utterances,
    )
    # An explicit empty label list under an emotion key is an answer ("none of these labels": the
    # right answer to a sample without gold labels), not a parse failure.
    said_none = isinstance(_get(mapping, _EMOTION_KEYS) if labels else None, (list, tuple)) and not collector.off
    useful = (parsed.emotions or parsed.attributions or parsed.intensity is not None or parsed.explanation
              or parsed.off_taxonomy or parsed.utterance_speakers or parsed.answer or parsed.utterances is not None
              or said_none)
    return parsed if useful else None


def _from_text(text: str, labels: tuple[str, ...]) -> ParsedAnswer:
    found, off = scan_text(text, labels) if labels else (set(), [])
    if not labels:
        return ParsedAnswer(speaker=speaker_in_text(text), explanation=text[:MAX_EXPLANATION_CHARS], status="lenient",
                            answer=text[:MAX_EXPLANATION_CHARS])
    if not found:
        return ParsedAnswer(status="failed", off_taxonomy=tuple(off))
    return ParsedAnswer(
        emotions=tuple(label for label in labels if label in found),
        confidences=None,
        intensity=_number(intensity_in_text(text)),
        speaker=speaker_in_text(text),
        attributions=(),
        explanation=text[:MAX_EXPLANATION_CHARS] if len(text.split()) > 3 or not text.isascii() else None,
        status="lenient",
        off_taxonomy=tuple(off),
    )


def parse_answer(text: str | bytes | None, labels: Sequence[str]) -> ParsedAnswer:
    """Parse one raw model answer into a :class:`ParsedAnswer` over ``labels``.

    Parameters
    ----------
    text
        The model's answer; bytes are decoded as UTF-8 with replacement, ``None`` is an empty answer.
    labels
        The task's ordered label set; empty for tasks without emotion labels (speaker links, VQA),
        where an object's ``answer`` field is the answer (not an emotion) and a non-empty free-text
        answer is kept as both explanation and answer, with status ``lenient``.

    Returns
    -------
    ParsedAnswer
        ``status == "failed"`` (and no emotions) when nothing usable was found: a parse failure,
        not an error.

    Examples
    --------
    >>> parse_answer('{"emotions": ["joyful", "怒り"], "intensity": "high"}', ["angry", "happy", "sad"]).emotions
    ('angry', 'happy')
    >>> parse_answer("{'dominant_emotion': 'Calm'}", ["Calm", "Sad"]).status
    'lenient'
    """
    labels = tuple(labels)
    stripped = answer_text(text)[:MAX_PARSE_CHARS].strip()
    if not stripped:
        return FAILED
    found = find_object(stripped)
    if found is not None:
        parsed = _from_object(found[0], labels, found[1])
        if parsed is not None:
            return parsed
    return _from_text(stripped, labels)
