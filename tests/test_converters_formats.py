"""Each converter on a format-faithful fixture built here, checked field by field."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from converter_fixtures import (
    EMORECOM_LABELS,
    write_artemis_release,
    write_emoart_release,
    write_emocomics35_csv,
    write_emorecom_release,
    write_openmantra,
    write_seed_jsonl,
)

from comic_emotion.converters import get_converter
from comic_emotion.converters.base import prepare
from comic_emotion.schema import validate_samples
from comic_emotion.storage import data_hash, load_split_dataset, read_manifest, read_records


def _prepare(name: str, source: Path, root: Path) -> dict:
    return prepare(get_converter(name), source, root, today="2026-01-01")


def _records(root: Path, name: str, split: str) -> list[dict]:
    records = list(read_records(root / name / f"{split}.parquet"))
    assert validate_samples(records) == len(records)  # round trip: what was written is a valid sample
    return records


def test_emorecom_panels_labels_text_and_images(tmp_path):
    info = write_emorecom_release(tmp_path / "rel", n_train=6, n_test=3)
    manifest = _prepare("emorecom", tmp_path / "rel", tmp_path / "data")
    assert manifest["splits"]["train"]["rows"] == 6 and manifest["splits"]["test"]["rows"] == 3
    assert {s["name"] for s in manifest["sources"]} == {
        "additional_infor:train_emotion_polarity.csv", "train_emotion_labels.csv", "train_transcriptions.json",
        "test_transcriptions.json", "test_emotion_labels.csv"}
    train = _records(tmp_path / "data", "emorecom", "train")
    assert [r["source"]["original_id"] for r in train] == info["order"]["train"]
    first = train[0]
    assert first["id"] == "emorecom-1000_0_0" and first["label_set"] == "emorecom"
    assert first["emotions"] == info["gold"]["1000_0_0"]
    # The bare NaN token is dropped; the split apostrophe is kept as released.
    assert [t["text"] for t in first["text_regions"]] == ["i don ' t know 0"]
    assert train[1]["text_regions"] == [{"id": "n0", "kind": "narration", "text": "later that day", "lang": "en"}]
    assert first["meta"] == {"book": "1000", "page": 0, "panel": 0, "polarity": {"positive": 0, "negative": 1}}
    image = (tmp_path / "rel" / "images" / "1000_0_0.jpg").read_bytes()
    assert first["image"] == {"width": 40, "height": 30, "path": "images/1000_0_0.jpg",
                              "sha256": hashlib.sha256(image).hexdigest()}
    table = load_split_dataset(tmp_path / "data" / "emorecom" / "train.parquet")
    assert table[0]["image"].size == (40, 30)
    test = _records(tmp_path / "data", "emorecom", "test")
    assert [r["source"]["original_id"] for r in test] == info["order"]["test"]  # submission row order


def test_emorecom_warm_up_release_without_header_and_text_only(tmp_path):
    info = write_emorecom_release(tmp_path / "rel", warm_up=True, images=False, test_labels=False)
    manifest = _prepare("emorecom", tmp_path / "rel", tmp_path / "data")
    assert list(manifest["splits"]) == ["train"]  # no public test labels: no scored test split
    records = _records(tmp_path / "data", "emorecom", "train")
    assert all(r["image"] is None for r in records)
    assert {r["source"]["original_id"]: r["emotions"] for r in records} == {
        k: v for k, v in info["gold"].items() if k in info["order"]["train"]}
    assert set(EMORECOM_LABELS) >= {label for r in records for label in r["emotions"]}


def test_emocomics35_utterances_speakers_and_quirks(tmp_path):
    write_emocomics35_csv(tmp_path / "emocomics35_pg_images_original.csv")
    manifest = _prepare("emocomics35", tmp_path / "emocomics35_pg_images_original.csv", tmp_path / "data")
    assert {k: v["rows"] for k, v in manifest["splits"].items()} == {"train": 1, "test": 1}
    page = _records(tmp_path / "data", "emocomics35", "train")[0]
    assert page["id"] == "emocomics35-1499-p001" and page["image"] is None
    regions = page["text_regions"]
    assert [r["text"] for r in regions] == ["THIS VILE THING ATTACKED…", "#CHOMP!", "@ONCE UPON A TIME…",
                                            "WHERE AM I?!\n\nWHAT?!"]
    assert [r["kind"] for r in regions] == ["speech", "sfx", "caption", "speech"]
    assert [r["emotions"] for r in regions] == [["Anger"], ["Fear", "Surprise"], ["Neutral"], ["Disgust", "Sadness"]]
    assert [r["speaker"] for r in regions] == ["AQUANYX", "ID-1", "Michelangelo", None]
    assert page["meta"]["intensity_codes"] == {"3": "AN0-DI1-FE0-SA1-SU0-JO0"}
    assert page["emotions"] == ["Anger", "Disgust", "Fear", "Sadness", "Surprise"]  # Neutral dropped from a mixed page
    assert page["canonical_emotions"] == ["angry", "disgust", "fear", "sad", "surprise"]
    assert {"actor_id": "ID-1", "emotion": "Surprise"} in page["attributions"]
    assert [c["actor_id"] for c in page["characters"]] == ["AQUANYX", "ID-1", "Michelangelo"]
    assert page["meta"]["panels"] == [1, 1, 2, 3] and page["source"]["original_id"] == "1499/1"


def test_seed_jsonl_agrees_with_the_emocomics35_csv(tmp_path):
    pages = write_emocomics35_csv(tmp_path / "csv" / "emocomics35_pg_images_original.csv")
    (tmp_path / "seed").mkdir()
    write_seed_jsonl(tmp_path / "seed" / "llama3_vision_ds_test_lfc.jsonl", [p for p in pages if p["split"] == "TEST"])
    _prepare("emocomics35", tmp_path / "csv", tmp_path / "data")
    manifest = _prepare("seed-jsonl", tmp_path / "seed" / "llama3_vision_ds_test_lfc.jsonl", tmp_path / "data")
    assert manifest["label_set"] == "emocomics35" and list(manifest["splits"]) == ["test"]
    seed = _records(tmp_path / "data", "seed-jsonl", "test")
    csv_pages = _records(tmp_path / "data", "emocomics35", "test")
    assert [[(r["text"], r["emotions"]) for r in p["text_regions"]] for p in seed] == \
           [[(r["text"], r["emotions"]) for r in p["text_regions"]] for p in csv_pages]
    assert seed[0]["emotions"] == csv_pages[0]["emotions"] == ["Surprise", "Joy"]
    assert seed[0]["question"].startswith("Multimodal") and seed[0]["image"] is None


def test_seed_jsonl_art_target_and_broken_mangavqa_export(tmp_path):
    art = {"messages": [{"content": "<image>Choose one emotion", "role": "user"},
                        {"content": "{'dominant_emotion': 'Glad'}", "role": "assistant"}], "images": ["/x/a.jpg"]}
    (tmp_path / "art").mkdir()
    (tmp_path / "art" / "emoart5k_llama_test.jsonl").write_text(json.dumps(art) + "\n", encoding="utf-8")
    manifest = _prepare("seed-jsonl", tmp_path / "art", tmp_path / "data")
    assert (manifest["label_set"], manifest["domain"]) == ("emoart", "art")
    assert _records(tmp_path / "data", "seed-jsonl", "test")[0]["emotions"] == ["Glad"]
    vqa = {"messages": [{"content": "<image>回答", "role": "user"}, {"content": "{'answer': 'ひなた荘'}",
                                                                    "role": "assistant"}], "images": [2]}
    bad = tmp_path / "mangavqa_train.jsonl"
    bad.write_text(json.dumps(vqa, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"mangavqa_train.jsonl: line 1: images\[0\] is 2, not an image path"):
        _prepare("seed-jsonl", bad, tmp_path / "data")


def test_openmantra_parallel_text_and_page_files(tmp_path):
    write_openmantra(tmp_path / "om")
    _prepare("openmantra", tmp_path / "om", tmp_path / "data")
    empty, page = _records(tmp_path / "data", "openmantra", "test")
    assert empty["text_regions"] == [] and empty["image"]["path"] == "images/tojime_no_siora/ja/000.jpg"
    assert page["id"] == "openmantra-tojime_no_siora-p002" and page["reading_direction"] == "rtl"
    assert page["image"]["path"] == "images/tojime_no_siora/ja/001.jpg"  # page_index 2 -> 001.jpg
    assert page["text_regions"][0] == {"id": "t0", "bbox": [10, 5, 12, 20], "text": "だからっ", "lang": "ja",
                                       "translations": {"en": "I'm telling\nyou!!", "zh-Hant": "所以..."}}
    assert page["text_regions"][1]["text"] == "" and page["meta"]["frames"] == [[1, 0, 50, 40]]


def test_emoart_levels_explanations_and_windows_paths(tmp_path):
    write_emoart_release(tmp_path / "ea")
    _prepare("emoart", tmp_path / "ea", tmp_path / "data")
    calm, alarmed = _records(tmp_path / "data", "emoart", "test")
    assert (calm["emotions"], calm["arousal"], calm["valence"], calm["intensity"]) == (["Calm"], 0.0, 1.0, 0.0)
    assert calm["explanations"] == ["The hush of snow evokes calm."] and calm["meta"]["style"] == "Shin-hanga"
    assert calm["image"]["path"] == "Images/Shin-hanga/0043826_Kawase.jpg"
    assert alarmed["id"] == "emoart-Mannerism_(Late_Renaissance)_request-7"
    assert alarmed["source"]["original_id"] == "Mannerism (Late Renaissance)_request-7"
    assert (alarmed["arousal"], alarmed["valence"], alarmed["canonical_emotions"]) == (1.0, -1.0, ["fear"])


def test_artemis_majority_labels_explanations_and_stable_split(tmp_path):
    from comic_emotion.converters.artemis import split_of

    write_artemis_release(tmp_path / "ae")
    manifest = _prepare("artemis", tmp_path / "ae", tmp_path / "data")
    records = {r["source"]["original_id"]: r for split in manifest["splits"]
               for r in _records(tmp_path / "data", "artemis", split)}
    monet = records["Impressionism/claude-monet_water-lilies"]
    assert monet["emotions"] == ["contentment"] and monet["meta"]["n_annotations"] == 3
    assert monet["explanations"] == ["The soft colours feel peaceful.", "So vast and dreamy", "calm water, calm mind"]
    assert monet["source"]["split"] == split_of("Impressionism", "claude-monet_water-lilies")
    judith = records["Baroque/caravaggio_judith"]
    assert judith["emotions"] == ["disgust", "fear"]  # a tie keeps both
    assert judith["image"]["path"] == "wikiart/Baroque/caravaggio_judith.jpg"


def test_prepare_is_idempotent_and_a_changed_source_changes_the_hash(tmp_path):
    write_emorecom_release(tmp_path / "rel")
    first = _prepare("emorecom", tmp_path / "rel", tmp_path / "data")
    again = _prepare("emorecom", tmp_path / "rel", tmp_path / "data")
    assert first == again and data_hash(first) == data_hash(read_manifest(tmp_path / "data" / "emorecom"))
    again_later = prepare(get_converter("emorecom"), tmp_path / "rel", tmp_path / "data", today="2030-05-05")
    assert data_hash(again_later) == data_hash(first)  # the date is not part of the hash
    labels = tmp_path / "rel" / "train_emotion_labels.csv"
    lines = labels.read_text().splitlines()
    lines[1] = lines[1][:-1] + ("1" if lines[1].endswith("0") else "0")
    labels.write_text("\n".join(lines) + "\n")
    changed = _prepare("emorecom", tmp_path / "rel", tmp_path / "data")
    assert data_hash(changed) != data_hash(first)
    assert changed["splits"]["train"]["sha256"] != first["splits"]["train"]["sha256"]


def test_manga109_emotion_joins_mangaub_keys_to_kangaiset(tmp_path):
    from converter_fixtures import write_manga109

    write_manga109(tmp_path / "m")
    manifest = _prepare("manga109-emotion", tmp_path / "m", tmp_path / "data")
    assert {s["name"] for s in manifest["sources"]} == {"kangaiset_subset_keys.csv", "kangaiset_annotation_short.csv"}
    happy, surprised = _records(tmp_path / "data", "manga109-emotion", "test")
    assert (happy["id"], happy["emotions"], happy["intensity"]) == ("kangaiset-4078", ["Happiness"], 0.75)
    assert happy["characters"] == [{"actor_id": "00000002", "emotions": ["Happiness"], "intensity": 0.75}]
    assert happy["image"]["width"] == 20 and surprised["image"] is None
    assert (surprised["intensity"], surprised["meta"]["body_id"]) == (0.25, None)


def test_manga109_dialog_links_texts_to_speakers(tmp_path):
    from converter_fixtures import write_manga109

    write_manga109(tmp_path / "m")
    _prepare("manga109-dialog", tmp_path / "m", tmp_path / "data")
    (page,) = _records(tmp_path / "data", "manga109-dialog", "test")
    assert page["id"] == "manga109-That'sIzumiko-p001"
    assert page["text_regions"][0] == {"id": "0000000a", "bbox": [10, 20, 50, 100], "text": "おはよう！", "lang": "ja",
                                       "speaker": "00000002"}
    assert page["meta"]["speaker_links"] == {"0000000a": ["00000002", "00000003"], "0000000b": ["00000003"]}
    assert page["characters"] == [{"actor_id": "00000002", "name": "泉子"}, {"actor_id": "00000003", "name": "先生"}]


def test_manga109_dialog_without_base_annotations_says_what_to_obtain(tmp_path):
    import shutil

    from converter_fixtures import write_manga109

    write_manga109(tmp_path / "m")
    shutil.rmtree(tmp_path / "m" / "Manga109")
    with pytest.raises(ValueError, match=r"base annotations for \"That'sIzumiko\" .* are missing; Manga109 base"):
        _prepare("manga109-dialog", tmp_path / "m", tmp_path / "data")


def test_manga109_dialog_reads_the_official_layout_with_coo_and_older_annotation_versions(tmp_path):
    """The release as shipped: COO onomatopoeia XMLs and a dated older annotation folder under the same titles."""
    import shutil

    from converter_fixtures import write_manga109

    write_manga109(tmp_path / "plain")
    _prepare("manga109-dialog", tmp_path / "plain", tmp_path / "plain-data")
    shutil.copytree(tmp_path / "plain", tmp_path / "m")
    title = "That'sIzumiko"
    manga109 = tmp_path / "m" / "Manga109"
    (manga109 / "annotations_COO").mkdir()
    (manga109 / "annotations_COO" / f"{title}.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<book title="That\'sIzumiko">\n<characters/>\n<pages>\n'
        '<page index="0" width="1654" height="1170"/>\n<page index="1" width="1654" height="1170">\n'
        '<onomatopoeia id="00c00001" xmin="5" ymin="5" xmax="40" ymax="60">ドキッ'
        '<point x="5" y="5"/><point x="40" y="5"/><point x="40" y="60"/></onomatopoeia>\n'
        '</page>\n</pages>\n</book>\n', encoding="utf-8")
    (manga109 / "annotations.v2018.05.31").mkdir()
    shutil.copy(manga109 / "annotations" / f"{title}.xml", manga109 / "annotations.v2018.05.31" / f"{title}.xml")
    _prepare("manga109-dialog", tmp_path / "m", tmp_path / "data")
    assert _records(tmp_path / "data", "manga109-dialog", "test") == \
        _records(tmp_path / "plain-data", "manga109-dialog", "test")


def test_openmantra_errors_name_the_page_by_its_page_index(tmp_path):
    from converter_fixtures import write_openmantra

    books = write_openmantra(tmp_path / "om")
    books[0]["pages"][1]["text"][0]["text_ja"] = 5  # the page with page_index 2, at list position 1
    (tmp_path / "om" / "annotation.json").write_text(json.dumps(books, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match=r"book 'tojime_no_siora', page_index 2, text 0: text_ja/text_en/text_zh"):
        _prepare("openmantra", tmp_path / "om", tmp_path / "data")
    del books[0]["pages"][1]["page_index"]
    (tmp_path / "om" / "annotation.json").write_text(json.dumps(books, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match=r"page entry 2 of the list \(no 'page_index'\)"):
        _prepare("openmantra", tmp_path / "om", tmp_path / "data")
