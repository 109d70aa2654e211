"""Translation shift: the text channel read in another language, gold labels untouched.

The new text comes from the parallel text stored in each region's ``translations`` (the demo set carries
EN/JA, OpenMantra JA/EN/ZH). Where a dataset has none, a local machine-translation checkpoint given by
path (MarianMT or NLLB through ``transformers``; loaded with ``local_files_only``, never downloaded)
fills the gap. Severity is the share of text regions switched (1: one in five, 5: the whole page), so
the curve runs from a mixed-language page to a fully translated one. Scores of this family are reported
under cross-language, not averaged into noise robustness.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from comic_emotion.perturbations.base import Item, Perturbation, stochastic_round

LANGUAGES = ("en", "ja", "zh")
# NLLB-200 language codes; MarianMT checkpoints are one direction each and need none.
NLLB_CODES = {"en": "eng_Latn", "ja": "jpn_Jpan", "zh": "zho_Hans"}


class MachineTranslator:
    """Greedy (deterministic) translation with a local seq2seq checkpoint.

    Parameters
    ----------
    path
        Directory of a ``transformers`` MarianMT or NLLB checkpoint.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not (self.path / "config.json").is_file():
            problem = "does not exist" if not self.path.exists() else "has no config.json"
            raise ValueError(f"machine-translation checkpoint {self.path} {problem}; pass the directory of a "
                             "local MarianMT/NLLB checkpoint (nothing is downloaded)")
        self._model = self._tokenizer = None

    def translate(self, text: str, *, source: str, target: str) -> str:
        """Translate one region's text, greedily, so the same checkpoint gives the same text every run.

        The model loads on first use (constructing a shift that never needs MT costs nothing); NLLB
        needs the language codes, MarianMT checkpoints are one direction and ignore them.
        """
        # lazy: transformers
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        if self._model is None:
            self._tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
            self._model = AutoModelForSeq2SeqLM.from_pretrained(self.path, local_files_only=True).eval()
        kwargs: dict[str, Any] = {}
        if "nllb" in type(self._tokenizer).__name__.lower():
            self._tokenizer.src_lang = NLLB_CODES[source]
            kwargs["forced_bos_token_id"] = self._tokenizer.convert_tokens_to_ids(NLLB_CODES[target])
        batch = self._tokenizer([text], return_tensors="pt")
        output = self._model.generate(**batch, do_sample=False, num_beams=1, max_new_tokens=256, **kwargs)
        return self._tokenizer.batch_decode(output, skip_special_tokens=True)[0]


class TranslationShift(Perturbation):
    """Switch ``SHARE[severity - 1]`` of the text regions to ``target`` from their parallel text."""

    family = "translation"
    category = "cross_language"
    target: str
    SHARE = (0.2, 0.4, 0.6, 0.8, 1.0)

    def __init__(self, severity: int, *, seed: int = 0, mt_model: str | Path | None = None) -> None:
        super().__init__(severity, seed=seed)
        self.translator = MachineTranslator(mt_model) if mt_model is not None else None

    def parameters(self) -> dict[str, Any]:
        """Target, share and the MT checkpoint's name: stored text and machine translation differ in kind."""
        return {"target": self.target, "share": self.SHARE[self.severity - 1],
                "mt_model": None if self.translator is None else self.translator.path.name}

    def _translated(self, record: dict[str, Any], region: dict[str, Any]) -> str:
        stored = (region.get("translations") or {}).get(self.target)
        if stored is not None:
            return stored
        if self.translator is not None:
            return self.translator.translate(region["text"], source=region["lang"], target=self.target)
        available = sorted({region["lang"], *(region.get("translations") or {})})
        raise ValueError(f"sample {record['id']!r}: text region {region['id']!r} has no {self.target!r} text "
                         f"(available: {', '.join(available)}); choose one of those or pass an MT checkpoint path")

    def apply(self, item: Item, rng: random.Random) -> Item:
        """Switch a ``SHARE`` of the regions not in ``target`` yet; the original moves to ``translations``.

        Keeping the original as parallel text lets another shift (or a report) go back to it. Without an
        MT checkpoint, every pending region must have stored text, not only those this seed draws, so a
        gap fails for every seed alike.
        """
        record = dict(item.record)
        regions = list(record.get("text_regions") or ())
        pending = [i for i, r in enumerate(regions) if r["lang"].split("-")[0] != self.target and r["text"]]
        if not pending:
            reason = "no text regions" if not regions else f"text already in {self.target!r}"
            return self._result(record, item.image, changed=False, skipped=reason, regions=len(regions))
        if self.translator is None:  # fail on any gap, not only on the regions this seed happens to draw
            for i in pending:
                self._translated(record, regions[i])
        count = min(len(pending), stochastic_round(self.SHARE[self.severity - 1] * len(pending), rng))
        chosen = sorted(rng.sample(pending, count))
        for i in chosen:
            region = regions[i]
            text = self._translated(record, region)
            translations = {k: v for k, v in (region.get("translations") or {}).items() if k != self.target}
            translations[region["lang"]] = region["text"]  # the original stays available, as parallel text
            regions[i] = {**region, "text": text, "lang": self.target, "translations": translations}
        record["text_regions"] = regions
        return self._result(record, item.image, changed=bool(chosen), regions=len(regions),
                            switched=[regions[i]["id"] for i in chosen])


def _shift(target: str) -> type[TranslationShift]:
    return type(f"TranslationShift_{target}", (TranslationShift,),
                {"name": f"translation_{target}", "target": target, "__doc__": TranslationShift.__doc__})


TRANSLATION_SHIFTS = {cls.name: cls for cls in map(_shift, LANGUAGES)}
