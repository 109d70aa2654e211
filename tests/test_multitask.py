"""The multitask CPU reference model (Manga-MMTL's M5): trained through the CLI on the demo train split, it beats
each single modality on every demo test split; its NumPy forward pass equals scikit-learn's; its speaker output
learns from the training speakers."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
from comic_emotion.baselines import multitask
from comic_emotion.baselines.models import _label_matrix, fit_dataset, load_artifact, training_rows
from comic_emotion.baselines.registry import MODEL_CLASSES
from PIL import Image
from sklearn.metrics import f1_score

from comic_emotion.cli.main import main
from comic_emotion.taxonomy import label_set

LABELS = label_set("demo")
DOMAINS = ("comic", "manga", "art")


@pytest.fixture(scope="module")
def artefact(demo_root: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("multitask") / "artefact"
    assert main(["baselines", "train", "comic_emotion_multitask", "--split", "train", "--out", str(out)]) == 0
    return load_artifact(out, kind="multitask")


def macro_f1(answers: list[dict], records: list[dict]) -> float:
    pred = np.array([[label in a["emotions"] for label in LABELS] for a in answers])
    return float(f1_score(_label_matrix(records, LABELS), pred, average="macro", zero_division=0))


def test_multitask_beats_text_and_image_on_each_demo_domain(artefact):
    scores = {}
    for domain in DOMAINS:
        train_records, train_images, _ = training_rows(domain, "train")
        records, images, _ = training_rows(domain, "test")
        scores[domain] = {"multitask": macro_f1(artefact.models[domain].answers("multitask", records, images), records)}
        for kind in ("text", "image"):
            model = fit_dataset(kind, train_records, train_images, LABELS)
            scores[domain][kind] = macro_f1(model.answers(kind, records, images), records)
    print(scores)
    for domain, row in scores.items():
        assert row["multitask"] > max(row["text"], row["image"]), (domain, scores)


def test_artifact_forward_pass_equals_sklearn_predict(artefact):
    records, images, _ = training_rows("comic", "train")
    model = artefact.models["comic"]
    x = model.inputs("multitask", records, images)["multitask"]
    intensity = np.array([r["intensity"] for r in records], dtype=float)
    target, layout = multitask.targets(records, _label_matrix(records, LABELS), intensity)
    network = multitask.fit(x, target)  # seeded: the same weights as the artefact's
    np.testing.assert_array_equal(model.arrays["mlp_layout"], layout)
    assert list(layout) == [len(LABELS), 1, multitask.SPEAKER_RANKS]  # the demo comic split has intensity and speakers
    for layer in (0, 1):
        np.testing.assert_array_equal(model.arrays[f"mlp_coef_{layer}"], network.coefs_[layer])
    np.testing.assert_allclose(multitask.forward(model.arrays, x), network.predict(x), rtol=1e-6, atol=1e-6)
    answers = model.answers("multitask", records[:20], images[:20])
    assert all(0.0 <= c <= 1.0 for a in answers for c in a["confidence"].values())
    assert all(0.0 <= a["intensity"] <= 1.0 for a in answers)
    tampered = [{**r, "emotions": ["neutral"], "intensity": 0.0, "meta": {}} for r in records[:20]]
    assert model.answers("multitask", tampered, images[:20]) == answers  # gold is never an input


def panel(i: int, emotion: str) -> dict:
    # The bubble sits over A's face, but B speaks: the nearest-face heuristic is wrong on every panel.
    return {"id": f"s-{i}", "label_set": "demo", "emotions": [emotion], "intensity": 0.2 + 0.6 * (emotion == "happy"),
            "text_regions": [{"id": "r", "text": "yay" if emotion == "happy" else "sigh", "lang": "en",
                              "bbox": [0, 0, 20, 10], "speaker": "B"}],
            "characters": [{"actor_id": "A", "bbox": [0, 12, 20, 20]}, {"actor_id": "B", "bbox": [40, 28, 20, 20]}]}


def test_speaker_output_learns_training_speakers_not_the_nearest_face():
    records = [panel(i, ("happy", "sad")[i % 2]) for i in range(24)]
    images = [Image.new("RGB", (64, 48), (200, 60 * (i % 2), 40)) for i in range(len(records))]
    model = fit_dataset("multitask", records, images, LABELS)
    answers = model.answers("multitask", records[:4], images[:4])
    assert [a["speaker"] for a in answers] == ["B"] * 4
    assert fit_dataset("concat", records, images, LABELS).answers("concat", records[:1], images[:1])[0]["speaker"] == "A"
    assert [a["emotions"] for a in answers] == [r["emotions"] for r in records[:4]]


def test_registry_names_the_multitask_lmms_eval_model():
    module, name = MODEL_CLASSES["comic_emotion_multitask"].rsplit(".", 1)
    assert getattr(importlib.import_module(module), name).kind == "multitask"
