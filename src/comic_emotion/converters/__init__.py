"""Converters of the published corpora into prepared splits (``comic-emotion data prepare``).

Each converter module defines a ``CONVERTER`` (:class:`comic_emotion.converters.base.Converter`);
this registry maps the dataset key to its module, imported on use so that listing converters
stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from comic_emotion.converters.base import Converter

MODULES: dict[str, str] = {
    "emorecom": "emorecom",
    "emocomics35": "emocomics35",
    "manga109-emotion": "manga109",
    "manga109-dialog": "manga109",
    "openmantra": "openmantra",
    "emoart": "emoart",
    "artemis": "artemis",
    "seed-jsonl": "seed_jsonl",
    "mangavqa": "mangavqa",
    "emid": "emid",
}


def get_converter(name: str) -> Converter:
    """The converter of dataset ``name``; ``ValueError`` listing the known names otherwise."""
    if name not in MODULES:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(MODULES)}")
    module = importlib.import_module(f"comic_emotion.converters.{MODULES[name]}")
    converters = getattr(module, "CONVERTERS", None)
    return converters[name] if converters else module.CONVERTER
