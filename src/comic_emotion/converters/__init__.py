"""Converters of the published corpora into prepared splits (``comic-emotion data prepare``).

Each converter module defines a ``CONVERTER`` (:class:`comic_emotion.converters.base.Converter`);
the dataset registry (:data:`comic_emotion.data.DATASETS`) names each corpus's module, imported on
use so that listing converters stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from comic_emotion.data import DATASETS

if TYPE_CHECKING:
    from comic_emotion.converters.base import Converter

#: Dataset key -> converter module, for the corpora a user prepares (a view of the dataset registry).
MODULES: dict[str, str] = {key: d.converter for key, d in DATASETS.items() if d.converter is not None}


def get_converter(name: str) -> Converter:
    """The converter of dataset ``name``; ``ValueError`` listing the known names otherwise."""
    if name not in MODULES:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(MODULES)}")
    module = importlib.import_module(f"comic_emotion.converters.{MODULES[name]}")
    converters = getattr(module, "CONVERTERS", None)
    return converters[name] if converters else module.CONVERTER
