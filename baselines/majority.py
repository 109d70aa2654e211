"""Majority / prior baseline: the label frequencies of the training split, whatever the input.

It predicts every label whose training frequency is at least one half (or, if none is, the most
frequent label; ties go to the earlier label of the label set), states those frequencies as its
per-label confidences (so ROC-AUC is defined: it is 0.5 for a constant scorer), the mean training
intensity, and no speaker. Any model that reads the panel should beat it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from comic_emotion.baselines.base import CpuBaseline
from comic_emotion.data import dataset_key_of, resolve_split
from comic_emotion.storage import read_records
from comic_emotion.taxonomy import label_set


def label_prior(records: list[Mapping[str, Any]], labels: tuple[str, ...]) -> dict[str, Any]:
    """The prior prediction learnt from training records.

    Returns a dict in the answer format: ``emotions``, ``confidence`` (label frequency),
    ``intensity`` (mean gold intensity, or ``None`` when no record has one).
    """
    if not records:
        raise ValueError("cannot learn a label prior from an empty training split")
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
def _prior_for(dataset: str, train_split: str, label_set_name: str) -> dict[str, Any]:
    records = list(read_records(resolve_split(dataset, train_split).path))
    return label_prior(records, label_set(label_set_name))


class MajorityBaseline(CpuBaseline):
    """lmms-eval model ``comic_emotion_majority`` (``--model_args train_split=train``)."""

    def __init__(self, train_split: str = "train", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.train_split = train_split

    def predict(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return dict(_prior_for(dataset_key_of(record), self.train_split, record["label_set"]))
