"""ArtEmis: emotions and free-text explanations of WikiArt paintings; one record per painting.

Release: ``artemis_dataset_release_v0.csv`` with columns ``art_style, painting, emotion, utterance,
repetition`` (one row per annotator; about 5 or more per painting) and the WikiArt images the user
holds as ``<art_style>/<painting>.jpg`` (optional: without any image the split is text-only).

Per painting: ``emotions`` = the most frequent label(s) among its annotations (ties keep every tied
label, as ArtEmis' dominant-emotion analysis does), ``meta.emotion_histogram`` the counts over the 9
labels, ``explanations`` every utterance (the references of the explanation BLEU/ROUGE task).
Rows of one painting need not be adjacent, so the annotations (text only, about 100 MB for the full
release) are grouped in memory; images are read one at a time.

Splits: the release has none (ArtEmis' preprocessing draws an 85/5/10 split with pandas'
seed 2021). Here the split is a stable function of the painting: the first 8 hex digits of
sha256("<art_style>/<painting>") modulo 100 give train (< 85), validation (< 90) or test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from comic_emotion.converters.base import Converter, Release, Row, new_record, read_image
from comic_emotion.converters.readers import iter_csv_dicts
from comic_emotion.storage import DataError
from comic_emotion.taxonomy import label_set

LABELS = label_set("artemis")
FILE = "artemis_dataset_release_v0.csv"
COLUMNS = ("art_style", "painting", "emotion", "utterance", "repetition")
OBTAIN = "the ArtEmis CSV is downloaded from https://www.artemisdataset.org after accepting its terms"


def split_of(art_style: str, painting: str) -> str:
    """The deterministic split of a painting (see the module docstring)."""
    bucket = int(hashlib.sha256(f"{art_style}/{painting}".encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 85 else ("validation" if bucket < 90 else "test")


def _grouped(release: Release) -> dict[tuple[str, str], list[tuple[str, str]]]:
    path = release.find(FILE, obtain=OBTAIN)
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for line, row in iter_csv_dicts(path, COLUMNS):
        emotion = row["emotion"].strip()
        if emotion not in LABELS:
            raise DataError(f"{path}: line {line}: emotion {emotion!r} is not one of {', '.join(LABELS)}")
        key = (row["art_style"].strip(), row["painting"].strip())
        if not all(key):
            raise DataError(f"{path}: line {line}: empty art_style or painting")
        groups.setdefault(key, []).append((emotion, row["utterance"].strip()))
    return groups


def _paintings(release: Release, groups: dict[tuple[str, str], list[tuple[str, str]]], split: str) -> Iterator[Row]:
    have_images = bool(release.find_all("*.jpg"))
    for (art_style, painting), notes in groups.items():
        if split_of(art_style, painting) != split:
            continue
        histogram = {label: 0 for label in LABELS}
        for emotion, _ in notes:
            histogram[emotion] += 1
        top = max(histogram.values())
        record = new_record(CONVERTER, sample_id=f"artemis-{art_style}-{painting}".replace(" ", "_"), split=split,
                            original_id=f"{art_style}/{painting}",
                            emotions=[label for label in LABELS if histogram[label] == top])
        record["explanations"] = [utterance for _, utterance in notes if utterance]
        record["meta"] = {"art_style": art_style, "painting": painting, "emotion_histogram": histogram,
                          "n_annotations": len(notes)}
        image = None
        if have_images:
            found = [p for p in release.find_all(f"{painting}.jpg") if p.parent.name == art_style]
            if not found:
                raise DataError(f"{release.root}: painting {art_style}/{painting}.jpg is referenced by {FILE} but "
                                "absent from the WikiArt images given")
            record["image"], image = read_image(release, found[0])
        yield record, image


def _splits(release: Release) -> dict[str, Any]:
    cache: dict[str, Any] = {}

    def rows(split: str) -> Iterator[Row]:
        if "groups" not in cache:
            cache["groups"] = _grouped(release)
        return _paintings(release, cache["groups"], split)

    return {split: (lambda split=split: rows(split)) for split in ("train", "validation", "test")}


CONVERTER = Converter(
    name="artemis",
    version="1.0",
    title="ArtEmis (affective explanations of WikiArt paintings)",
    domain="art",
    label_set="artemis",
    licence="ArtEmis annotations: research use under its terms of use; WikiArt images: the user's own copy",
    non_commercial=True,
    obtain=OBTAIN,
    splits=_splits,
)
