"""OpenMantra: Japanese manga pages with parallel JA/EN/ZH text boxes (no emotion labels).

Release: ``annotation.json``, a list of books ``{"book_title", "pages": [{"page_index", "image_paths":
{"ja": "images/<book>/ja/000.jpg"}, "frame": [{x, y, w, h}], "text": [{x, y, w, h, text_ja, text_en,
text_zh}]}]}`` and the page images. Quirks handled: ``page_index`` counts from 1 while image files count
from ``000.jpg`` (the page's own ``image_paths`` is used, never the index); pages without text are
kept (occlusion needs them); a few boxes have an empty ``text_ja`` (kept, empty); English texts
contain line breaks (kept). Text regions are in Japanese with ``translations`` ``en`` and ``zh-Hant``
(the Chinese is traditional). Reading direction: right to left. Licence CC BY-NC 4.0.

The records feed the translation-shift perturbation and text-box occlusion on real pages; the
whole release is one ``test`` split (there is no official split).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from comic_emotion.converters.base import Converter, Release, Row, new_record, read_image
from comic_emotion.converters.readers import iter_json_array
from comic_emotion.storage import DataError

OBTAIN = "annotation.json and images/ come from https://github.com/mantra-inc/open-mantra-dataset"
_BOX = ("x", "y", "w", "h")


def _box(item: Any, *, where: str) -> list[float]:
    if not isinstance(item, dict) or any(not isinstance(item.get(k), (int, float)) for k in _BOX):
        raise DataError(f"{where}: expected a box with numeric x, y, w, h, got {str(item)[:80]}")
    return [item[k] for k in _BOX]


def _pages(release: Release) -> Iterator[Row]:
    path = release.find("annotation.json", obtain=OBTAIN)
    have_images = bool(release.find_all("*.jpg"))
    for b, book in iter_json_array(path):
        if not isinstance(book, dict) or "book_title" not in book or not isinstance(book.get("pages"), list):
            raise DataError(f"{path}: book {b}: expected an object with 'book_title' and a 'pages' list")
        title = str(book["book_title"])
        for p, page in enumerate(book["pages"]):
            # Pages are named by their own page_index (from 1, as the release numbers them), never by list
            # position; only a page without a usable page_index is named by position.
            if not isinstance(page, dict) or "page_index" not in page:
                raise DataError(f"{path}: book {title!r}, page entry {p + 1} of the list (no 'page_index'): expected "
                                "an object with 'page_index', 'image_paths', 'frame', 'text'")
            try:
                index = int(page["page_index"])
            except (TypeError, ValueError):
                raise DataError(f"{path}: book {title!r}, page entry {p + 1} of the list: field 'page_index': "
                                f"expected an integer, got {page['page_index']!r}") from None
            where = f"{path}: book {title!r}, page_index {index}"
            record = new_record(CONVERTER, sample_id=f"openmantra-{title}-p{index:03d}", split="test",
                                original_id=f"{title}/{index}")
            regions = []
            for t, box in enumerate(page.get("text") or []):
                bbox = _box(box, where=f"{where}, text {t}")
                if not all(isinstance(box.get(k, ""), str) for k in ("text_ja", "text_en", "text_zh")):
                    raise DataError(f"{where}, text {t}: text_ja/text_en/text_zh must be strings")
                regions.append({"id": f"t{t}", "bbox": bbox, "text": box.get("text_ja", ""), "lang": "ja",
                                "translations": {"en": box.get("text_en", ""), "zh-Hant": box.get("text_zh", "")}})
            record["text_regions"] = regions
            record["reading_direction"] = "rtl"
            image_path = (page.get("image_paths") or {}).get("ja")
            record["meta"] = {"book_title": title, "page_index": index, "image_path": image_path,
                              "frames": [_box(f, where=f"{where}, frame {k}") for k, f in enumerate(page.get("frame") or [])]}
            image = None
            if have_images and image_path:
                found = path.parent / image_path
                if not found.is_file():
                    raise DataError(f"{where}: image {image_path} is referenced but absent from the release")
                record["image"], image = read_image(release, found)
            yield record, image


CONVERTER = Converter(
    name="openmantra",
    version="1.0",
    title="OpenMantra (parallel JA/EN/ZH manga text)",
    domain="manga",
    label_set="none",
    licence="CC BY-NC 4.0",
    non_commercial=True,
    obtain=OBTAIN,
    splits=lambda release: {"test": lambda: _pages(release)},
)
