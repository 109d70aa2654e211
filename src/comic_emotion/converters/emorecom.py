"""EmoRecCom (ICDAR 2021 Multimodal Emotion Recognition on Comics scenes): one record per panel.

Release files (from the challenge organisers; not redistributable):

- ``train_emotion_labels.csv``: header ``,image_id,angry,disgust,fear,happy,sad,surprise,neutral,other``
  (first cell empty: a pandas index). The warm-up release has no header row (index from 1): both
  are read, columns in the order of the label set.
- ``train_transcriptions.json`` / ``test_transcriptions.json``: a JSON array of
  ``{"dialog": [...], "narration": [...], "img_id": "<book>_<page>_<panel>"}``; ``dialog`` lists may
  hold a bare ``NaN`` token (dropped: it is a missing OCR line, not text).
- ``additional_infor:train_emotion_polarity.csv`` (optional; the colon is part of the name, and
  unpackers on Windows write ``_`` instead): its columns go into ``meta.polarity``.
- panel images ``<img_id>.jpg`` (optional: without any image the split is text-only).
- ``test_emotion_labels.csv`` (optional, same format as the train labels): the test gold labels,
  which are not public; when present a labelled ``test`` split is written. The record order of
  ``test`` is the order of ``test_transcriptions.json``, which is the row order of submissions.

OCR text is kept exactly as released (lower case, apostrophes split as ``" ' "``): scores must be on
the text the challenge's systems saw.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from comic_emotion.converters.base import Converter, Release, Row, new_record, read_image
from comic_emotion.converters.readers import iter_csv, iter_json_array
from comic_emotion.storage import DataError
from comic_emotion.taxonomy import label_set

LABELS = label_set("emorecom")
OBTAIN = ("the EmoRecCom files come from the ICDAR 2021 challenge organisers "
          "(https://sites.google.com/view/emotion-recognition-for-comics), after registration")
_ID = re.compile(r"^\d+_\d+_\d+$")


def _read_labels(path: Path) -> dict[str, list[str]]:
    """``image_id -> labels`` of a label CSV (official header, or the header-less warm-up release)."""
    labels: dict[str, list[str]] = {}
    for line, cells in iter_csv(path):
        if line == 1 and len(cells) > 1 and cells[1].strip() == "image_id":
            header = [c.strip().lower() for c in cells[2:]]
            if tuple(header) != LABELS:
                raise DataError(f"{path}: line 1: label columns {', '.join(header)}; expected {', '.join(LABELS)}")
            continue
        if not any(cells):
            continue
        if len(cells) != 2 + len(LABELS):
            raise DataError(f"{path}: line {line}: {len(cells)} cells, expected {2 + len(LABELS)} "
                            "(index, image_id and the 8 labels)")
        image_id = cells[1].strip()
        if not _ID.match(image_id):
            raise DataError(f"{path}: line {line}: image_id {image_id!r} is not of the form <book>_<page>_<panel>")
        values = [c.strip() for c in cells[2:]]
        bad = [(name, v) for name, v in zip(LABELS, values) if v not in ("0", "1", "0.0", "1.0")]
        if bad:
            raise DataError(f"{path}: line {line}: image_id {image_id}: label {bad[0][0]!r} is {bad[0][1]!r}, "
                            "expected 0 or 1")
        if image_id in labels:
            raise DataError(f"{path}: line {line}: duplicate image_id {image_id}")
        labels[image_id] = [name for name, v in zip(LABELS, values) if v.startswith("1")]
    return labels


def _read_polarity(path: Path) -> dict[str, dict[str, Any]]:
    polarity: dict[str, dict[str, Any]] = {}
    header: list[str] = []
    for line, cells in iter_csv(path):
        if line == 1:
            header = [c.strip() for c in cells]
            if "image_id" not in header:
                raise DataError(f"{path}: line 1: no 'image_id' column (got {', '.join(header)})")
            continue
        row = dict(zip(header, cells))
        image_id = row.pop("image_id").strip()
        row.pop("", None)  # the pandas index column
        polarity[image_id] = {k: _number(v) for k, v in row.items()}
    return polarity


def _number(text: str) -> Any:
    try:
        value = float(text)
    except ValueError:
        return text.strip()
    return int(value) if value.is_integer() else value


def _texts(value: Any, *, where: str, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise DataError(f"{where}: field {field!r} is {type(value).__name__}, expected a list of strings")
    # A bare NaN is a missing OCR line (pandas wrote float('nan')); it carries no text.
    return [t for t in value if isinstance(t, str)]


def _panels(release: Release, path: Path, labels: dict[str, list[str]] | None, split: str) -> Iterator[Row]:
    images = release.find_all("*.jpg")
    have_images = bool(images)
    polarity_file = (release.find("additional_infor:train_emotion_polarity.csv", obtain=OBTAIN, optional=True)
                     or release.find("additional_infor_train_emotion_polarity.csv", obtain=OBTAIN, optional=True))
    polarity = _read_polarity(polarity_file) if polarity_file and split == "train" else {}
    seen = set()
    for index, item in iter_json_array(path):
        where = f"{path}: element {index}"
        if not isinstance(item, dict) or "img_id" not in item:
            raise DataError(f"{where}: expected an object with 'img_id', 'dialog', 'narration'")
        image_id = str(item["img_id"]).strip()
        if not _ID.match(image_id):
            raise DataError(f"{where}: img_id {image_id!r} is not of the form <book>_<page>_<panel>")
        if image_id in seen:
            raise DataError(f"{where}: duplicate img_id {image_id}")
        seen.add(image_id)
        gold: list[str] = []
        if labels is not None:
            if image_id not in labels:
                raise DataError(f"{where}: img_id {image_id} has no row in the label CSV")
            gold = labels.pop(image_id)
        record = new_record(CONVERTER, sample_id=f"emorecom-{image_id}", split=split, original_id=image_id,
                            emotions=gold)
        dialog = _texts(item.get("dialog"), where=where, field="dialog")
        narration = _texts(item.get("narration"), where=where, field="narration")
        record["text_regions"] = (
            [{"id": f"d{i}", "kind": "speech", "text": t, "lang": "en"} for i, t in enumerate(dialog)]
            + [{"id": f"n{i}", "kind": "narration", "text": t, "lang": "en"} for i, t in enumerate(narration)]
        )
        book, page, panel = image_id.split("_")
        record["meta"] = {"book": book, "page": int(page), "panel": int(panel)}
        if image_id in polarity:
            record["meta"]["polarity"] = polarity[image_id]
        image = None
        if have_images:
            found = release.find_all(f"{image_id}.jpg")
            if not found:
                raise DataError(f"{where}: image {image_id}.jpg is referenced but absent from the release "
                                f"({len(images)} other panel images are present); restore it or remove all images "
                                "for a text-only split")
            record["image"], image = read_image(release, found[0])
        yield record, image
    if labels:
        missing = sorted(labels)[:3]
        raise DataError(f"{path}: {len(labels)} labelled image_id(s) have no transcription, e.g. {', '.join(missing)}")


def _splits(release: Release) -> dict[str, Any]:
    train_labels = release.find("train_emotion_labels.csv", obtain=OBTAIN)
    train_text = release.find("train_transcriptions.json", obtain=OBTAIN)
    test_text = release.find("test_transcriptions.json", obtain=OBTAIN, optional=True)
    test_labels = release.find("test_emotion_labels.csv", obtain=OBTAIN, optional=True)
    splits = {"train": lambda: _panels(release, train_text, _read_labels(train_labels), "train")}
    if test_labels is not None:
        if test_text is None:
            raise DataError(f"{release.root}: test_emotion_labels.csv found but not test_transcriptions.json; {OBTAIN}")
        splits["test"] = lambda: _panels(release, test_text, _read_labels(test_labels), "test")
    return splits


CONVERTER = Converter(
    name="emorecom",
    version="1.0",
    title="EmoRecCom (ICDAR 2021 comics emotion challenge)",
    domain="comic",
    label_set="emorecom",
    licence="EmoRecCom challenge data: research use under the organisers' terms; not redistributable",
    non_commercial=True,
    obtain=OBTAIN,
    splits=_splits,
)
