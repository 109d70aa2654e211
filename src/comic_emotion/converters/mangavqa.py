"""MangaVQA: 526 hand-written Japanese question-answer pairs on Manga109 pages (no emotion labels).

What was verified, and where: the benchmark is the Hugging Face dataset ``hal-utokyo/MangaVQA``,
split ``test``; its columns, as read by the authors' evaluation script (``manga109/MangaLMM``:
``evaluation/inference_VQA.py``), are ``title``, ``image_number``, ``question``, ``answer``,
``required_info``, ``w5h1``, ``understanding_type``. It holds no pixels: the script opens the page
``<Manga109>/images/<title>/<image_number:03d>.jpg`` of the user's own Manga109 copy. Assumed, not
verified: the licence of the test set's annotations (the companion ``MangaVQA-train`` card says
CC BY 4.0; check the ``MangaVQA`` card) and the value sets of the three category columns (kept as
given, in ``meta``).

Read forms of the user's copy (pass one directory holding it, and the Manga109 ``images/`` folder
for pixels; symbolic links to folders are not followed):

- the repository's parquet files, or a ``datasets`` ``save_to_disk`` folder (see
  :mod:`comic_emotion.converters.hf_saved`); a file whose name says no split is ``test``;
- a chat-format JSONL export (``{"messages": …, "images": […]}``, target ``{'answer': …}``), read by
  the ``seed-jsonl`` converter. The known export of MangaVQA holds a number in ``images`` and its
  prompts lack the question: such a line is reported (file and line) and nothing is prepared.

Records: domain ``manga``, label set ``none`` (``emotions = []``), ``question``, ``answers =
[answer]`` (Japanese), ``reading_direction = "rtl"``; the page image when the Manga109 images are
present (all pages or none: a page missing while others are present is an error). Sample ids are
``mangavqa-<title>-<page>-q<k>`` (``k`` counts questions on that page in release order).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from comic_emotion.converters import seed_jsonl
from comic_emotion.converters.base import Converter, Release, Row, new_record, read_image
from comic_emotion.converters.hf_saved import iter_rows, saved_splits
from comic_emotion.storage import DataError

COLUMNS = ("title", "image_number", "question", "answer")
OBTAIN = ("save hal-utokyo/MangaVQA (datasets save_to_disk, or its parquet files); page images come from your "
          "own Manga109 copy (http://www.manga109.org/en/download.html): put its images/ folder beside it")


def to_record(row: dict[str, Any], split: str, k: int, *, where: str) -> dict[str, Any]:
    """The canonical record of one MangaVQA row (without the image)."""
    missing = [c for c in COLUMNS if row.get(c) in (None, "")]
    if missing:
        raise DataError(f"{where}: missing {', '.join(missing)}; expected the columns {', '.join(COLUMNS)} "
                        "of hal-utokyo/MangaVQA")
    title = str(row["title"]).strip()
    try:
        page = int(row["image_number"])
    except (TypeError, ValueError):
        raise DataError(f"{where}: image_number {row['image_number']!r} is not a page number") from None
    slug = re.sub(r"\s+", "_", title)
    record = new_record(CONVERTER, sample_id=f"mangavqa-{slug}-{page:03d}-q{k}", split=split,
                        original_id=f"{title}/{page:03d}#{k}")
    record["reading_direction"] = "rtl"
    record["question"] = str(row["question"]).strip()
    record["answers"] = [str(row["answer"]).strip()]
    record["meta"] = {"title": title, "image_number": page,
                      **{key: row.get(key) for key in ("required_info", "w5h1", "understanding_type")}}
    return record


def _page_image(release: Release, title: str, page: int) -> Any:
    found = [p for p in release.find_all(f"{page:03d}.jpg") if p.parent.name == title]
    return found[0] if found else None


def _from_saved(release: Release, split: str, paths: list) -> Iterator[Row]:
    have_images = bool(release.find_all("*.jpg"))
    per_page: dict[tuple[str, int], int] = {}
    for path, index, row in iter_rows(paths):
        where = f"{path}: row {index}"
        key = (str(row.get("title") or "").strip(), row.get("image_number"))
        k = per_page.get(key, 0)
        per_page[key] = k + 1
        record = to_record(row, split, k, where=where)
        image = None
        if have_images:
            meta = record["meta"]
            found = _page_image(release, meta["title"], meta["image_number"])
            if found is None:
                raise DataError(f"{where}: page images/{meta['title']}/{meta['image_number']:03d}.jpg is absent from "
                                "the Manga109 images given (other pages are present)")
            record["image"], image = read_image(release, found)
        yield record, image


def _from_chat(release: Release, split: str, rows: Any) -> Iterator[Row]:
    for record, image in rows():
        if record["label_set"] != "none":
            raise DataError(f"{record['source']['original_id']}: this chat export's targets are not MangaVQA answers "
                            f"(label set {record['label_set']!r}); prepare it as seed-jsonl")
        line = record["source"]["original_id"].rsplit(":", 1)[-1]
        record.update(id=f"mangavqa-{split}-{int(line):06d}", domain="manga", reading_direction="rtl")
        record["source"] = {**record["source"], "dataset": CONVERTER.name, "licence": CONVERTER.licence}
        yield record, image


def _splits(release: Release) -> dict[str, Any]:
    saved = saved_splits(release, default="test")
    if saved:
        return {split: (lambda split=split, paths=paths: _from_saved(release, split, paths))
                for split, paths in saved.items()}
    if release.find_all("*.jsonl"):
        chat = seed_jsonl.CONVERTER.splits(release)
        return {split: (lambda split=split, rows=rows: _from_chat(release, split, rows)) for split, rows in chat.items()}
    raise DataError(f"{release.root}: no saved MangaVQA copy (*.parquet, *.arrow) nor chat-format *.jsonl found; "
                    f"{OBTAIN}")


CONVERTER = Converter(
    name="mangavqa",
    version="1.0",
    title="MangaVQA (Japanese visual question answering on Manga109 pages)",
    domain="manga",
    label_set="none",
    licence="MangaVQA annotations: CC BY 4.0 (as its authors' MangaVQA-train card states); Manga109 page images: "
            "your own Manga109 licence (academic use, not redistributable)",
    non_commercial=True,
    obtain=OBTAIN,
    splits=_splits,
)
