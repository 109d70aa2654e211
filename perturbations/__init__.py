"""Perturbations of canonical samples for robustness, cross-language and ablation reports.

>>> from comic_emotion.perturbations import get_perturbation, Item
>>> perturbation = get_perturbation("ocr_noise", severity=3, seed=0)
>>> perturbation.description.name, perturbation.description.category
('ocr_noise', 'robustness')

Importing this package is cheap: PIL and nlpaug load on first use.
"""

from __future__ import annotations

from typing import Any

from comic_emotion.perturbations.base import (
    CATEGORIES,
    SEVERITIES,
    Description,
    Item,
    Perturbation,
    check_severity,
    rng_for,
)
from comic_emotion.perturbations.occlusion import (
    BubbleAblation,
    BubbleOcclusion,
    FaceAblation,
    FaceOcclusion,
    PatchOcclusion,
)
from comic_emotion.perturbations.text_noise import OcrNoise
from comic_emotion.perturbations.translation import TRANSLATION_SHIFTS, TranslationShift

PERTURBATIONS: dict[str, type[Perturbation]] = {
    cls.name: cls
    for cls in (PatchOcclusion, BubbleOcclusion, FaceOcclusion, OcrNoise, BubbleAblation, FaceAblation,
                *TRANSLATION_SHIFTS.values())
}


def get_perturbation(name: str, severity: int, *, seed: int = 0, **options: Any) -> Perturbation:
    """Build the perturbation ``name`` at ``severity`` (1–5).

    ``options`` are class-specific (``mt_model=`` for translation shifts, ``ops=`` for ``ocr_noise``).

    Raises
    ------
    ValueError
        Unknown name (the message lists the known ones), severity outside 1–5, or a bad option.
    """
    try:
        cls = PERTURBATIONS[name]
    except KeyError:
        raise ValueError(f"unknown perturbation {name!r}; known: {', '.join(sorted(PERTURBATIONS))}") from None
    check_severity(severity)
    try:
        return cls(severity, seed=seed, **options)
    except TypeError:
        raise ValueError(f"perturbation {name!r} takes no option(s) {sorted(options)}") from None


__all__ = ["CATEGORIES", "PERTURBATIONS", "SEVERITIES", "Description", "Item", "Perturbation", "TranslationShift",
           "check_severity", "get_perturbation", "rng_for"]
