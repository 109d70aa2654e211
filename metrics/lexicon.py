"""Emotion words (English and Japanese) and how they map onto a task's label set.

A model answering in free text says "joyful", "terrified" or 怒り rather than a label of the
task. The lexicon maps such words to *concepts* (fine-grained emotion names, after the emotion
wheel of Plutchik 1980 and the circumplex terms of the art corpora), and :func:`label_for` maps a
concept onto one label of a given label set:

1. a label whose name (case-insensitive) is the concept or one of its word forms;
2. otherwise, the labels sharing the concept's canonical class (:mod:`comic_emotion.taxonomy`);
   the one named after the class (e.g. ``Happy`` for class ``happy``) wins, else the first in the
   label set's order;
3. otherwise none: the word is *off-taxonomy* for this label set.

Everything here is a constant table and a pure function: the same word always maps the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType

from comic_emotion.taxonomy import to_canonical

# concept -> its canonical class (for concepts that are not themselves native labels)
_CLASS_OF_CONCEPT: Mapping[str, str] = MappingProxyType({
    "angry": "angry", "frustrated": "angry", "disgust": "disgust", "bored": "other",
    "fear": "fear", "alarmed": "fear", "tense": "fear", "tired": "other", "happy": "happy", "amusement": "happy",
    "contentment": "happy", "excited": "happy", "sad": "sad", "surprise": "surprise", "awe": "surprise",
    "aroused": "surprise", "neutral": "neutral", "calm": "neutral", "relaxed": "neutral", "other": "other",
})

# Word forms under which a concept may appear as a label name of some corpus.
_FORMS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "angry": ("angry", "anger"), "happy": ("happy", "happiness", "joy"), "sad": ("sad", "sadness"),
    "surprise": ("surprise", "surprised"), "fear": ("fear", "afraid"), "disgust": ("disgust", "disgusted"),
    "excited": ("excited", "excitement"), "contentment": ("contentment", "content"),
    "amusement": ("amusement", "amused"), "other": ("other", "others", "something else"),
})

# concept -> English word families (noun, adjective, verb, *other forms), ``None`` where English has no
# such form: every emotion word is listed with its siblings, so "worry" maps where "worried" does
# (a test walks this table). Lower case.
Family = tuple  # (noun | None, adjective | None, verb | None, *more forms)
_FAMILIES: Mapping[str, tuple[Family, ...]] = MappingProxyType({
    "angry": (("anger", "angry", "anger"), ("fury", "furious", "infuriate", "infuriated"),
              ("rage", "enraged", "enrage"), ("irritation", "irritated", "irritate"),
              ("annoyance", "annoyed", "annoy"), ("ire", "irate", None), ("hostility", "hostile", None),
              ("outrage", "outraged", "outrage"), (None, "livid", None), ("resentment", "resentful", "resent"),
              ("indignation", "indignant", None), ("wrath", "wrathful", None), (None, "mad", "madden")),
    "frustrated": (("frustration", "frustrated", "frustrate"), ("exasperation", "exasperated", "exasperate")),
    "disgust": (("disgust", "disgusted", "disgust", "disgusting"), ("revulsion", "revolted", "revolt"),
                ("repulsion", "repulsed", "repulse"), (None, "grossed", None),
                ("loathing", "loathsome", "loathe"), ("contempt", "contemptuous", None),
                ("nausea", "nauseated", "nauseate")),
    "fear": (("fear", "fearful", "fear", "afraid"), ("scare", "scared", "scare"),
             ("fright", "frightened", "frighten"), ("terror", "terrified", "terrify"),
             ("horror", "horrified", "horrify"), ("panic", "panicked", "panic"), ("dread", None, "dread"),
             ("worry", "worried", "worry"), ("nervousness", "nervous", None), ("anxiety", "anxious", None),
             ("concern", "concerned", "concern")),
    "alarmed": (("alarm", "alarmed", "alarm"), (None, "startled", "startle")),
    "tense": (("tension", "tense", "tense"), ("stress", "stressed", "stress"), ("unease", "uneasy", None)),
    "happy": (("happiness", "happy", None), ("joy", "joyful", None, "joyous"), ("gladness", "glad", "gladden"),
              ("cheer", "cheerful", "cheer"), ("delight", "delighted", "delight"),
              ("pleasure", "pleased", "please"), ("elation", "elated", "elate"), ("thrill", "thrilled", "thrill"),
              ("ecstasy", "ecstatic", None), ("smile", "smiling", "smile"), ("jubilation", "jubilant", None),
              ("merriment", "merry", None), ("glee", "gleeful", None), ("bliss", "blissful", None)),
    "amusement": (("amusement", "amused", "amuse"), (None, "funny", None), ("laughter", "laughing", "laugh"),
                  ("playfulness", "playful", None), ("humor", "humorous", None, "humour")),
    "contentment": (("contentment", "content", "content"), ("satisfaction", "satisfied", "satisfy"),
                    ("fulfilment", "fulfilled", "fulfil", "fulfillment")),
    "excited": (("excitement", "excited", "excite"), ("enthusiasm", "enthusiastic", None),
                ("eagerness", "eager", None), ("energy", "energetic", "energize")),
    "sad": (("sadness", "sad", "sadden"), ("unhappiness", "unhappy", None), ("sorrow", "sorrowful", "sorrow"),
            ("grief", "grieving", "grieve"), ("depression", "depressed", "depress"),
            ("melancholy", "melancholic", None), ("misery", "miserable", None), ("heartbreak", "heartbroken", None),
            ("gloom", "gloomy", None), ("tears", "tearful", None), (None, "crying", "cry"),
            ("upset", "upset", "upset"), ("loneliness", "lonely", None), ("despair", "despairing", "despair"),
            ("mourning", "mournful", "mourn"), (None, "downcast", None),
            ("disappointment", "disappointed", "disappoint")),
    "surprise": (("surprise", "surprised", "surprise"), ("astonishment", "astonished", "astonish"),
                 ("amazement", "amazed", "amaze"), ("shock", "shocked", "shock"), (None, "stunned", "stun"),
                 (None, "astounded", "astound"), ("bewilderment", "bewildered", "bewilder")),
    "awe": (("awe", "awed", "awe", "awestruck"), ("wonder", None, "wonder"),
            ("admiration", "admiring", "admire")),
    "aroused": (("arousal", "aroused", "arouse"), ("passion", "passionate", None)),
    "neutral": (("neutrality", "neutral", None), (None, "expressionless", None),
                ("indifference", "indifferent", None), (None, "deadpan", None), (None, "blank", None),
                (None, "impassive", None)),
    "calm": (("calm", "calm", "calm", "calmness"), ("peace", "peaceful", None), ("serenity", "serene", None),
             ("tranquility", "tranquil", None), ("composure", "composed", None)),
    "relaxed": (("relaxation", "relaxed", "relax", "relaxing"), ("relief", "relieved", "relieve")),
    "bored": (("boredom", "bored", "bore", "boring"), ("apathy", "apathetic", None)),
    "tired": (("tiredness", "tired", "tire"), ("exhaustion", "exhausted", "exhaust"), ("weariness", "weary", None),
              ("sleepiness", "sleepy", None), ("fatigue", "fatigued", "fatigue"), ("drowsiness", "drowsy", None)),
})
# Entries outside the families: phrases, and the catch-all class's names (not emotion words).
_PHRASES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "relaxed": ("at ease",), "other": ("other", "others", "something else"),
})

# concept -> English words (lower case; multi-word entries are matched as phrases)
_EN: Mapping[str, tuple[str, ...]] = MappingProxyType({
    concept: tuple(dict.fromkeys([w for family in _FAMILIES.get(concept, ()) for w in family if w]
                                 + list(_PHRASES.get(concept, ()))))
    for concept in dict.fromkeys([*_FAMILIES, *_PHRASES])
})

# concept -> Japanese (and shared Chinese) stems, matched as substrings because the text is unsegmented.
_JA: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "angry": ("怒り", "怒っ", "怒る", "怒", "憤", "腹立", "イライラ", "苛立", "愤怒", "生气"),
    "disgust": ("嫌悪", "うんざり", "気持ち悪", "軽蔑", "厌恶", "恶心"),
    "fear": ("恐怖", "恐れ", "怖", "こわ", "おびえ", "怯", "不安", "害怕"),
    "happy": ("喜び", "嬉し", "うれし", "楽し", "たのし", "幸せ", "幸福", "喜", "快乐", "高兴", "开心"),
    "amusement": ("面白", "おもしろ", "愉快"),
    "contentment": ("満足", "満ち足り"),
    "excited": ("興奮", "わくわく", "ワクワク", "兴奋"),
    "sad": ("悲し", "かなし", "悲しみ", "哀し", "寂し", "さびし", "泣", "悲伤", "难过", "伤心"),
    "surprise": ("驚き", "驚", "おどろ", "びっくり", "吃惊", "惊讶"),
    "awe": ("畏敬", "感嘆", "敬畏"),
    "neutral": ("中立", "無表情", "ニュートラル", "平静", "中性"),
    "calm": ("穏やか", "落ち着", "冷静", "平穏"),
    "relaxed": ("リラックス", "安心", "安堵"),
    "bored": ("退屈", "つまらな", "无聊"),
    "tense": ("緊張", "紧张"),
    "tired": ("疲れ", "眠そう", "疲劳"),
    "frustrated": ("もどかし",),
    "alarmed": ("警戒",),
})

EN_WORDS: Mapping[str, str] = MappingProxyType({w: c for c, words in _EN.items() for w in words})
JA_STEMS: tuple[tuple[str, str], ...] = tuple(
    sorted(((s, c) for c, stems in _JA.items() for s in stems), key=lambda sc: -len(sc[0]))
)
EN_PHRASES: tuple[str, ...] = tuple(w for w in EN_WORDS if " " in w)


def concept_of(word: str) -> str | None:
    """The concept of one emotion word (any case, EN or JA), or ``None`` if it is no known emotion word."""
    key = " ".join(word.strip().lower().replace("_", " ").replace("-", " ").split())
    if key in EN_WORDS:
        return EN_WORDS[key]
    for stem, concept in JA_STEMS:
        if stem in key:
            return concept
    return None


@lru_cache(maxsize=64)
def _label_index(labels: tuple[str, ...]) -> dict[str, str]:
    """lower-cased label name -> label, for a label set."""
    return {label.lower(): label for label in labels}


def _class_of(label: str) -> str | None:
    try:
        return to_canonical(label)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def label_for(concept_or_label: str, labels: tuple[str, ...]) -> str | None:
    """Map a concept (or a label name of any corpus) onto one label of ``labels``; ``None`` if none fits.

    >>> label_for("joy", ("Calm", "Happy", "Sad"))
    'Happy'
    >>> label_for("happy", ("Anger", "Joy")), label_for("disgust", ("Calm", "Happy")) is None
    ('Joy', True)
    """
    index = _label_index(labels)
    key = concept_or_label.strip().lower()
    if key in index:
        return index[key]
    for form in _FORMS.get(key, ()):
        if form in index:
            return index[form]
    cls = _CLASS_OF_CONCEPT.get(key) or _class_of(key)
    if cls is None:
        return None
    same_class = [label for label in labels if _class_of(label) == cls]
    if not same_class:
        return None
    for form in _FORMS.get(cls, (cls,)):
        if form in index and index[form] in same_class:
            return index[form]
    return same_class[0]


def map_word(word: str, labels: Sequence[str]) -> tuple[str | None, bool]:
    """Map a word a model wrote onto ``labels``.

    Returns
    -------
    (label, is_emotion_word)
        ``label`` is ``None`` when nothing fits; ``is_emotion_word`` says whether the word was
        recognised as an emotion at all (a recognised word with no label is off-taxonomy).
    """
    labels = tuple(labels)
    direct = label_for(word, labels)
    if direct is not None:
        return direct, True
    concept = concept_of(word)
    if concept is None:
        return None, False
    return label_for(concept, labels), True
