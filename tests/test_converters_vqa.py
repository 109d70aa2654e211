"""MangaVQA and EMID converters on format-faithful copies built here (saved ``datasets``, parquet, CSV, JSONL)."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from converter_fixtures import jpeg

from comic_emotion.converters import get_converter
from comic_emotion.converters.base import prepare
from comic_emotion.converters.emid import split_of as emid_split_of
from comic_emotion.schema import validate_samples
from comic_emotion.storage import DataError, read_records

MANGAVQA_ROWS = {
    "title": ["LoveHina_vol01", "LoveHina_vol01", "That'sIzumiko"],
    "image_number": [5, 5, 12],
    "question": ["景太郎が住んでいる建物の名前は何ですか？", "なぜ彼は怒っているのですか？", "泉子は何を持っていますか？"],
    "answer": ["ひなた荘", "約束を破られたから。", "傘"],
    "required_info": ["panel", "page", "panel"],
    "w5h1": ["what", "why", "what"],
    "understanding_type": ["exact_extraction", "descriptive", "exact_extraction"],
}


def _manga109_pages(root: Path) -> None:
    for k, (title, page) in enumerate({(t, p) for t, p in zip(MANGAVQA_ROWS["title"], MANGAVQA_ROWS["image_number"])}):
        folder = root / "Manga109_released_2023_12_07" / "images" / title
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{page:03d}.jpg").write_bytes(jpeg(80 + k, 110))
        (folder / f"{page + 1:03d}.jpg").write_bytes(jpeg(80, 110))  # a neighbour page nobody asks about


def _prepare(name: str, source: Path, root: Path) -> dict:
    return prepare(get_converter(name), source, root, today="2026-01-01")


def _records(root: Path, name: str, split: str) -> list[dict]:
    records = list(read_records(root / name / f"{split}.parquet"))
    assert validate_samples(records) == len(records)
    return records


@pytest.mark.parametrize("form", ["parquet", "save_to_disk", "dataset_dict"])
def test_mangavqa_saved_copies_give_questions_answers_and_manga109_pages(tmp_path, form):
    import datasets

    release = tmp_path / "rel"
    if form == "parquet":
        datasets.Dataset.from_dict(MANGAVQA_ROWS).to_parquet(str(release / "MangaVQA" / "data" / "test-00000-of-00001.parquet"))
    elif form == "save_to_disk":
        datasets.Dataset.from_dict(MANGAVQA_ROWS, split="test").save_to_disk(str(release / "mangavqa_saved"))
    else:
        datasets.DatasetDict({"test": datasets.Dataset.from_dict(MANGAVQA_ROWS)}).save_to_disk(str(release / "saved"))
    _manga109_pages(release)
    manifest = _prepare("mangavqa", release, tmp_path / "data")
    assert {k: v["rows"] for k, v in manifest["splits"].items()} == {"test": 3}
    assert manifest["label_set"] == "none" and manifest["domain"] == "manga" and manifest["non_commercial"]
    records = _records(tmp_path / "data", "mangavqa", "test")
    assert [r["id"] for r in records] == ["mangavqa-LoveHina_vol01-005-q0", "mangavqa-LoveHina_vol01-005-q1",
                                         "mangavqa-That'sIzumiko-012-q0"]
    first = records[0]
    assert first["question"] == MANGAVQA_ROWS["question"][0] and first["answers"] == ["ひなた荘"]
    assert first["emotions"] == [] and first["label_set"] == "none" and first["reading_direction"] == "rtl"
    assert first["meta"] == {"title": "LoveHina_vol01", "image_number": 5, "required_info": "panel", "w5h1": "what",
                             "understanding_type": "exact_extraction"}
    page = release / "Manga109_released_2023_12_07" / "images" / "That'sIzumiko" / "012.jpg"
    assert records[2]["image"]["path"] == "Manga109_released_2023_12_07/images/That'sIzumiko/012.jpg"
    assert records[2]["image"]["sha256"] == hashlib.sha256(page.read_bytes()).hexdigest()
    assert records[0]["image"]["sha256"] == records[1]["image"]["sha256"]  # two questions, one page


def test_mangavqa_without_manga109_is_text_only_and_a_missing_page_is_named(tmp_path):
    import datasets

    release = tmp_path / "rel"
    datasets.Dataset.from_dict(MANGAVQA_ROWS).to_parquet(str(release / "data" / "test-00000-of-00001.parquet"))
    _prepare("mangavqa", release, tmp_path / "data")
    assert all(r["image"] is None for r in _records(tmp_path / "data", "mangavqa", "test"))
    _manga109_pages(release)
    (release / "Manga109_released_2023_12_07" / "images" / "That'sIzumiko" / "012.jpg").unlink()
    with pytest.raises(DataError, match=r"row 2: page images/That'sIzumiko/012.jpg is absent"):
        _prepare("mangavqa", release, tmp_path / "data")


def _chat_line(answer: str, images: list) -> str:
    prompt = "<image>あなたは視覚的質問応答タスクの専門家です。\n回答はJSON形式で返してください:\n{\"answer\": \"<回答>\"}\n\n   "
    return json.dumps({"messages": [{"content": prompt, "role": "user"},
                                    {"content": repr({"answer": answer}), "role": "assistant"}],
                       "images": images}, ensure_ascii=False) + "\n"


def test_mangavqa_chat_export_with_numbers_for_images_is_refused_naming_file_and_line(tmp_path):
    export = tmp_path / "mangavqa_train.jsonl"
    export.write_text(_chat_line("ひなた荘", ["/home/x/Manga109/images/LoveHina_vol01/005.jpg"])
                      + _chat_line("傘", [3]), encoding="utf-8")
    with pytest.raises(DataError, match=r"mangavqa_train.jsonl: line 2: images\[0\] is 3, not an image path"):
        _prepare("mangavqa", export, tmp_path / "data")
    assert not (tmp_path / "data" / "mangavqa").exists()


def test_mangavqa_chat_export_with_paths_is_read_through_seed_jsonl(tmp_path):
    export = tmp_path / "mangavqa_test.jsonl"
    export.write_text(_chat_line("ひなた荘", ["/home/x/images/LoveHina_vol01/005.jpg"]), encoding="utf-8")
    _prepare("mangavqa", export, tmp_path / "data")
    (record,) = _records(tmp_path / "data", "mangavqa", "test")
    assert record["id"] == "mangavqa-test-000001" and record["source"]["dataset"] == "mangavqa"
    assert record["answers"] == ["ひなた荘"] and record["domain"] == "manga"
    emotion_export = tmp_path / "other" / "emoart_test.jsonl"
    emotion_export.parent.mkdir()
    emotion_export.write_text(json.dumps({"messages": [{"role": "user", "content": "<image>Which emotion?"},
                                                       {"role": "assistant", "content": "{'dominant_emotion': 'Calm'}"}],
                                          "images": []}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="not MangaVQA answers .*prepare it as seed-jsonl"):
        _prepare("mangavqa", emotion_export, tmp_path / "data")


# EMID -----------------------------------------------------------------------------------------------

EMID_IMAGES = {f"{label}_{k:04d}.jpg": label.title() if k % 2 else label  # tags in either case
               for label in ("amusement", "awe", "fear", "sadness") for k in range(6)}


def _emid_csv_release(root: Path) -> None:
    names = sorted(EMID_IMAGES)
    (root / "imageData").mkdir(parents=True)
    for k, name in enumerate(names):
        (root / "imageData" / name).write_bytes(jpeg(30 + k, 20))
    with open(root / "EMID_data.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Audio_Filename", "genre", "feeling", "emotion", "Image1_filename", "Image1_tag", "Image1_text",
                         "Image2_filename", "Image2_tag", "Image2_text", "Image3_filename", "Image3_tag", "Image3_text",
                         "is_original_clip"])
        for clip in range(len(names)):
            # Each clip shows three images; every image recurs under several clips.
            trio = [names[(clip + j) % len(names)] for j in range(3)]
            cells = [c for name in trio for c in (f"imageData/{name}", EMID_IMAGES[name], f"a photo {name[:-4]}")]
            writer.writerow([f"clip_{clip}.mp3", "pop", "calm", "Amusing", *cells, clip % 2 == 0])


def test_emid_csv_one_record_per_image_with_stable_splits(tmp_path):
    _emid_csv_release(tmp_path / "rel")
    manifest = _prepare("emid", tmp_path / "rel", tmp_path / "data")
    assert manifest["domain"] == "aux" and manifest["label_set"] == "emid" and manifest["non_commercial"]
    assert "CC BY-NC-SA 4.0" in manifest["licence"]
    by_split = {split: _records(tmp_path / "data", "emid", split) for split in manifest["splits"]}
    seen = {r["source"]["original_id"]: (split, r) for split, records in by_split.items() for r in records}
    assert set(seen) == set(EMID_IMAGES)  # each image once, whatever the number of clips showing it
    for name, (split, record) in seen.items():
        assert split == emid_split_of(name)
        assert record["emotions"] == [EMID_IMAGES[name].lower()] and record["domain"] == "aux"
        assert record["meta"]["pairs"] == 3 and record["meta"]["texts"] == [f"a photo {name[:-4]}"]
        assert record["image"]["sha256"] == hashlib.sha256((tmp_path / "rel" / "imageData" / name).read_bytes()).hexdigest()
    assert {"train", "test"} <= {split for split, _ in seen.values()}


def test_emid_unknown_tag_and_missing_images_are_named(tmp_path):
    _emid_csv_release(tmp_path / "rel")
    text = (tmp_path / "rel" / "EMID_data.csv").read_text(encoding="utf-8")
    (tmp_path / "rel" / "EMID_data.csv").write_text(text.replace("Awe", "Joy", 1), encoding="utf-8")
    with pytest.raises(DataError, match=r"EMID_data.csv: line \d+: Image\d: image emotion 'Joy' is not one of"):
        _prepare("emid", tmp_path / "rel", tmp_path / "data")
    (tmp_path / "rel" / "EMID_data.csv").write_text(text, encoding="utf-8")
    for path in (tmp_path / "rel" / "imageData").iterdir():
        path.unlink()
    with pytest.raises(DataError, match="names images but none is in the release; unpack imageData.zip"):
        _prepare("emid", tmp_path / "rel", tmp_path / "data")


def test_emid_yes_no_vqa_form_keeps_the_image_emotion_of_positive_pairs(tmp_path):
    import datasets

    pictures = {name: jpeg(40 + k, 30, (k * 20, 100, 50)) for k, name in enumerate(["a.jpg", "b.jpg", "c.jpg"])}
    rows = {"image": [], "same": [], "emotion": [], "question": [], "answer": [], "sampling_rate": []}
    for name, same, emotion in [("a.jpg", True, "excitement"), ("a.jpg", False, ""), ("b.jpg", True, "contentment"),
                                ("c.jpg", False, ""), ("b.jpg", False, "")]:
        rows["image"].append({"bytes": pictures[name], "path": name})
        rows["same"].append(same)
        rows["emotion"].append(emotion)
        rows["question"].append("Does this music match the emotion of the image? If so, which emotion?")
        rows["answer"].append(f"yes - {emotion}" if same else "no")
        rows["sampling_rate"].append(16000)
    features = datasets.Features({"image": datasets.Image(), "same": datasets.Value("bool"),
                                  "emotion": datasets.Value("string"), "question": datasets.Value("string"),
                                  "answer": datasets.Value("string"), "sampling_rate": datasets.Value("int32")})
    datasets.Dataset.from_dict(rows, features=features).to_parquet(str(tmp_path / "rel" / "data" / "train-00000-of-00001.parquet"))
    manifest = _prepare("emid", tmp_path / "rel", tmp_path / "data")
    records = [r for split in manifest["splits"] for r in _records(tmp_path / "data", "emid", split)]
    # c.jpg appears only in a negative pair: its own emotion is unknown, so it is left out.
    assert {r["source"]["original_id"]: r["emotions"] for r in records} == {"a.jpg": ["excitement"],
                                                                            "b.jpg": ["contentment"]}
    assert all(r["image"]["sha256"] == hashlib.sha256(pictures[r["source"]["original_id"]]).hexdigest() for r in records)
