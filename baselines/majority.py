"""Majority / prior baseline: the label frequencies of the training split, whatever the input.

It predicts every label whose training frequency is at least one half (or, if none is, the most
frequent label; ties go to the earlier label of the label set), states those frequencies as its
per-label confidences (so ROC-AUC is defined: it is 0.5 for a constant scorer), the mean training
intensity, and no speaker. Any model that reads the panel should beat it.

Tasks without emotion labels (label set ``none``) get the most frequent reference answer of the
split (MangaVQA), or one speaker for every utterance, the first character listed (Manga109Dialog:
the all-in-one clustering, whose adjusted Rand index is 0 on pages with several speakers and 1 on
pages with one).

A dataset without a training split (manga109-emotion, mangavqa, manga109-dialog, the EmoArt
annotation form ship only ``test``) falls back to a **test-set prior**: the frequencies of the
evaluated split itself. That is an upper bound on what a prior can score, not a fair baseline;
a warning is logged and every answer says so (``"prior_split": "test (no train split)"``).
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any, Mapping

from comic_emotion.baselines.base import CpuBaseline
from loguru import logger

from comic_emotion.data import dataset_key_of, resolve_split
from comic_emotion.prompts import text_channel
from comic_emotion.storage import read_records
from comic_emotion.taxonomy import label_set


def answer_prior(records: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The prior of a task without emotion labels: the most frequent reference answer (if any record has one).

    Ties go to the answer that sorts first, so the choice does not depend on record order.
    """
    counts = Counter(str(a) for record in records for a in record.get("answers") or ())
    prior: dict[str, Any] = {"emotions": [], "speaker": None}
    if counts:
        prior["answer"] = min(counts, key=lambda a: (-counts[a], a))
    return prior


def label_prior(records: list[Mapping[str, Any]], labels: tuple[str, ...]) -> dict[str, Any]:
    """The prior prediction learnt from training records.

    Returns a dict in the answer format: ``emotions``, ``confidence`` (label frequency),
    ``intensity`` (mean gold intensity, or ``None`` when no record has one); for an empty label set,
    :func:`answer_prior`.
    """
    if not records:
        raise ValueError("cannot learn a label prior from an empty training split")
    if not labels:
        return answer_prior(records)
    counts = {label: 0 for label in labels}
    intensities = []
    for record in records:
        for label in record["emotions"]:
            counts[label] += 1
        if record.get("intensity") is not None:
            intensities.append(float(record["intensity"]))
    frequency = {label: counts[label] / len(records) for label in labels}
    chosen = [label for label in labels if frequency[label] >= 0.5]
    if not chosen:
        chosen = [max(labels, key=lambda label: (frequency[label], -labels.index(label)))]
    return {
        "emotions": chosen,
        "confidence": {label: round(frequency[label], 6) for label in labels},
        "intensity": round(sum(intensities) / len(intensities), 6) if intensities else None,
        "speaker": None,
    }


@lru_cache(maxsize=None)
def _prior_for(dataset: str, train_split: str, label_set_name: str, eval_split: str) -> dict[str, Any]:
    evaluated = resolve_split(dataset, eval_split)
    if train_split in evaluated.manifest.get("splits", {}):
        records = list(read_records(resolve_split(dataset, train_split).path))
        return label_prior(records, label_set(label_set_name))
    logger.warning(f"comic_emotion_majority: dataset {dataset!r} has no {train_split!r} split; its prior is learnt "
                   f"from the evaluated split {eval_split!r} (a test-set prior, an upper bound for a prior)")
    records = list(read_records(evaluated.path))
    return {**label_prior(records, label_set(label_set_name)), "prior_split": f"{eval_split} (no {train_split} split)"}


class MajorityBaseline(CpuBaseline):
    """lmms-eval model ``comic_emotion_majority`` (``--model_args train_split=train``)."""

    def __init__(self, train_split: str = "train", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.train_split = train_split

    def predict(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The label prior of the record's dataset, the same for every record: the floor any model must beat.

        The prior is read per dataset (and cached), so one run over a group of subtasks gives each
        subtask its own floor.
        """
        eval_split = str(record["source"].get("split") or "test")
        prediction = dict(_prior_for(dataset_key_of(record), self.train_split, record["label_set"], eval_split))
        if not label_set(record["label_set"]) and not record.get("question"):
            # Speaker links: one speaker says every utterance of the prompt.
            first = next((c["actor_id"] for c in record.get("characters") or ()), "?")
            prediction["speakers"] = [first] * len(text_channel(record))
        return prediction
