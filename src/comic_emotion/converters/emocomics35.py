"""EmoComics35: one record per comic page, with utterance-level emotions and speakers.

Release: ``emocomics35_pg_images_original.csv`` (874 pages of 35 books; 718 TRAIN / 156 TEST pages),
header ``,SourceFile,Page,PageUtterances,PageSpeakers,PageEmotions,PagePanels,PageBalloons,FileNr,
Split,ComicBookTitle,image_path``. Quirks handled:

- list columns are Python literals (read with ``ast.literal_eval``), of equal length per row
  (checked, naming the line);
- ``PageEmotions`` is doubly encoded: a list of strings each holding a list literal, and 439 entries
  are ``[Neutral]`` without quotes (not a valid literal: read as ``["Neutral"]``); Neutral must not
  co-occur with another label (checked);
- utterances: leading/trailing spaces are stripped, inner line breaks kept (the fine-tuning prompts
  keep them); ``#…`` utterances are sound effects (``kind: sfx``), ``@…`` caption boxes
  (``kind: caption``); the markers stay in the text as released;
- speakers: stray spaces and tabs stripped, ``ID- 1`` read as ``ID-1``; ``unknown`` and the label
  ``Neutral`` written in the speaker column become "no speaker"; 18 speaker cells hold an intensity
  code such as ``AN0-DI1-FE0-SA1-SU0-JO0`` (a column shift in the annotation; its non-zero emotions
  match the utterance's labels): no speaker, the code kept in ``meta.intensity_codes``;
- ``image_path`` points to the authors' machine; page images are not public. When the user holds
  them, ``<FileNr:06d>/images/page<Page:05d>.jpg`` under the source directory is embedded; otherwise
  the record has ``image: null`` (text-only task).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from comic_emotion.converters.base import Converter, Release, Row, new_record, read_image
from comic_emotion.converters.readers import iter_csv_dicts, literal
from comic_emotion.storage import DataError
from comic_emotion.taxonomy import canonicalise, label_set, page_emotions

LABELS = label_set("emocomics35")
FILE = "emocomics35_pg_images_original.csv"
COLUMNS = ("SourceFile", "Page", "PageUtterances", "PageSpeakers", "PageEmotions", "PagePanels", "PageBalloons",
           "FileNr", "Split", "ComicBookTitle", "image_path")
OBTAIN = "the CSV is published with the EmoComics35 paper (Mushtaq et al.); page images are not public"
_SPLITS = {"TRAIN": "train", "TEST": "test"}
_CODE = re.compile(r"^AN\d-DI\d-FE\d-SA\d-SU\d-JO\d$")
_NO_SPEAKER = {"", "unknown", "neutral"}


def speaker_name(raw: str) -> tuple[str | None, str | None]:
    """``(speaker, intensity_code)`` of one ``PageSpeakers`` cell (see the module docstring)."""
    name = " ".join(raw.split())
    if _CODE.match(name):
        return None, name
    if name.lower() in _NO_SPEAKER:
        return None, None
    return re.sub(r"^ID-\s*(\d+)$", r"ID-\1", name), None


def utterance_labels(cell: Any, *, where: str) -> list[str]:
    """Labels of one ``PageEmotions`` entry: a list literal, or the unquoted ``[Neutral]``."""
    if not isinstance(cell, str):
        raise DataError(f"{where}: expected a string holding a label list, got {cell!r}")
    if cell.strip() == "[Neutral]":
        return ["Neutral"]
    labels = literal(cell, where=where, expected="a label list such as ['Fear', 'Surprise'] or [Neutral]")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
        raise DataError(f"{where}: expected a non-empty list of labels, got {cell!r}")
    for label in labels:
        if label not in LABELS:
            raise DataError(f"{where}: label {label!r} is not one of {', '.join(LABELS)}")
    if "Neutral" in labels and len(labels) > 1:
        raise DataError(f"{where}: Neutral co-occurs with {labels}; the release never combines them")
    return [label for label in LABELS if label in labels]


def _kind(text: str) -> str:
    return "sfx" if text.startswith("#") else ("caption" if text.startswith("@") else "speech")


def _pages(release: Release, split: str) -> Iterator[Row]:
    path = release.find(FILE, obtain=OBTAIN)
    have_images = bool(release.find_all("page*.jpg"))
    for line, row in iter_csv_dicts(path, COLUMNS):
        where = f"{path}: line {line}"
        if row["Split"].strip() not in _SPLITS:
            raise DataError(f"{where}: Split is {row['Split']!r}, expected TRAIN or TEST")
        if _SPLITS[row["Split"].strip()] != split:
            continue
        columns = {}
        for name in ("PageUtterances", "PageSpeakers", "PageEmotions", "PagePanels", "PageBalloons"):
            value = literal(row[name], where=f"{where}: column {name}", expected="a Python list literal")
            if not isinstance(value, list):
                raise DataError(f"{where}: column {name}: expected a list, got {type(value).__name__}")
            columns[name] = value
        lengths = {name: len(value) for name, value in columns.items()}
        if len(set(lengths.values())) != 1:
            raise DataError(f"{where}: list columns differ in length ({lengths}); expected one entry per utterance")
        file_nr, page = row["FileNr"].strip(), int(row["Page"])
        record = new_record(CONVERTER, sample_id=f"emocomics35-{file_nr}-p{page:03d}", split=split,
                            original_id=f"{file_nr}/{page}")
        regions, actors, pairs, codes = [], {}, [], {}
        for i, (text, raw_speaker, cell) in enumerate(zip(columns["PageUtterances"], columns["PageSpeakers"],
                                                          columns["PageEmotions"])):
            labels = utterance_labels(cell, where=f"{where}: PageEmotions[{i}]")
            speaker, code = speaker_name(str(raw_speaker))
            if code:
                codes[str(i)] = code
            text = str(text).strip()
            regions.append({"id": f"u{i}", "kind": _kind(text), "text": text, "lang": "en",
                            "speaker": speaker, "emotions": labels})
            if speaker is not None:
                actors.setdefault(speaker, {"actor_id": speaker, "name": None if speaker.startswith("ID-") else speaker})
                pairs.extend({"actor_id": speaker, "emotion": label} for label in labels)
        # The suite's one page-gold rule: union, Neutral only when every utterance is Neutral.
        record["emotions"] = page_emotions([r["emotions"] for r in regions], LABELS)
        record["canonical_emotions"] = canonicalise(record["emotions"])
        record["text_regions"] = regions
        record["characters"] = list(actors.values())
        record["attributions"] = [dict(p) for p in dict.fromkeys(tuple(sorted(p.items())) for p in pairs)]
        record["reading_direction"] = "ltr"
        record["meta"] = {"book_title": row["ComicBookTitle"], "source_file": row["SourceFile"], "file_nr": file_nr,
                          "page": page, "panels": columns["PagePanels"], "balloons": columns["PageBalloons"]}
        if codes:
            record["meta"]["intensity_codes"] = codes
        image = None
        if have_images:
            tail = f"{int(file_nr):06d}/images/page{page:05d}.jpg"
            found = [p for p in release.find_all(f"page{page:05d}.jpg") if p.as_posix().endswith(tail)]
            if not found:
                raise DataError(f"{where}: page image {tail} is referenced but absent from the release "
                                "(other page images are present); restore it or remove all images")
            record["image"], image = read_image(release, found[0])
        yield record, image


CONVERTER = Converter(
    name="emocomics35",
    version="1.0",
    title="EmoComics35 (utterance-level comic emotions with speakers)",
    domain="comic",
    label_set="emocomics35",
    licence="no licence stated by the authors: research use only, do not redistribute",
    non_commercial=True,
    obtain=OBTAIN,
    splits=lambda release: {"train": lambda: _pages(release, "train"), "test": lambda: _pages(release, "test")},
)
