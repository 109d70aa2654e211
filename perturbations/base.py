"""The perturbation contract: an input pair, a frozen description, a per-sample rng, a new output.

A perturbation maps an :class:`Item` (canonical record + optional PIL image) to a *new* item with the
same id; the input is never mutated (what changes is copied, the rest is shared read-only). What was
done is recorded in ``record["meta"]["perturbation"]``::

    {"name": "ocr_noise", "family": "text", "category": "robustness", "severity": 3, "seed": 0,
     "parameters": {...}, "changed": true, "details": {...}}

Randomness comes only from :func:`rng_for`, a ``random.Random`` seeded from
``sha256(seed, name, severity, sample id)``, so a sample perturbs alike alone, in any order and in any
process (Python's ``hash()`` is salted per process and is never used). ``random.Random`` rather than a
NumPy generator because seeding it costs ~4 µs against ~20 µs, and nlpaug draws through the same API.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

SEVERITIES = (1, 2, 3, 4, 5)
# Where a perturbation's scores go in the report: noise robustness (averaged into mCE), language shift
# (kept apart, the gold labels are language independent), and modality ablations (full masks: they ask
# "how much does the model use this channel", not "how robust is it").
CATEGORIES = ("robustness", "cross_language", "ablation")


@dataclass(frozen=True)
class Item:
    """One sample: the canonical record (see :mod:`comic_emotion.schema`) and its decoded image."""

    record: Mapping[str, Any]
    image: Any = None  # PIL.Image.Image | None; typed loosely so this module does not import PIL


@dataclass(frozen=True)
class Description:
    """Everything that determines a perturbation's output; stored with every result and export."""

    name: str
    family: str
    category: str
    severity: int
    seed: int
    parameters: tuple[tuple[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The description as plain JSON, for the ``meta.perturbation`` stamp and export manifests.

        ``parameters`` is kept as a sorted tuple on the frozen dataclass (hashable, order-stable) and
        only becomes a mapping here, where it is written out.
        """
        return {"name": self.name, "family": self.family, "category": self.category, "severity": self.severity,
                "seed": self.seed, "parameters": dict(self.parameters)}


def rng_for(sample_id: str, *, seed: int, name: str, severity: int) -> random.Random:
    """The random source of one (seed, perturbation, severity, sample) cell.

    >>> rng_for("s1", seed=0, name="ocr_noise", severity=3).random() == \\
    ...     rng_for("s1", seed=0, name="ocr_noise", severity=3).random()
    True
    """
    key = f"{seed}\x1f{name}\x1f{severity}\x1f{sample_id}".encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def check_severity(severity: Any) -> int:
    """Return ``severity`` as an int in 1..5 or raise a ValueError saying what was given."""
    if isinstance(severity, bool) or not isinstance(severity, int) or severity not in SEVERITIES:
        raise ValueError(f"severity must be an integer from 1 to 5; got {severity!r}")
    return severity


def stochastic_round(value: float, rng: random.Random) -> int:
    """Round ``value`` up with probability equal to its fractional part (unbiased count of boxes to mask)."""
    whole = int(value)
    return whole + (rng.random() < value - whole)


class Perturbation:
    """Base class: subclasses set ``name``/``family``/``category``, read their 5-entry tables, and implement
    :meth:`apply`.

    Parameters
    ----------
    severity
        1 (mild) to 5 (strong); indexes the class's tables as ``TABLE[severity - 1]`` (ImageNet-C style).
    seed
        Global seed; with the name, the severity and the sample id it fixes every random choice.
    """

    name: ClassVar[str]
    family: ClassVar[str]
    category: ClassVar[str] = "robustness"

    def __init__(self, severity: int, *, seed: int = 0) -> None:
        self.severity = check_severity(severity)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an integer; got {seed!r}")
        self.seed = seed

    def parameters(self) -> dict[str, Any]:
        """The severity-dependent parameters, for the description."""
        return {}

    @property
    def description(self) -> Description:
        """Everything that fixes this perturbation's output, stored with results so two sets compare.

        Built on access rather than in ``__init__``: :meth:`parameters` may read attributes a subclass
        sets after ``Perturbation.__init__``.
        """
        return Description(self.name, self.family, self.category, self.severity, self.seed,
                           tuple(sorted(self.parameters().items())))

    def rng(self, sample_id: str) -> random.Random:
        """The random source for one sample, from (seed, name, severity, id) only.

        A sample therefore perturbs alike alone, in any order and in any process; see :func:`rng_for`.
        """
        return rng_for(sample_id, seed=self.seed, name=self.name, severity=self.severity)

    def __call__(self, item: Item) -> Item:
        """Perturb ``item`` with its own rng (the usual entry point)."""
        return self.apply(item, self.rng(str(item.record["id"])))

    def apply(self, item: Item, rng: random.Random) -> Item:
        """Return a new item; subclasses build it with :meth:`_result`."""
        raise NotImplementedError

    def _result(self, record: dict[str, Any], image: Any, *, changed: bool, **details: Any) -> Item:
        """Stamp ``record`` (already a copy owned by the caller) with the description and wrap it."""
        try:
            base = self._stamp
        except AttributeError:  # built on first use: parameters() may read attributes set after __init__
            base = self._stamp = {"name": self.name, "family": self.family, "category": self.category,
                                  "severity": self.severity, "seed": self.seed}
        meta = dict(record.get("meta") or {})
        # parameters() holds only scalars and strings, so a shallow copy per record shares nothing mutable
        stamp = {**base, "parameters": dict(self._parameters()), "changed": changed, "details": details}
        if "perturbation" in meta:  # stacked perturbations keep the earlier ones, innermost last
            stamp["previous"] = meta["perturbation"]
        meta["perturbation"] = stamp
        record["meta"] = meta
        return Item(record, image)

    def _parameters(self) -> dict[str, Any]:
        try:
            return self._parameters_cache
        except AttributeError:
            self._parameters_cache = self.parameters()
            return self._parameters_cache
