"""lmms-eval glue of the ``comic_emotion_robust`` subtasks: the clean task class, perturbing docs lazily.

Each variant YAML names ``metadata: {dataset, data_split, perturbation, severity, seed}``; the clean subtask
names no perturbation. :class:`RobustComicEmotionTask` subclasses the lead's
:class:`comic_emotion.tasks.hooks.ComicEmotionTask` and wraps its ``doc_to_text``, ``doc_to_visual`` and
``process_results`` so that the prompt, the image and the scoring all see the perturbed doc; the prompt
and scoring hooks themselves are reused, not copied. A doc is perturbed on first use and its record
and the record's JSON cached by id (records are small, and computed without the pixels); the image of an
image perturbation is computed when the model asks for it and not cached, so memory stays that of the
clean run.

Every variant also reports ``perturbation_changed`` (mean = coverage), per sample in the log.
"""

from __future__ import annotations

from typing import Any

from comic_emotion.perturbations import Item, get_perturbation
from comic_emotion.metrics.registry import PERTURBATION_CHANGED_KEY as CHANGED_KEY
from comic_emotion.storage import canonical_json
from comic_emotion.tasks.hooks import ComicEmotionTask, record_of

IMAGE_FAMILIES = frozenset({"occlusion", "ablation"})


class RobustComicEmotionTask(ComicEmotionTask):
    """A comic_emotion subtask whose docs pass through the perturbation named in ``metadata``."""

    def __init__(self, *args: Any, config: dict | None = None, **kwargs: Any) -> None:
        config = dict(config or {})
        metric_list = list(config.get("metric_list") or [])
        if not any(m.get("metric") == CHANGED_KEY for m in metric_list):
            metric_list.append({"metric": CHANGED_KEY, "aggregation": "mean", "higher_is_better": False})
        config["metric_list"] = metric_list
        metadata = config.get("metadata") or {}
        name = metadata.get("perturbation")
        # Built before the data is loaded, so a bad name or severity fails when the task is built.
        self.perturbation = None if name is None else get_perturbation(
            str(name), int(metadata.get("severity", 0)), seed=int(metadata.get("seed", 0)))
        self._records: dict[str, dict] = {}
        self._samples: dict[str, str] = {}  # canonical JSON of each perturbed record, serialised once per id
        super().__init__(*args, config=config, **kwargs)

    def _record(self, doc: dict) -> dict:
        """The perturbed record of ``doc`` (computed once per id)."""
        key = doc["id"]
        if key not in self._records:
            # Without pixels: lmms-eval builds prompts from image-less docs, and a perturbation's record
            # does not depend on the pixels (tests/test_perturbations.py checks this).
            self._records[key] = self.perturbation(Item(record_of(doc), None)).record
        return self._records[key]

    def presented_doc(self, doc: dict) -> dict:
        """The document with its perturbed record (the image is perturbed in :meth:`doc_to_visual`)."""
        if self.perturbation is None:
            return doc
        key = doc["id"]
        if key not in self._samples:
            self._samples[key] = canonical_json(self._record(doc))
        return {**doc, "sample": self._samples[key]}

    def doc_to_text(self, doc: dict) -> Any:
        """The prompt of the perturbed record (text perturbations change the regions the prompt quotes)."""
        return super().doc_to_text(self.presented_doc(doc))

    def doc_to_visual(self, doc: dict) -> Any:
        """The perturbed image, computed on request and not cached (memory stays that of a clean run)."""
        if self.perturbation is None or self.perturbation.family not in IMAGE_FAMILIES or doc.get("image") is None:
            return super().doc_to_visual(doc)
        return super().doc_to_visual({**doc, "image": self.perturbation(Item(record_of(doc), doc["image"])).image})

    def process_results(self, doc: dict, results: Any, full_docs: Any = None) -> dict:
        """Score the answer against the perturbed doc, and log whether the perturbation changed it."""
        perturbed = self.presented_doc(doc)
        out = dict(super().process_results(perturbed, results, full_docs=full_docs))
        changed = False if self.perturbation is None else self._record(doc)["meta"]["perturbation"]["changed"]
        out[CHANGED_KEY] = float(changed)
        return out
