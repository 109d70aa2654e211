"""Hooks of the comic_emotion lmms-eval tasks: one-liners into the package.

lmms-eval loads ``tasks/utils.py`` by file path, once per ``!function`` reference, so that file
only re-exports from here; this module is imported once, as ``comic_emotion.tasks.hooks``.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from typing import Any, Literal, get_args

import datasets
from comic_emotion.metrics.lmms import AGGREGATORS, results_for
from comic_emotion.metrics.scoring import sample_row
from lmms_eval.api.task import ConfigurableMessagesTask, ConfigurableTask
from loguru import logger

from comic_emotion.data import NotPreparedError, resolve_split
from comic_emotion.prompts import build_prompt, chat_messages
from comic_emotion.storage import load_split_dataset

__all__ = [  # noqa: PLE0604 (AGGREGATORS holds the generated function names)
    "ComicEmotionTask", "doc_to_visual", "doc_to_text", "doc_to_target", "process_results", "mean_of_defined",
    *AGGREGATORS,
]
# The aggregation of every metric key (``aggregate_<key>``, named by the template's metric_list).
globals().update(AGGREGATORS)

#: lmms-eval's two request formats: ``simple`` (prompt string, generation kwargs, ``doc_to_visual``) for
#: model classes with ``is_simple``, ``chat`` (prompt string, ``doc_to_messages``, generation kwargs) for the rest.
RequestPath = Literal["simple", "chat"]


class ComicEmotionTask(ConfigurableTask):
    """A ``generate_until`` task whose data is resolved at run time (prepared real data, or the demo set).

    A real subtask whose corpus is not prepared fails with one line naming the prepare command.

    ``metadata.dataset`` and ``metadata.split`` in the subtask YAML name the data; after loading,
    ``metadata`` also carries :meth:`comic_emotion.data.ResolvedSplit.describe`, so the results
    JSON (``configs.<task>.metadata``) says whether the numbers come from the synthetic demo set.

    lmms-eval 0.7.3 builds a YAML task as ``ConfigurableTask`` for simple model classes and as
    ``ConfigurableMessagesTask`` for chat ones, but builds a ``class:`` task as that class either way,
    without saying which path the run takes. :attr:`request_path` says it (set through
    :meth:`set_request_path` by :mod:`comic_emotion.lmms_plugin` when lmms-eval loads the tasks), and
    :meth:`construct_requests` emits the matching request shape. The chat turn carries the images of
    ``doc_to_visual`` and the string of ``doc_to_text``, so both paths show the same words.
    """

    request_path: RequestPath = "simple"

    def __init__(self, *args: Any, config: dict | None = None, **kwargs: Any) -> None:
        config = dict(config or {})
        config.pop("class", None)  # not a TaskConfig field
        super().__init__(*args, config=config, **kwargs)

    def download(self, dataset_kwargs: dict | None = None) -> None:
        """Load the prepared split named in ``metadata`` (or the demo set) instead of a Hub dataset.

        lmms-eval calls this when it builds the task; resolving here rather than at import keeps
        task discovery free of file reads, and the resolved source and versions go into the results.
        """
        metadata = dict(self.config.metadata or {})
        try:
            resolved = resolve_split(metadata["dataset"], metadata.get("data_split", "test"))
        except NotPreparedError as exc:
            # lmms-eval 0.7.3 logs the exception and writes no results: the line says what to run.
            message = f"{self.config.task}: {exc}"
            logger.error(message)
            raise NotPreparedError(message) from None
        split = load_split_dataset(resolved.path)
        self.dataset = datasets.DatasetDict({self.config.test_split: split})
        self.dataset_no_image = datasets.DatasetDict({self.config.test_split: split.remove_columns("image")})
        self.config.metadata = {**metadata, **resolved.describe(), **_software_versions()}
        if resolved.synthetic:  # lmms-eval's own results table shows the alias: it says demo on every row
            self.config.task_alias = f"{self.config.task} [DEMO DATA: synthetic]"
        logger.info(f"{self.config.task}: {len(split)} samples from {resolved.describe()['data_source']} data "
                    f"({resolved.path}, hash {resolved.data_hash[:12]})")

    def presented_doc(self, doc: dict) -> dict:
        """The document as the model is shown it; perturbed variants return their perturbed record.

        Models that read documents directly (the CPU baselines) use this, so they see what a VLM sees.
        """
        return doc

    def set_request_path(self, path: str) -> None:
        """Emit requests for lmms-eval's ``simple`` or ``chat`` model classes (its ``task_type``)."""
        if path not in get_args(RequestPath):
            raise ValueError(f"request path must be one of {get_args(RequestPath)}. Got {path!r} instead.")
        self.request_path = path  # type: ignore[assignment]

    def doc_to_messages(self, doc: dict) -> list[dict]:
        """The chat path's user turn: this doc's images and its ``doc_to_text`` prompt (perturbed in variants)."""
        return chat_messages(self.doc_to_visual(doc), self.doc_to_text(doc))

    def construct_requests(self, doc_id: int, ctx: str, **kwargs: Any) -> Any:
        """lmms-eval's request for ``doc_id``, built for the chat or simple model path the run chose."""
        if self.request_path == "chat":
            # lmms-eval's own chat request: (ctx, self.doc_to_messages, generation_kwargs, doc_id, task, split).
            return ConfigurableMessagesTask.construct_requests(self, doc_id, ctx, **kwargs)
        return super().construct_requests(doc_id, ctx, **kwargs)


def _software_versions() -> dict[str, str]:
    """Installed versions, for the results file (lmms-eval's own `lmms_eval_version` is a git ref)."""

    return {"lmms_eval_package": version("lmms-eval"), "comic_emotion_version": version("comic-emotion-bench")}


def record_of(doc: dict) -> dict:
    """The canonical record of an lmms-eval document."""
    return json.loads(doc["sample"])


def doc_to_visual(doc: dict) -> list:
    """The page image as RGB (models expect three channels; manga pages are often greyscale or palette PNGs)."""
    image = doc.get("image")
    return [] if image is None else [image.convert("RGB")]


def doc_to_text(doc: dict, lmms_eval_specific_kwargs: dict | None = None) -> str:
    """The prompt of the doc's record; per-model wording comes from the YAML's ``lmms_eval_specific_kwargs``."""
    kwargs = lmms_eval_specific_kwargs or {}
    return build_prompt(record_of(doc), pre_prompt=kwargs.get("pre_prompt", ""), post_prompt=kwargs.get("post_prompt", ""))


def doc_to_target(doc: dict) -> str:
    """The gold labels in the answer format, for lmms-eval's logs (scoring reads the record, not this)."""
    return json.dumps({"emotions": record_of(doc)["emotions"]}, ensure_ascii=False)


def process_results(doc: dict, results: list[str]) -> dict[str, dict]:
    """The per-sample statistics row, under every metric key (lmms-eval aggregates per key)."""
    record = record_of(doc)
    return results_for(sample_row(record, results[0] if results else None, label_set=record["label_set"]))


def mean_of_defined(metrics: list[float | None], sizes: list[int], weight_by_size: bool = False) -> float | None:
    """A group's metric: the mean over the subtasks where it is defined (``None`` if none is).

    lmms-eval's ``mean`` fails on a ``None``; a group mixing emotion tasks with label-free ones
    (MangaVQA, Manga109Dialog: ``macro_f1`` undefined) averages over the emotion tasks.
    """
    pairs = [(m, n if weight_by_size else 1) for m, n in zip(metrics, sizes) if m is not None]
    if not pairs:
        return None
    return sum(m * n for m, n in pairs) / sum(n for _, n in pairs)
