"""EMID (Emotionally paired Music and Image Dataset), image side: one record per image, Mikels' 8 emotions.

What was verified, and where (Hugging Face dataset cards; no file of either was read):

- ``ecnu-aigc/EMID`` (CC BY-NC-SA 4.0): one row per music clip with three images of the clip's
  emotional category. Columns ``Audio_Filename, genre, feeling, emotion`` (the clip's 13-category
  music emotion), ``Image{1,2,3}_filename``, ``Image{1,2,3}_tag``, ``Image{1,2,3}_text``,
  ``is_original_clip``; in the parquet files ``Image1_filename`` is an image cell and the other two
  are file names; ``EMID_data.csv`` carries the same columns as text, ``imageData.zip`` the images.
  The images come from the FI dataset, labelled with Mikels' eight emotions (label set ``emid``).
- ``orrzohar/EMID-Emotion-Matching`` (CC BY-NC-SA 4.0), the yes/no + emotion VQA form: one row per
  (music, image) pair with ``image``, ``same`` (bool), ``emotion`` (the image's normalised tag on
  positive pairs, ``""`` on negatives), ``question``, ``answer`` (``yes - <emotion>`` / ``no``),
  ``audio``, ``sampling_rate``.

Assumed, not verified: that ``Image*_tag`` holds one Mikels label (any case; ``amusement`` …
``sadness``), and what ``Image*_text`` holds (kept in ``meta.texts``).

The audio is not read: the question of the VQA form concerns the music, so only the image's own
emotion is kept. An image is identified by its file name (the sha256 of its bytes where it has
none); its ``emotions`` are every tag it received, in label-set order (an image paired with several
clips carries the same tag each time). In the VQA form only positive pairs name a tag; an image seen
only in negatives is left out. A record needs its pixels: from a parquet copy
of ``ecnu-aigc/EMID`` without ``imageData`` only the embedded ``Image1`` pictures are kept; from
``EMID_data.csv`` the images must be unpacked beside it.

Splits: neither release has a test split. The split is a stable function of the image key: the first
8 hex digits of sha256("emid/<key>") modulo 100 give train (< 85), validation (< 90) or test.
Records: domain ``aux`` (the demo fallback of an unprepared ``emid`` task is the art domain).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from comic_emotion.converters.base import Converter, Release, Row, new_record, read_image
from comic_emotion.converters.hf_saved import image_of, iter_rows, saved_splits
from comic_emotion.converters.readers import iter_csv_dicts
from comic_emotion.storage import DataError
from comic_emotion.taxonomy import canonicalise, label_set

LABELS = label_set("emid")
SLOTS = ("Image1", "Image2", "Image3")
# Columns read from a saved copy (the audio, most of its bytes, is skipped).
COLUMNS = ["image", "same", "emotion", "answer"] + [f"{s}_{part}" for s in SLOTS for part in ("filename", "tag", "text")]
OBTAIN = ("EMID is on Hugging Face (ecnu-aigc/EMID: EMID_data.csv + imageData.zip, or its parquet files; "
          "orrzohar/EMID-Emotion-Matching for the yes/no VQA form), CC BY-NC-SA 4.0")


def split_of(key: str) -> str:
    """The deterministic split of an image (see the module docstring)."""
    bucket = int(hashlib.sha256(f"emid/{key}".encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 85 else ("validation" if bucket < 90 else "test")


def _label(value: Any, *, where: str) -> str:
    label = " ".join(str(value).split()).lower()
    if label not in LABELS:
        raise DataError(f"{where}: image emotion {value!r} is not one of Mikels' eight ({', '.join(LABELS)})")
    return label


@dataclass
class _Image:
    """One image across the rows that show it: its tags, texts and music contexts."""

    first: tuple[str, str]  # (location, slot) of its first occurrence
    labels: set[str] = field(default_factory=set)
    texts: list[str] = field(default_factory=list)
    music: list[str] = field(default_factory=list)
    pairs: int = 0


def _slots(row: dict[str, Any]) -> Iterator[tuple[str, Any, str | None, str | None, str | None]]:
    """``(slot, image cell or name, tag, text, music emotion)`` of each image a row names."""
    if "same" in row or "answer" in row:  # the yes/no VQA form: one image per row
        tag = row.get("emotion") or None
        answer = str(row.get("answer") or "").strip().lower()
        if not tag and answer.startswith("yes"):
            tag = answer.partition("-")[2].strip() or None
        yield "image", row.get("image"), tag if (row.get("same") is not False and tag) else None, None, None
        return
    for slot in SLOTS:
        cell = row.get(f"{slot}_filename")
        if cell in (None, ""):
            continue
        yield slot, cell, row.get(f"{slot}_tag"), row.get(f"{slot}_text"), row.get("emotion")


def _key(cell: Any, *, where: str) -> str:
    if isinstance(cell, dict):
        if cell.get("path"):
            return PurePosixPath(str(cell["path"]).replace("\\", "/")).name
        if cell.get("bytes"):
            return hashlib.sha256(cell["bytes"]).hexdigest()
        raise DataError(f"{where}: image cell with neither path nor bytes")
    return PurePosixPath(str(cell).strip().replace("\\", "/")).name


def _survey(rows: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, _Image]:
    images: dict[str, _Image] = {}
    for where, row in rows:
        for slot, cell, tag, text, music in _slots(row):
            key = _key(cell, where=f"{where}: {slot}")
            entry = images.setdefault(key, _Image(first=(where, slot)))
            entry.pairs += 1
            if tag:
                entry.labels.add(_label(tag, where=f"{where}: {slot}"))
            if text and str(text).strip() and str(text).strip() not in entry.texts:
                entry.texts.append(str(text).strip())
            if music and str(music) not in entry.music:
                entry.music.append(str(music))
    return images


def _records(release: Release, rows: Iterable[tuple[str, dict[str, Any]]], images: dict[str, _Image],
             split: str) -> Iterator[Row]:
    have_files = _has_image_files(release)
    for where, row in rows:
        for slot, cell, _, _, _ in _slots(row):
            key = _key(cell, where=f"{where}: {slot}")
            entry = images[key]
            if entry.first != (where, slot) or not entry.labels or split_of(key) != split:
                continue
            found = image_of(cell, where=f"{where}: {slot}")
            if found is None and have_files:
                paths = release.find_all(key)
                if not paths:
                    raise DataError(f"{where}: {slot} image {key!r} is absent from the images given")
                found = read_image(release, paths[0])
            if found is None:
                continue  # a file name in a parquet copy without imageData: no pixels to show
            emotions = [label for label in LABELS if label in entry.labels]
            record = new_record(CONVERTER, sample_id=f"emid-{hashlib.sha256(key.encode()).hexdigest()[:16]}",
                                split=split, original_id=key, emotions=emotions)
            record["canonical_emotions"] = canonicalise(emotions)
            record["meta"] = {"texts": entry.texts, "music_emotions": entry.music, "pairs": entry.pairs}
            record["image"], image = found
            yield record, image


def _has_image_files(release: Release) -> bool:
    return any(release.find_all(pattern) for pattern in ("*.jpg", "*.jpeg", "*.png"))


def _csv_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    columns = tuple(f"{slot}_{part}" for slot in SLOTS for part in ("filename", "tag"))
    for line, row in iter_csv_dicts(path, columns):
        yield f"{path}: line {line}", row


def _splits(release: Release) -> dict[str, Any]:
    csv = release.find("EMID_data.csv", obtain=OBTAIN, optional=True)
    saved = [] if csv is not None else [p for paths in saved_splits(release, default="train").values() for p in paths]
    if csv is None and not saved:
        raise DataError(f"{release.root}: neither EMID_data.csv nor a saved datasets copy (*.parquet, *.arrow) "
                        f"found; {OBTAIN}")

    def rows() -> Iterator[tuple[str, dict[str, Any]]]:
        if csv is not None:
            return _csv_rows(csv)
        return ((f"{path}: row {index}", row) for path, index, row in iter_rows(saved, columns=COLUMNS))

    cache: dict[str, dict[str, _Image]] = {}

    def split_rows(split: str) -> Iterator[Row]:
        if "images" not in cache:
            cache["images"] = _survey(rows())
            if csv is not None and not _has_image_files(release):
                raise DataError(f"{csv}: names images but none is in the release; unpack imageData.zip beside it "
                                "(an EMID record without its image has nothing to show)")
        return _records(release, rows(), cache["images"], split)

    return {split: (lambda split=split: split_rows(split)) for split in ("train", "validation", "test")}


CONVERTER = Converter(
    name="emid",
    version="1.0",
    title="EMID image side (Mikels' eight emotions of the images paired with music)",
    domain="aux",
    label_set="emid",
    licence="CC BY-NC-SA 4.0 (EMID); images from the FI dataset, research use",
    non_commercial=True,
    obtain=OBTAIN,
    splits=_splits,
)
