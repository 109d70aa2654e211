"""Format-faithful miniature releases of the corpora, built by the tests (never read from elsewhere).

Each builder writes files under the official names, with the official columns, JSON structure and
encoding quirks described in the converters' docstrings, and returns what a test needs to check
the conversion field by field. ``write_emorecom_release`` also scales to the 100,000-row benchmark.
"""

from __future__ import annotations

import ast
import io
import json
import random
from pathlib import Path

EMORECOM_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "other")


def jpeg(width: int, height: int, colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    """A small JPEG of one colour."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def write_emorecom_release(root: Path, n_train: int = 4, n_test: int = 2, *, seed: int = 0, images: bool = True,
                           warm_up: bool = False, test_labels: bool = True) -> dict:
    """EmoRecCom: label CSV with the pandas-index header (or the header-less warm-up form), JSON
    transcriptions with ``NaN`` tokens, split apostrophes and empty lists, the colon-named polarity
    file, and ``<book>_<page>_<panel>.jpg`` panels."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    gold: dict[str, list[str]] = {}
    order: dict[str, list[str]] = {}
    for split, n in (("train", n_train), ("test", n_test)):
        ids = [f"{1000 + i // 30}_{(i // 6) % 5}_{i % 6}" if split == "train" else f"{9000 + i // 30}_{(i // 6) % 5}_{i % 6}"
               for i in range(n)]
        order[split] = ids
        items = []
        for i, image_id in enumerate(ids):
            dialog = [f"i don ' t know {i}", "NaN-placeholder"] if i % 3 == 0 else ([] if i % 3 == 1 else ["héllo ? "])
            items.append({"dialog": dialog, "narration": ["later that day"] if i % 2 else [], "img_id": image_id})
            gold[image_id] = [label for label in EMORECOM_LABELS if rng.random() < 0.3]
        # Python's json writes NaN for float('nan'): the placeholder becomes the bare token.
        text = json.dumps(items, ensure_ascii=False).replace('"NaN-placeholder"', "NaN")
        (root / f"{split}_transcriptions.json").write_text(text, encoding="utf-8")
        if split == "test" and not test_labels:
            continue
        lines = [] if warm_up else [",image_id," + ",".join(EMORECOM_LABELS)]
        for i, image_id in enumerate(ids):
            values = ",".join("1" if label in gold[image_id] else "0" for label in EMORECOM_LABELS)
            lines.append(f"{i + 1 if warm_up else i},{image_id},{values}")
        (root / f"{split}_emotion_labels.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    polarity = [",image_id,positive,negative"] + [f"{i},{image_id},{i % 2},{(i + 1) % 2}"
                                                 for i, image_id in enumerate(order["train"])]
    (root / "additional_infor:train_emotion_polarity.csv").write_text("\n".join(polarity) + "\n", encoding="utf-8")
    if images:
        (root / "images").mkdir(exist_ok=True)
        for split_ids in order.values():
            for k, image_id in enumerate(split_ids):
                (root / "images" / f"{image_id}.jpg").write_bytes(jpeg(40 + k, 30))
    return {"gold": gold, "order": order}


def write_emocomics35_csv(path: Path) -> list[dict]:
    """EmoComics35: one row per page; list columns as Python literals, ``PageEmotions`` doubly encoded
    with unquoted ``[Neutral]``, noisy speakers (spaces, tabs, ``ID- 1``, a shifted intensity code),
    ``#``/``@`` utterances, a line break inside an utterance."""
    import csv

    pages = [
        {"file": "1499", "page": 1, "split": "TRAIN", "title": "Jurassic League #4",
         "utterances": ["THIS VILE THING ATTACKED… ", "#CHOMP!", "@ONCE UPON A TIME…", "WHERE AM I?!\n\nWHAT?!"],
         "speakers": ["AQUANYX", "ID- 1", " Michelangelo\t", "AN0-DI1-FE0-SA1-SU0-JO0"],
         "emotions": ["['Anger']", "['Fear', 'Surprise']", "[Neutral]", "['Disgust', 'Sadness']"],
         "panels": [1, 1, 2, 3], "balloons": [2, 3, 1, 1]},
        {"file": "1507", "page": 1, "split": "TEST", "title": "Tales #3",
         "utterances": ["HOW'S IT GOING?", "HEY."], "speakers": ["ID-1 ", "Tom "],
         "emotions": ["['Surprise', 'Joy']", "[Neutral]"], "panels": [1, 1], "balloons": [1, 2]},
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["", "SourceFile", "Page", "PageUtterances", "PageSpeakers", "PageEmotions", "PagePanels",
                         "PageBalloons", "FileNr", "Split", "ComicBookTitle", "image_path"])
        for i, p in enumerate(pages):
            writer.writerow([i, f"QC copy - {p['file']} - {p['title']}.xlsx", p["page"], repr(p["utterances"]),
                             repr(p["speakers"]), repr(p["emotions"]), repr(p["panels"]), repr(p["balloons"]),
                             p["file"], p["split"], p["title"],
                             (f"/Utilisateurs/x/EmoComics35/raw_files/images/{int(p['file']):06d}/images/"
                              f"page{p['page']:05d}.jpg")])
    return pages


def write_openmantra(root: Path, *, images: bool = True) -> list[dict]:
    """OpenMantra ``annotation.json``: books → pages (``page_index`` from 1, files from ``000.jpg``)
    → frames and text boxes with ``text_ja``/``text_en``/``text_zh``; an empty page, an empty
    ``text_ja`` and an English line break."""
    books = [{"book_title": "tojime_no_siora", "pages": [
        {"page_index": 1, "image_paths": {"ja": "images/tojime_no_siora/ja/000.jpg"}, "frame": [], "text": []},
        {"page_index": 2, "image_paths": {"ja": "images/tojime_no_siora/ja/001.jpg"},
         "frame": [{"x": 1, "y": 0, "w": 50, "h": 40}],
         "text": [{"x": 10, "y": 5, "w": 12, "h": 20, "text_ja": "だからっ", "text_en": "I'm telling\nyou!!",
                   "text_zh": "所以..."},
                  {"x": 30, "y": 8, "w": 10, "h": 10, "text_ja": "", "text_en": "...", "text_zh": "..."}]},
    ]}]
    root.mkdir(parents=True, exist_ok=True)
    (root / "annotation.json").write_text(json.dumps(books, ensure_ascii=False, indent=1), encoding="utf-8")
    if images:
        for page in books[0]["pages"]:
            target = root / page["image_paths"]["ja"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(jpeg(60, 80))
    return books


def write_emoart_release(root: Path, *, images: bool = True) -> list[dict]:
    """EmoArt-5k: ``Images/annotation_5k.json`` with Windows-separated ``image_path`` and a style
    name with spaces, plus the style folders of images."""
    items = [
        {"request_id": "Shin-hanga_request-93", "image_path": "Images\\Shin-hanga\\0043826_Kawase.jpg",
         "description": {"first_section": {"description": "A snowy bridge at dusk."},
                         "second_section": {"visual_attributes": {"brushstroke": "fine", "color": "blue"},
                                            "emotional_impact": "The hush of snow evokes calm."},
                         "third_section": {"dominant_emotion": "Calm", "emotional_valence": "Positive",
                                           "emotional_arousal_level": "Low", "healing_effects": ["Relieve Stress"]}}},
        {"request_id": "Mannerism (Late Renaissance)_request-7",
         "image_path": "Images\\Mannerism (Late Renaissance)\\0006448_Bronzino-Portrait'Medici.jpg",
         "description": {"first_section": {"description": "A tense portrait."},
                         "second_section": {"visual_attributes": {}, "emotional_impact": "Sharp contrasts alarm."},
                         "third_section": {"dominant_emotion": "Alarmed", "emotional_valence": "Negative",
                                           "emotional_arousal_level": "High", "healing_effects": []}}},
    ]
    (root / "Images").mkdir(parents=True, exist_ok=True)
    (root / "Images" / "annotation_5k.json").write_text(json.dumps(items, indent=2), encoding="utf-8")
    if images:
        for k, item in enumerate(items):
            target = root.joinpath(*item["image_path"].split("\\"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(jpeg(50 + k, 40))
    return items


def write_artemis_release(root: Path, *, images: bool = True) -> list[tuple[str, ...]]:
    """ArtEmis: ``artemis_dataset_release_v0.csv`` (rows of one painting not adjacent) and
    ``<art_style>/<painting>.jpg`` WikiArt images."""
    import csv

    rows = [
        ("Impressionism", "claude-monet_water-lilies", "contentment", "The soft colours feel peaceful.", "10"),
        ("Baroque", "caravaggio_judith", "disgust", "Blood everywhere, gross.", "5"),
        ("Impressionism", "claude-monet_water-lilies", "awe", "So vast and dreamy", "10"),
        ("Impressionism", "claude-monet_water-lilies", "contentment", "calm water, calm mind", "10"),
        ("Baroque", "caravaggio_judith", "fear", "The old woman's stare, \"scary\"", "5"),
    ]
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "artemis_dataset_release_v0.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["art_style", "painting", "emotion", "utterance", "repetition"])
        writer.writerows(rows)
    if images:
        for style, painting in {(r[0], r[1]) for r in rows}:
            (root / "wikiart" / style).mkdir(parents=True, exist_ok=True)
            (root / "wikiart" / style / f"{painting}.jpg").write_bytes(jpeg(64, 48))
    return rows


def write_seed_jsonl(path: Path, pages: list[dict]) -> None:
    """The seed project's chat format for EmoComics35 pages: numbered utterances in the prompt,
    a Python-literal target (single quotes), the authors' image path."""
    with open(path, "w", encoding="utf-8") as handle:
        for p in pages:
            numbered = "\n".join(f"{i + 1:2d}. {u.strip()}" for i, u in enumerate(p["utterances"]))
            labels = [["Neutral"] if e == "[Neutral]" else ast.literal_eval(e) for e in p["emotions"]]
            line = {"messages": [{"content": "<image>Multimodal Comic Book Emotion Analysis\n    Here are the "
                                  f"utterances on the comic page that you will classify:\n{numbered}", "role": "user"},
                                 {"content": repr({"emotions": labels}), "role": "assistant"}],
                    "images": [(f"/Utilisateurs/x/EmoComicsFiles/images/{int(p['file']):06d}/images/"
                                f"page{p['page']:05d}.jpg")]}
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")


def write_manga109(root: Path) -> None:
    """Manga109Dialog XML (tab-indented, ``<speaker_to_text>``, page index from 0, a title with an
    apostrophe, one text linked to two speakers, one link through a face id), the user's Manga109
    base annotations, MangaUB's subset keys and KangaiSet's annotation CSV with a face crop."""
    title = "That'sIzumiko"
    (root / "Manga109Dialog").mkdir(parents=True, exist_ok=True)
    (root / "Manga109Dialog" / f"{title}.xml").write_text(
        '<?xml version="1.0" ?>\n<book title="That\'sIzumiko">\n\t<pages>\n'
        '\t\t<page index="0" width="1654" height="1170"/>\n'
        '\t\t<page index="1" width="1654" height="1170">\n'
        '\t\t\t<speaker_to_text id="20000001" text_id="0000000a" speaker_id="00000002"/>\n'
        '\t\t\t<speaker_to_text id="20000002" text_id="0000000a" speaker_id="0000000f"/>\n'
        '\t\t\t<speaker_to_text id="20000003" text_id="0000000b" speaker_id="00000003"/>\n'
        '\t\t</page>\n\t</pages>\n</book>\n', encoding="utf-8")
    (root / "Manga109" / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "Manga109" / "annotations" / f"{title}.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<book title="That\'sIzumiko">\n<characters>\n'
        '<character id="00000002" name="泉子"/>\n<character id="00000003" name="先生"/>\n</characters>\n<pages>\n'
        '<page index="0" width="1654" height="1170"/>\n<page index="1" width="1654" height="1170">\n'
        '<face id="0000000f" xmin="1" ymin="1" xmax="9" ymax="9" character="00000003"/>\n'
        '<text id="0000000a" xmin="10" ymin="20" xmax="60" ymax="120">おはよう！</text>\n'
        '<text id="0000000b" xmin="100" ymin="20" xmax="150" ymax="90">…</text>\n'
        '</page>\n</pages>\n</book>\n', encoding="utf-8")
    (root / "kangaiset_subset_keys.csv").write_text("kangaiset_key,intensity\n4078,high\n4201,low\n")
    (root / "kangaiset").mkdir(exist_ok=True)
    (root / "kangaiset" / "kangaiset_annotation_short.csv").write_text(
        ",manga_name,emotion_str,face_character_id,face_id,body_id,frame_id,book_genre\n"
        "17,ARMS,anger,00000002,00000010,00000011,00000004,battle\n"
        "4078,ARMS,happiness,00000002,0000001a,0000001b,00000004,battle\n"
        "4201,LoveHina_vol01,surprise,00000005,0000002a,,00000009,romantic_comedy\n")
    crop = root / "kangaiset" / "images" / "face" / "all" / "happiness"
    crop.mkdir(parents=True)
    (crop / "battle_ARMS_00000002_0000001a.png").write_bytes(jpeg(20, 24))
