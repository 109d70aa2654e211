"""CPU reference models: artefacts, inputs that never include gold, bad artefacts, and the designed ordering
(fusion above each single modality) on the demo set through the real lmms-eval CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from comic_emotion.baselines.features import image_features, predict_speaker, text_of
from comic_emotion.baselines.models import (
    FORMAT_VERSION,
    ArtifactError,
    fit_dataset,
    load_artifact,
    save_artifact,
)
from PIL import Image
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from comic_emotion.taxonomy import label_set

LABELS = label_set("demo")
SUBTASKS = ("comic_emotion_comic", "comic_emotion_manga", "comic_emotion_art")


def record(i: int, emotion: str, text: str, *, lang: str = "en") -> dict:
    return {"schema_version": "1.0", "id": f"t-{i}", "domain": "comic", "label_set": "demo", "emotions": [emotion],
            "source": {"dataset": "comic", "licence": "CC0", "synthetic": True}, "image": {"width": 64, "height": 48},
            "intensity": 0.5, "text_regions": [{"id": "r1", "text": text, "lang": lang, "bbox": [40, 2, 20, 10]}],
            "characters": [{"actor_id": "A", "bbox": [2, 20, 20, 20]}, {"actor_id": "B", "bbox": [40, 30, 20, 16]}],
            "meta": {"hint": emotion}}


@pytest.fixture(scope="module")
def small_model():
    words = {"happy": "やったー 嬉しい", "sad": "悲しい しくしく", "angry": "怒った ふざけるな"}
    records = [record(i, e, words[e], lang="ja") for i in range(30) for e in words]
    images = [Image.new("RGB", (64, 48), (200, 40 * (i % 3), 40)) for i in range(len(records))]
    return fit_dataset("text", records, images, LABELS), records, images


def test_text_model_reads_japanese_text_channel_not_gold_or_meta(small_model):
    model, records, images = small_model
    answers = model.answers("text", records[:3], images[:3])
    assert [a["emotions"] for a in answers] == [r["emotions"] for r in records[:3]]
    tampered = [{**r, "emotions": ["neutral"], "meta": {"hint": "neutral"}} for r in records[:3]]
    assert model.answers("text", tampered, images[:3]) == answers
    assert set(answers[0]["confidence"]) == set(LABELS) and answers[0]["speaker"] is None
    assert text_of(records[0]) == "やったー 嬉しい"


def test_image_features_depend_on_pixels_and_boxes_only():
    rec = record(0, "happy", "hi")
    red, blue = Image.new("RGB", (64, 48), (220, 20, 20)), Image.new("RGB", (64, 48), (20, 20, 220))
    assert not np.allclose(image_features(red, rec), image_features(blue, rec))
    np.testing.assert_array_equal(image_features(red, rec), image_features(red, {**rec, "emotions": ["sad"], "meta": {}}))
    no_faces = {**rec, "characters": []}
    assert image_features(red, no_faces)[-1 - 4 - 7 - 128] == 0.0  # the has-face flag
    assert predict_speaker(rec) == "B"  # the face nearest the (top-right) bubble


def test_artifact_round_trip_and_refusals(small_model, tmp_path: Path):
    model, records, images = small_model
    directory = save_artifact(tmp_path / "text", "text", {"comic": model}, {"comic": {"split": "train"}})
    loaded = load_artifact(directory, kind="text").models["comic"]
    assert loaded.answers("text", records[:5], images[:5]) == model.answers("text", records[:5], images[:5])
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION and manifest["sklearn_version"]
    with pytest.raises(ArtifactError, match="of kind 'text', not 'image'"):
        load_artifact(directory, kind="image")
    (directory / "manifest.json").write_text(json.dumps({**manifest, "format_version": FORMAT_VERSION - 1}))
    with pytest.raises(ArtifactError) as error:
        load_artifact(directory, kind="text")
    assert str(error.value) == (f"{directory / 'manifest.json'}: artefact of an older format version ({FORMAT_VERSION - 1}); "
                                f"this release reads version {FORMAT_VERSION}: retrain with `comic-emotion baselines "
                                f"train text --split train --out {directory}`")
    (directory / "manifest.json").write_text(json.dumps(manifest))
    weights = directory / "comic.npz"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(ArtifactError, match="sha256 differs"):
        load_artifact(directory, kind="text")


def run(*command: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *command], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=os.environ.copy(), check=False)


def test_old_artifact_through_lmms_eval_writes_no_results(small_model, tmp_path: Path):
    model, _, _ = small_model
    directory = save_artifact(tmp_path / "old", "text", {"comic": model}, {})
    manifest = json.loads((directory / "manifest.json").read_text())
    (directory / "manifest.json").write_text(json.dumps({**manifest, "format_version": 0}))
    done = run("comic_emotion", "run", "--model", "comic_emotion_text", "--model_args", f"artifact={directory}",
               "--tasks", "comic_emotion_comic", "--output_path", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode != 0
    assert "retrain with `comic-emotion baselines train text" in done.stderr + done.stdout
    assert not list((tmp_path / "out").rglob("*_results.json"))


def macro_f1_from_log(output: Path, task: str, split_path: Path) -> float:
    """Macro-F1 recomputed with sklearn from the gold test split and the answers in the sample log."""
    log = sorted(output.rglob(f"*_samples_{task}.jsonl"))[-1]
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    gold_records = [json.loads(t) for t in pq.read_table(split_path, columns=["sample"]).column("sample").to_pylist()]
    answers = [e["filtered_resps"][0] if isinstance(e["filtered_resps"], list) else e["filtered_resps"] for e in entries]
    binarizer = MultiLabelBinarizer(classes=list(LABELS))
    gold = binarizer.fit_transform([gold_records[e["doc_id"]]["emotions"] for e in entries])
    pred = binarizer.transform([json.loads(a)["emotions"] for a in answers])
    # Macro over the labels occurring in gold or prediction (scikit-learn's multiclass default).
    occurring = [j for j in range(len(LABELS)) if gold[:, j].any() or pred[:, j].any()]
    return float(f1_score(gold, pred, average="macro", labels=occurring, zero_division=0))


@pytest.mark.integration
def test_fusion_beats_each_modality_on_demo_through_lmms_eval(demo_root: Path, tmp_path: Path):
    from comic_emotion.baselines.models import train

    done = run("comic_emotion", "baselines", "train", "concat", "--split", "train", "--out", str(tmp_path / "concat"),
               cwd=tmp_path)
    assert done.returncode == 0 and "saved concat artefact" in done.stdout, done.stderr[-2000:]
    for kind in ("text", "image"):  # the same library call as the command, without another start-up
        train(kind, ["comic", "manga", "art"], "train", tmp_path / kind)
    scores = {}
    for kind in ("text", "image", "concat", "late_fusion"):
        output = tmp_path / f"out-{kind}"
        if kind == "late_fusion":  # the bare command: no artefact, trained on the fly from the demo train split
            command = ["lmms_eval", "--model", f"comic_emotion_{kind}"]
        else:  # `comic-emotion run` is lmms-eval's own CLI in-process, with a faster start-up
            command = ["comic_emotion", "run", "--model", f"comic_emotion_{kind}", "--model_args",
                       f"artifact={tmp_path / kind}"]
        done = run(*command, "--tasks", "comic_emotion", "--log_samples", "--output_path", str(output), cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        results = json.loads(sorted(output.rglob("*_results.json"))[-1].read_text())
        scores[kind] = {}
        for task in SUBTASKS:
            entry = results["results"][task]
            assert results["configs"][task]["metadata"]["data_source"].startswith("demo")
            split_path = demo_root / task.rsplit("_", 1)[1] / "test.parquet"
            assert entry["macro_f1,none"] == pytest.approx(macro_f1_from_log(output, task, split_path), abs=1e-9)
            scores[kind][task] = entry["macro_f1,none"]
    print(json.dumps(scores, indent=1))
    for task in SUBTASKS:
        for fusion in ("concat", "late_fusion"):
            assert scores[fusion][task] > max(scores["text"][task], scores["image"][task]), (task, scores)
