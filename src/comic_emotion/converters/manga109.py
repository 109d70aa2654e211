"""Manga109 with its public annotations: face emotion + intensity (KangaiSet/MangaUB) and speaker links.

``manga109-emotion``: one record per face of MangaUB's emotion subset.

- ``kangaiset_subset_keys.csv`` (MangaUB, CC BY 4.0): ``kangaiset_key,intensity`` (168 rows,
  ``high``/``low``); intensity exists only here and maps to 0.75 / 0.25 (the midpoints of the upper
  and lower halves of the schema's [0, 1] scale);
- ``kangaiset_annotation_short.csv`` (KangaiSet; not public: the user obtains it from the KangaiSet
  authors): its first, unnamed column is the key; ``manga_name``, ``emotion_str`` (lower case),
  ``face_character_id``, ``face_id``, ``body_id``, ``frame_id``, ``book_genre`` are read;
- face crops ``images/face/all/<emotion>/<genre>_<title>_<character>_<face>.png`` of KangaiSet
  (built from the user's licensed Manga109 copy), embedded when present.

``manga109-dialog``: one record per page with speaker links (Manga109Dialog, CC BY 4.0), joined to
the Manga109 base annotations (the user's licensed copy: ``annotations/<title>.xml`` with
``characters``, ``text`` boxes and their content). Both kinds of XML share the file name
``<title>.xml`` (which may contain apostrophes): they are told apart by content (speaker links;
characters with text boxes), and other XMLs of the official release under the same names (COO
onomatopoeia annotations) are skipped. Quirks: page
index from 0; ids are 8-character hex strings kept as strings; one text may link to several
speakers (``meta.speaker_links`` keeps all; ``speaker`` is the first); a speaker id may name a
character or one of its face/body boxes (resolved to the character).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from comic_emotion.converters.base import Converter, Release, Row, new_record, read_image
from comic_emotion.converters.readers import iter_csv, iter_csv_dicts
from comic_emotion.storage import DataError
from comic_emotion.taxonomy import label_set

KANGAI = label_set("kangaiset")
OBTAIN_KANGAI = ("kangaiset_annotation_short.csv comes from the KangaiSet authors (Théodose & Burie, 2023; "
                 "https://github.com/ruddy-theodose/kangaiset), with a Manga109 licence")
OBTAIN_KEYS = "kangaiset_subset_keys.csv is in MangaUB's annotations (https://github.com/manga-ub, CC BY 4.0)"
OBTAIN_M109 = ("Manga109 base annotations (annotations/<title>.xml) and images come with your Manga109 licence "
               "(http://www.manga109.org/en/download.html); Manga109Dialog XML from its GitHub release")
INTENSITY = {"high": 0.75, "low": 0.25}
_KANGAI_COLUMNS = ("manga_name", "emotion_str", "face_character_id", "face_id", "book_genre")


def _faces(release: Release) -> Iterator[Row]:
    keys_path = release.find("kangaiset_subset_keys.csv", obtain=OBTAIN_KEYS)
    intensity: dict[str, float] = {}
    for line, row in iter_csv_dicts(keys_path, ("kangaiset_key", "intensity")):
        level = row["intensity"].strip().lower()
        if level not in INTENSITY:
            raise DataError(f"{keys_path}: line {line}: intensity {row['intensity']!r}, expected high or low")
        intensity[row["kangaiset_key"].strip()] = INTENSITY[level]
    annotation = release.find("kangaiset_annotation_short.csv", obtain=OBTAIN_KANGAI)
    rows = iter_csv(annotation)
    _, header = next(rows, (0, []))
    missing = [c for c in _KANGAI_COLUMNS if c not in header]
    if missing:
        raise DataError(f"{annotation}: line 1: missing column(s) {', '.join(missing)}")
    found: set[str] = set()
    for line, cells in rows:
        row = dict(zip(header, cells))
        key = cells[0].strip()
        if key not in intensity:
            continue
        emotion = row["emotion_str"].strip().capitalize()
        if emotion not in KANGAI:
            raise DataError(f"{annotation}: line {line}: key {key}: emotion {row['emotion_str']!r} is not one of "
                            f"{', '.join(KANGAI)}")
        found.add(key)
        title, character, face = row["manga_name"].strip(), row["face_character_id"].strip(), row["face_id"].strip()
        record = new_record(MANGA109_EMOTION, sample_id=f"kangaiset-{key}", split="test", original_id=key,
                            emotions=[emotion])
        record["intensity"] = intensity[key]
        record["characters"] = [{"actor_id": character, "emotions": [emotion], "intensity": intensity[key]}]
        record["reading_direction"] = "rtl"
        record["meta"] = {"title": title, "genre": row["book_genre"].strip(), "face_id": face,
                          "body_id": row.get("body_id", "").strip() or None,
                          "frame_id": row.get("frame_id", "").strip() or None}
        crop = release.find_all(f"{row['book_genre'].strip()}_{title}_{character}_{face}.png")
        image = None
        if crop:
            record["image"], image = read_image(release, crop[0])
        yield record, image
    absent = sorted(set(intensity) - found)
    if absent:
        raise DataError(f"{annotation}: {len(absent)} key(s) of kangaiset_subset_keys.csv are absent, e.g. "
                        f"{', '.join(absent[:3])}; is this the KangaiSet annotation CSV MangaUB used?")


def _xml_kind(root: ET.Element) -> str | None:
    """``"dialog"``, ``"base"`` or ``None`` (another annotation of the release, e.g. COO onomatopoeia)."""
    if root.tag != "book":
        return None
    if root.find(".//speaker_to_text") is not None:
        return "dialog"
    if root.find("characters") is not None and root.find(".//text") is not None:
        return "base"
    # The official Manga109 release also ships other <book> XMLs under the same titles, such as the COO
    # onomatopoeia annotations (annotations_COO/<title>.xml: <onomatopoeia> boxes, no speaker links, no
    # <text>): not ours to read, so skipped rather than mistaken for a second dialog file.
    return None


def _xml_kinds(release: Release) -> tuple[dict[str, Path], dict[str, Path]]:
    """``(dialog, base)``: title -> XML file of Manga109Dialog and of the Manga109 base annotations.

    Where the release holds several base annotation versions of a title (``annotations/`` beside
    dated ``annotations.vYYYY.MM.DD/`` folders), the one in ``annotations/`` is used.
    """
    dialog: dict[str, Path] = {}
    base: dict[str, Path] = {}
    for path in release.find_all("*.xml"):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as exc:
            raise DataError(f"{path}: not well-formed XML ({exc})") from None
        kind = _xml_kind(root)
        if kind is None:
            continue
        title = root.get("title") or path.stem
        target = base if kind == "base" else dialog
        if title in target:
            preferred = [p for p in (target[title], path) if p.parent.name == "annotations"]
            if kind == "base" and len(preferred) == 1:
                target[title] = preferred[0]
                continue
            raise DataError(f"{path}: a second {'Manga109 base annotation' if kind == 'base' else 'Manga109Dialog'} "
                            f"XML for title {title!r} ({target[title]}); keep one in the source folder")
        target[title] = path
    return dialog, base


def _dialog_pages(release: Release) -> Iterator[Row]:
    dialog, base = _xml_kinds(release)
    if not dialog:
        raise DataError(f"{release.root}: no Manga109Dialog XML (<book><pages><page><speaker_to_text>) found; "
                        f"{OBTAIN_M109}")
    for title, path in sorted(dialog.items()):
        if title not in base:
            raise DataError(f"{path}: the Manga109 base annotations for {title!r} (annotations/{title}.xml, with "
                            f"text content and character names) are missing; {OBTAIN_M109}")
        release.use(path)
        release.use(base[title])
        book = ET.parse(base[title]).getroot()
        names = {c.get("id"): c.get("name") for c in book.iter("character")}
        owner = {k: k for k in names}
        for element in book.iter():
            if element.tag in ("face", "body") and element.get("character"):
                owner[element.get("id")] = element.get("character")
        texts = {t.get("id"): t for t in book.iter("text")}
        pages = {p.get("index"): p for p in book.iter("page")}
        for page in ET.parse(path).getroot().iter("page"):
            links = page.findall("speaker_to_text")
            if not links:
                continue
            index = page.get("index")
            speakers: dict[str, list[str]] = {}
            for link in links:
                text_id, speaker_id = link.get("text_id"), link.get("speaker_id")
                if text_id not in texts:
                    raise DataError(f"{path}: page {index}: link {link.get('id')} names text {text_id!r}, "
                                    f"absent from {base[title].name}")
                if speaker_id not in owner:
                    raise DataError(f"{path}: page {index}: link {link.get('id')} names speaker {speaker_id!r}, "
                                    f"not a character, face or body of {base[title].name}")
                speakers.setdefault(text_id, []).append(owner[speaker_id])
            record = new_record(MANGA109_DIALOG, sample_id=f"manga109-{title.replace(' ', '_')}-p{int(index):03d}",
                                split="test", original_id=f"{title}/{index}")
            regions = []
            for text_id, who in speakers.items():
                box = texts[text_id]
                x0, y0, x1, y1 = (int(box.get(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
                regions.append({"id": text_id, "bbox": [x0, y0, x1 - x0, y1 - y0], "text": box.text or "",
                                "lang": "ja", "speaker": who[0]})
            record["text_regions"] = regions
            actors = dict.fromkeys(s for who in speakers.values() for s in who)
            record["characters"] = [{"actor_id": a, "name": names.get(a)} for a in actors]
            record["reading_direction"] = "rtl"
            size = pages.get(index)
            record["meta"] = {"title": title, "page_index": int(index), "speaker_links": speakers,
                              "page_size": [int(page.get("width") or size.get("width")),
                                            int(page.get("height") or size.get("height"))] if size is not None else None}
            image = None
            found = [p for p in release.find_all(f"{int(index):03d}.jpg") if p.parent.name == title]
            if found:
                record["image"], image = read_image(release, found[0])
            yield record, image


MANGA109_EMOTION = Converter(
    name="manga109-emotion", version="1.0", title="Manga109 faces: KangaiSet emotion + MangaUB intensity",
    domain="manga", label_set="kangaiset",
    licence="MangaUB keys CC BY 4.0; KangaiSet annotations and Manga109 images under the user's Manga109 licence",
    non_commercial=True, obtain=OBTAIN_KANGAI,
    splits=lambda release: {"test": lambda: _faces(release)},
)
MANGA109_DIALOG = Converter(
    name="manga109-dialog", version="1.0", title="Manga109Dialog speaker links on Manga109 pages",
    domain="manga", label_set="none",
    licence="Manga109Dialog CC BY 4.0; Manga109 annotations and images under the user's Manga109 licence",
    non_commercial=True, obtain=OBTAIN_M109,
    splits=lambda release: {"test": lambda: _dialog_pages(release)},
)
CONVERTERS = {"manga109-emotion": MANGA109_EMOTION, "manga109-dialog": MANGA109_DIALOG}
