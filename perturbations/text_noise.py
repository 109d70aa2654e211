"""OCR noise on the text channel, through nlpaug, with a Japanese confusion table.

Per text region the perturbation draws whether the region is garbled (``REGION_P``), then one error
type, whose rate grows with severity:

- ``confusion``: nlpaug ``OcrAug`` with nlpaug's English map extended by common Latin confusions, and
  for Japanese/Chinese a table of look-alike kana and kanji (:data:`CJK_CONFUSIONS`);
- ``typo``: nlpaug ``KeyboardAug`` (QWERTY; Latin-script text only: CJK text is typed through an IME);
- ``delete`` / ``insert``: nlpaug ``RandomCharAug``, inserting OCR-like specks (``.,'|``; ``・。ー``);
- ``split``: nlpaug ``SplitAug``; ``merge``: spaces between words dropped (nlpaug has no merge);

and, independently, line breaks are dropped with probability ``LINE_BREAK_P`` (OCR reading a balloon as
one line). Lines are augmented one by one with a whitespace tokenizer and ``" ".join``: nlpaug's default
tokenizer would turn "can't" into "can ' t".

Seeding: nlpaug draws every random choice through ``self.sample`` (``random.sample`` on lists,
``np.random.randint`` on ints; nlpaug 1.1.11, pinned). Each augmenter's ``sample`` is bound to the
per-sample ``random.Random``, so the process-global ``random``/``np.random`` states are never read nor
changed (nothing to restore, and no 100 µs ``np.random.get_state`` per sample); a test guards this.
"""

from __future__ import annotations

import json
import os
import random
from functools import lru_cache
from typing import Any

from comic_emotion.perturbations.base import Item, Perturbation

CJK_LANGS = ("ja", "zh")


def _pairs(*groups: str) -> dict[str, list[str]]:
    """Confusion map where every character of a group can be misread as any other of its group."""
    table: dict[str, list[str]] = {}
    for group in groups:
        for char in group:
            table.setdefault(char, []).extend(other for other in group if other != char)
    return table


def _voicing_marks() -> list[str]:
    """Kana that differ only by (han)dakuten, e.g. か/が, は/ば/ぱ: OCR drops or adds the marks."""
    groups = []
    for base in "かきくけこさしすせそたちつてとカキクケコサシスセソタチツテト":
        groups.append(base + chr(ord(base) + 1))
    for base in "はひふへほハヒフヘホ":
        groups.append(base + chr(ord(base) + 1) + chr(ord(base) + 2))
    return groups


# Look-alike characters of Japanese (and shared CJK) print, as OCR engines confuse them: katakana vs
# katakana (シ/ツ, ソ/ン), katakana vs kanji (カ/力, ロ/口, エ/工, ニ/二, タ/夕, ト/卜, ハ/八, ー/一),
# hiragana vs katakana (へ/ヘ, り/リ), full vs small kana, similar kanji, and full/half-width marks.
CJK_CONFUSIONS: dict[str, list[str]] = _pairs(
    "シツ", "ソンノ", "カ力", "ロ口", "エ工", "ニ二", "タ夕", "ト卜", "ハ八", "ー一—", "へヘ", "りリ", "べベ", "ぺペ",
    "つっ", "ツッ", "やゃ", "ゆゅ", "よょ", "あぁ", "アァ", "イィ", "オォ",
    "己已巳", "未末", "土士", "千干", "人入", "大太犬", "日曰", "問間", "今令",
    "！!", "？?", "。o", "、,", "「『", "」』", *_voicing_marks(),
)
# Latin look-alikes beyond nlpaug's en.json (which maps only 0 1 2 5 6 8 9 o r C O E).
LATIN_EXTRA: dict[str, list[str]] = {
    "l": ["1", "I", "|"], "I": ["l", "1"], "i": ["l", "1"], "e": ["c"], "c": ["e"], "a": ["o"],
    "u": ["v"], "v": ["u"], "n": ["h"], "h": ["b"], "m": ["rn"], "w": ["vv"], "S": ["5"], "B": ["8"],
}
SPECKS = {"latin": list(".,'`|-"), "cjk": list("・。、ーッ丶")}
OPS = {"latin": ("confusion", "typo", "delete", "insert", "split", "merge"), "cjk": ("confusion", "delete", "insert")}


def _script(lang: str) -> str:
    return "cjk" if lang.split("-")[0] in CJK_LANGS else "latin"


@lru_cache(maxsize=None)
def _confusion_map(script: str) -> dict[str, list[str]]:
    if script == "cjk":
        return CJK_CONFUSIONS

    # lazy: nlpaug
    from nlpaug.util import LibraryUtil

    with open(os.path.join(LibraryUtil.get_res_dir(), "char", "ocr", "en.json"), encoding="utf-8") as handle:
        table = json.load(handle)
    for char, others in LATIN_EXTRA.items():
        table[char] = table.get(char, []) + [o for o in others if o not in table.get(char, [])]
    return table


def build_augmenter(op: str, script: str, word_p: float, char_p: float):
    """The nlpaug augmenter for one error type (public so the benchmark calls the very same object raw)."""
    # lazy: nlpaug
    import nlpaug.augmenter.char as nac
    import nlpaug.augmenter.word as naw

    words = {"tokenizer": str.split, "reverse_tokenizer": " ".join}
    chars = {"aug_word_p": word_p, "aug_char_p": char_p, "aug_char_min": 1, "aug_word_min": 1, **words}
    if op == "confusion":
        return nac.OcrAug(dict_of_path=_confusion_map(script), min_char=1, **chars)
    if op == "typo":
        return nac.KeyboardAug(min_char=2, include_special_char=False, **chars)
    if op in ("delete", "insert"):
        return nac.RandomCharAug(action=op, min_char=2, candidates=SPECKS[script], **chars)
    if op == "split":
        return naw.SplitAug(aug_p=word_p, aug_min=1, min_char=4, **words)
    raise ValueError(f"unknown OCR error type {op!r}; known: {', '.join(OPS['latin'])}")


def _bind(augmenter: Any, owner: "OcrNoise") -> None:
    """Route nlpaug's ``self.sample`` to ``owner``'s current per-sample rng (``BaseAugmenter.sample``'s semantics).

    The rng is read from the owner at each draw, so an augmenter is bound once, when it is built; an
    ``OcrNoise`` instance is therefore not shared between threads (lmms-eval's hooks run in one).
    """

    def sample(x: Any, num: int | None = None) -> Any:
        if type(x) is list:
            return owner._rng.sample(x, num)
        return owner._rng.randrange(1, x - 1)  # np.random.randint(1, x - 1): upper bound exclusive

    augmenter.sample = sample


class OcrNoise(Perturbation):
    """OCR-like corruption of the text regions' ``text`` (what the prompt shows; ``translations`` are kept).

    ``ops`` restricts the error types (the benchmark uses ``("confusion",)`` to compare with a raw
    ``OcrAug`` call); by default every type of the region's script can be drawn.
    """

    name = "ocr_noise"
    family = "text"
    REGION_P = (0.4, 0.6, 0.8, 0.9, 1.0)  # share of text regions garbled
    WORD_P = (0.1, 0.2, 0.3, 0.45, 0.6)  # share of words (of a CJK line: the line) hit by the error type
    CHAR_P = (0.1, 0.15, 0.2, 0.3, 0.4)  # share of characters changed inside a hit word
    LINE_BREAK_P = (0.2, 0.4, 0.6, 0.8, 1.0)

    def __init__(self, severity: int, *, seed: int = 0, ops: tuple[str, ...] | None = None) -> None:
        super().__init__(severity, seed=seed)
        unknown = sorted(set(ops or ()) - set(OPS["latin"]))
        if unknown:
            raise ValueError(f"unknown OCR error type(s) {unknown}; known: {', '.join(OPS['latin'])}")
        self.ops = tuple(ops) if ops else None
        self._allowed = {script: [op for op in names if self.ops is None or op in self.ops] or ["confusion"]
                         for script, names in OPS.items()}
        self._augmenters: dict[tuple[str, str], Any] = {}
        self._rng = random.Random(0)  # replaced by the per-sample rng in apply()

    def parameters(self) -> dict[str, Any]:
        """Every rate of this severity plus the allowed error types: two sets with equal parameters match."""
        k = self.severity - 1
        return {"region_p": self.REGION_P[k], "word_p": self.WORD_P[k], "char_p": self.CHAR_P[k],
                "line_break_p": self.LINE_BREAK_P[k], "ops": "+".join(self.ops or OPS["latin"])}

    def _augmenter(self, op: str, script: str) -> Any:
        key = (op, script)
        if key not in self._augmenters:
            k = self.severity - 1
            augmenter = build_augmenter(op, script, self.WORD_P[k], self.CHAR_P[k])
            _bind(augmenter, self)
            self._augmenters[key] = augmenter
        return self._augmenters[key]

    def _edit(self, op: str, script: str, line: str) -> str:
        if not line.strip():
            return line
        if op == "merge":
            p, rng = self.WORD_P[self.severity - 1], self._rng
            words = line.split(" ")
            return "".join(w + (" " if i + 1 < len(words) and rng.random() >= p else "") for i, w in enumerate(words))
        return (self._augmenter(op, script).augment(line, num_thread=1) or [line])[0]

    def garble(self, text: str, lang: str, rng: random.Random) -> tuple[str, str]:
        """Return ``(noisy text, error type)`` for one region's text."""
        self._rng = rng
        script = _script(lang)
        allowed = self._allowed[script]
        op = allowed[rng.randrange(len(allowed))] if len(allowed) > 1 else allowed[0]
        if "\n" not in text:
            return self._edit(op, script, text), op
        lines = [self._edit(op, script, line) for line in text.split("\n")]
        joiner = "" if script == "cjk" else " "
        p_break = self.LINE_BREAK_P[self.severity - 1]
        out = lines[0]
        for line in lines[1:]:
            out += (joiner if rng.random() < p_break else "\n") + line
        return out, op

    def apply(self, item: Item, rng: random.Random) -> Item:
        """Garble each region with probability ``REGION_P``; the image and the translations stay as they were.

        Only ``text`` changes: it is what the prompt shows, i.e. what an OCR engine would have read;
        ``translations`` are reference parallel text, not OCR output.
        """
        record = dict(item.record)
        regions = list(record.get("text_regions") or ())
        if not regions:
            return self._result(record, item.image, changed=False, skipped="no text regions")
        changed_ids, ops = [], {}
        p_region = self.REGION_P[self.severity - 1]
        for i, region in enumerate(regions):
            if not region["text"] or rng.random() >= p_region:
                continue
            text, op = self.garble(region["text"], region["lang"], rng)
            if text != region["text"]:
                regions[i] = {**region, "text": text}
                changed_ids.append(region["id"])
                ops[region["id"]] = op
        record["text_regions"] = regions
        return self._result(record, item.image, changed=bool(changed_ids), regions=len(regions),
                            changed_regions=changed_ids, error_types=ops)
