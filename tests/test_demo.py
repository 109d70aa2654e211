"""The synthetic demo set: determinism, valid records and images, and its ceiling structure."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from comic_emotion import storage
from comic_emotion.data import DEMO_SEED
from comic_emotion.demo import GENERATOR_VERSION
from comic_emotion.demo.build import DOMAINS, build_demo
from comic_emotion.schema import SCHEMA_VERSION, validate_samples
from comic_emotion.taxonomy import LABEL_SETS

FILES = [f"{d}/{name}" for d in DOMAINS for name in ("train.parquet", "test.parquet", "manifest.json")]


def _bytes(root: Path) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in FILES}


def _split(root: Path, domain: str, split: str) -> tuple[list[dict], list[bytes]]:
    table = pq.read_table(root / domain / f"{split}.parquet")
    records = [json.loads(text) for text in table.column("sample").to_pylist()]
    return records, [cell["bytes"] for cell in table.column("image").to_pylist()]


def test_same_seed_gives_byte_identical_files_across_processes(tmp_path):
    build_demo(tmp_path / "a", seed=5, n_train=4, n_test=3)
    # A second interpreter with another hash salt: nothing may depend on Python's hash().
    code = "import sys, pathlib; from comic_emotion.demo.build import build_demo; " \
           "build_demo(pathlib.Path(sys.argv[1]), seed=5, n_train=4, n_test=3)"
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "b")], check=True,
                   env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    assert (tmp_path / "a" / "complete").read_bytes() == b""


def test_different_seed_gives_different_samples(tmp_path):
    build_demo(tmp_path / "a", seed=5, n_train=4, n_test=3)
    build_demo(tmp_path / "b", seed=6, n_train=4, n_test=3)
    for domain in DOMAINS:
        a, _ = _split(tmp_path / "a", domain, "train")
        b, _ = _split(tmp_path / "b", domain, "train")
        assert [r["id"] for r in a] == [r["id"] for r in b]
        assert [r["image"]["sha256"] for r in a] != [r["image"]["sha256"] for r in b]


def test_counts_are_a_prefix_property(tmp_path):
    """Sample i depends on (seed, domain, i) only: a smaller build is a prefix of a larger one."""
    build_demo(tmp_path / "small", seed=3, n_train=3, n_test=0, domains=("art",))
    build_demo(tmp_path / "large", seed=3, n_train=5, n_test=0, domains=("art",))
    small, _ = _split(tmp_path / "small", "art", "train")
    large, _ = _split(tmp_path / "large", "art", "train")
    assert small == large[:3]


def test_bad_arguments_leave_the_previous_copy(tmp_path):
    root = tmp_path / "demo"
    build_demo(root, seed=1, n_train=2, n_test=1, domains=("comic",))
    before = (root / "comic" / "train.parquet").read_bytes()
    with pytest.raises(ValueError, match="unknown demo domains \\['poster'\\]"):
        build_demo(root, seed=2, n_train=2, n_test=1, domains=("comic", "poster"))
    assert (root / "comic" / "train.parquet").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]  # no staging directory left behind


@pytest.mark.parametrize("domain", DOMAINS)
def test_records_validate_and_images_match_their_description(demo_root, domain):
    manifest = storage.read_manifest(demo_root / domain)
    assert manifest["converter"] == {"name": "comic_emotion.demo", "version": GENERATOR_VERSION, "seed": DEMO_SEED}
    assert (manifest["dataset"], manifest["label_set"], manifest["synthetic"], manifest["schema_version"]) == \
        (f"demo-{domain}", "demo", True, SCHEMA_VERSION)
    ids = []
    for split, rows in (("train", 200), ("test", 100)):
        path = demo_root / domain / f"{split}.parquet"
        assert manifest["splits"][split] == {"rows": rows, "sha256": storage.sha256_file(path)}
        records, images = _split(demo_root, domain, split)
        assert validate_samples(records) == rows
        ids += [r["id"] for r in records]
        for record, png in zip(records, images):
            assert record["source"]["split"] == split and record["domain"] == domain
            assert record["image"]["sha256"] == hashlib.sha256(png).hexdigest()
            with Image.open(io.BytesIO(png)) as image:
                image.load()
                assert image.size == (record["image"]["width"], record["image"]["height"])
                assert image.mode == ("L" if domain == "manga" else "RGB")
    assert len(set(ids)) == len(ids) == 300
    assert ids[0] == f"demo-{domain}-000000"


@pytest.mark.parametrize("domain", ("comic", "manga"))
def test_panels_carry_parallel_text_speakers_and_gold_union(demo_root, domain):
    records, _ = _split(demo_root, domain, "train")
    lang, other = ("en", "ja") if domain == "comic" else ("ja", "en")
    for record in records:
        actors = [c["actor_id"] for c in record["characters"]]
        assert actors == ["A", "B", "C"][:len(actors)]
        assert record["attributions"] == [{"actor_id": c["actor_id"], "emotion": c["emotions"][0]}
                                          for c in record["characters"]]
        gold = {e for c in record["characters"] for e in c["emotions"]}
        for region in record["text_regions"]:
            assert region["lang"] == lang and region["translations"][other].strip()
            assert region["speaker"] in actors or (region["speaker"] is None and record["meta"]["case"] == "off_panel")
            gold |= set(region["emotions"])
        assert set(record["emotions"]) == gold
        assert record["intensity"] == max(c["intensity"] for c in record["characters"] + record["text_regions"])


@pytest.mark.parametrize("domain", DOMAINS)
def test_neither_channel_alone_reaches_the_ceiling(demo_root, domain):
    records, _ = _split(demo_root, domain, "test")
    labels = list(LABEL_SETS["demo"])
    binarizer = MultiLabelBinarizer(classes=labels).fit([labels])
    gold = binarizer.transform([r["emotions"] for r in records])

    def macro_f1(predicted):
        return f1_score(gold, binarizer.transform(predicted), average="macro", zero_division=0)

    assert macro_f1([r["emotions"] for r in records]) == 1.0
    text_only = macro_f1([r["meta"]["text_emotions"] for r in records])
    image_only = macro_f1([r["meta"]["image_emotions"] for r in records])
    assert 0.6 < text_only < 1.0 and 0.6 < image_only < 1.0, (text_only, image_only)


@pytest.mark.parametrize("domain", DOMAINS)
def test_gold_modality_names_the_channel_that_shows_the_gold(demo_root, domain):
    records = _split(demo_root, domain, "train")[0] + _split(demo_root, domain, "test")[0]
    hard = 0
    for record in records:
        meta, gold = record["meta"], record["emotions"]
        text_ok, image_ok = meta["text_emotions"] == gold, meta["image_emotions"] == gold
        assert meta["gold_modality"] == ("both" if text_ok and image_ok else "text" if text_ok else "image")
        assert text_ok or image_ok
        if meta["conflict"]:  # the channels disagree, and exactly one of them is right
            assert text_ok != image_ok and meta["text_emotions"] and meta["image_emotions"]
        hard += meta["gold_modality"] != "both"
    assert 0.2 <= hard / len(records) <= 0.4


def test_art_titles_and_explanations(demo_root):
    records, _ = _split(demo_root, "art", "train")
    cases = {r["meta"]["case"] for r in records}
    assert cases == {"plain", "untitled", "misleading_title", "decisive_title"}
    for record in records:
        assert len(record["emotions"]) == 1 and 1 <= len(record["explanations"]) <= 2
        titles = record["text_regions"]
        assert (not titles) == (record["meta"]["case"] == "untitled")
        for title in titles:
            assert title["kind"] == "title" and title["lang"] == "en" and title["translations"]["ja"]
            assert title["emotions"] == record["meta"]["text_emotions"]


@pytest.mark.parametrize("domain", ("comic", "manga"))
def test_balloons_overlap_neither_each_other_nor_faces(demo_root, domain):
    def apart(a, b):
        return a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]

    for record in _split(demo_root, domain, "train")[0] + _split(demo_root, domain, "test")[0]:
        boxes = [r["bbox"] for r in record["text_regions"]] + [c["bbox"] for c in record["characters"]]
        assert all(apart(a, b) for i, a in enumerate(boxes) for b in boxes[:i]), record["id"]
