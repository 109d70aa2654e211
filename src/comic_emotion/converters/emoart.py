"""EmoArt-5k: paintings with a sectioned description, arousal level, valence and a dominant emotion.

Two forms of the release are read:

- the annotation file ``annotation_5k.json`` (a JSON array of 5,528 records) beside the ``Images/``
  style folders: ``{"request_id": "Shin-hanga_request-93", "image_path": "Images\\\\Shin-hanga\\\\0043826_….jpg",
  "description": {"first_section": {"description"}, "second_section": {"visual_attributes": {…},
  "emotional_impact"}, "third_section": {"dominant_emotion", "emotional_valence",
  "emotional_arousal_level", "healing_effects"}}}``. ``image_path`` uses Windows separators; it is
  resolved against the folder holding ``Images/``. The release has no official split: one ``test``.
- a ``datasets`` copy saved locally (``save_to_disk`` directory or parquet files) whose rows carry
  the same fields (``description`` as a mapping or JSON text; an ``image`` column of bytes), one
  split per saved split.

Targets: ``emotions = [dominant_emotion]`` (12 classes, label set ``emoart``); the ordinal levels map
onto the schema's ranges, ``arousal`` Low/Medium/High → 0 / 0.5 / 1 (also used as ``intensity``)
and ``valence`` Negative/Neutral/Positive → -1 / 0 / 1; ``explanations = [emotional_impact]``.
Request ids with spaces (style names such as ``Mannerism (Late Renaissance)``) get ``_`` in the
sample id; the original id is kept.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path, PureWindowsPath
from typing import Any

from comic_emotion.converters.base import Converter, Release, Row, new_record, read_image
from comic_emotion.converters.readers import iter_json_array
from comic_emotion.storage import DataError
from comic_emotion.taxonomy import canonicalise, label_set

LABELS = label_set("emoart")
OBTAIN = "EmoArt-5k (annotation_5k.json and Images/) is distributed by its authors as a datasets repository"
AROUSAL = {"low": 0.0, "medium": 0.5, "moderate": 0.5, "high": 1.0}
VALENCE = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}


def _level(value: Any, table: dict[str, float], *, where: str, field: str) -> float | None:
    if value in (None, ""):
        return None
    key = str(value).strip().lower()
    if key not in table:
        raise DataError(f"{where}: {field} is {value!r}, expected one of {', '.join(k.title() for k in table)}")
    return table[key]


def to_record(item: dict[str, Any], split: str, *, where: str) -> dict[str, Any]:
    """The canonical record of one EmoArt annotation (without the image)."""
    request_id = str(item.get("request_id") or "").strip()
    if not request_id:
        raise DataError(f"{where}: missing 'request_id'")
    description = item.get("description")
    if isinstance(description, str):
        try:
            description = json.loads(description)
        except json.JSONDecodeError:
            raise DataError(f"{where}: request {request_id}: 'description' is not JSON") from None
    if not isinstance(description, dict) or not isinstance(description.get("third_section"), dict):
        raise DataError(f"{where}: request {request_id}: expected description.third_section with the emotion fields")
    first = description.get("first_section") or {}
    second = description.get("second_section") or {}
    third = description["third_section"]
    emotion = str(third.get("dominant_emotion") or "").strip()
    if emotion not in LABELS:
        raise DataError(f"{where}: request {request_id}: dominant_emotion {emotion!r} is not one of {', '.join(LABELS)}")
    record = new_record(CONVERTER, sample_id="emoart-" + re.sub(r"\s+", "_", request_id), split=split,
                        original_id=request_id, emotions=[emotion])
    record["canonical_emotions"] = canonicalise([emotion])
    arousal = _level(third.get("emotional_arousal_level"), AROUSAL, where=f"{where}: request {request_id}",
                     field="emotional_arousal_level")
    record["arousal"] = arousal
    record["intensity"] = arousal
    record["valence"] = _level(third.get("emotional_valence"), VALENCE, where=f"{where}: request {request_id}",
                               field="emotional_valence")
    impact = str(second.get("emotional_impact") or "").strip()
    record["explanations"] = [impact] if impact else []
    record["meta"] = {"style": request_id.split("_request-")[0], "description": first.get("description"),
                      "visual_attributes": second.get("visual_attributes") or {},
                      "healing_effects": list(third.get("healing_effects") or []),
                      "image_path": item.get("image_path") if isinstance(item.get("image_path"), str) else None}
    return record


def _from_annotation(release: Release, path: Path) -> Iterator[Row]:
    have_images = bool(release.find_all("*.jpg") or release.find_all("*.png"))
    for index, item in iter_json_array(path):
        where = f"{path}: element {index}"
        if not isinstance(item, dict):
            raise DataError(f"{where}: expected an object")
        record = to_record(item, "test", where=where)
        image = None
        relative = record["meta"]["image_path"]
        if have_images and relative:
            parts = PureWindowsPath(relative).parts
            candidates = [path.parent.parent.joinpath(*parts), path.parent.joinpath(*parts),
                          path.parent.joinpath(*parts[1:])]
            found = next((c for c in candidates if c.is_file()), None)
            if found is None:
                raise DataError(f"{where}: request {record['source']['original_id']}: image {relative!r} is "
                                "referenced but absent from the release")
            record["image"], image = read_image(release, found)
        yield record, image


def _from_datasets(rows: Iterable[dict[str, Any]], split: str, name: str) -> Iterator[Row]:
    # lazy: Pillow
    from PIL import Image

    for index, item in enumerate(rows):
        where = f"{name}: split {split}, row {index}"
        record = to_record(item, split, where=where)
        image = None
        value = item.get("image")
        if isinstance(value, dict) and value.get("bytes"):
            image = value["bytes"]
            with Image.open(io.BytesIO(image)) as picture:
                width, height = picture.size
            record["image"] = {"width": width, "height": height, "path": value.get("path"),
                               "sha256": hashlib.sha256(image).hexdigest()}
        yield record, image


def _splits(release: Release) -> dict[str, Any]:
    annotation = release.find("annotation_5k.json", obtain=OBTAIN, optional=True)
    if annotation is not None:
        return {"test": lambda: _from_annotation(release, annotation)}
    files = release.find_all("*.parquet")
    if not files:
        raise DataError(f"{release.root}: neither annotation_5k.json nor a saved datasets copy (*.parquet) found; "
                        f"{OBTAIN}")
    # lazy: pyarrow
    import pyarrow.parquet as pq

    by_split: dict[str, list[Path]] = {}
    for path in files:
        release.use(path)
        split = re.split(r"[-_.]", path.name)[0] if not path.parent.name.startswith(("train", "test", "val")) \
            else path.parent.name
        by_split.setdefault({"validation": "validation", "val": "validation"}.get(split, split), []).append(path)

    def rows(paths: list[Path]) -> Iterator[dict[str, Any]]:
        for path in paths:
            handle = pq.ParquetFile(path)
            for group in range(handle.num_row_groups):
                yield from handle.read_row_group(group).to_pylist()

    return {split: (lambda paths=paths, split=split: _from_datasets(rows(paths), split, str(release.root)))
            for split, paths in sorted(by_split.items())}


CONVERTER = Converter(
    name="emoart",
    version="1.0",
    title="EmoArt-5k (art emotion, arousal/valence, descriptions)",
    domain="art",
    label_set="emoart",
    licence="EmoArt-5k: research use under its authors' terms; images are WikiArt paintings (not redistributed)",
    non_commercial=True,
    obtain=OBTAIN,
    splits=_splits,
)
