"""The comic_emotion_real group through the real `lmms-eval` CLI: prepared datasets read as real, the rest as demo.

Three corpora with a train split (the majority baseline learns its prior there) are prepared from
fixtures built by the tests; the results JSON must tie each prepared subtask to its manifest hash.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from converter_fixtures import write_emocomics35_csv, write_emorecom_release
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer
from test_converters_vqa import _emid_csv_release

from comic_emotion.converters import MODULES, get_converter
from comic_emotion.converters.base import prepare
from comic_emotion.storage import data_hash, read_records
from comic_emotion.taxonomy import label_set

pytestmark = pytest.mark.integration
TASKS = Path(__file__).resolve().parent.parent / "tasks"
PREPARED = {"emorecom": "comic_emotion_emorecom", "emocomics35": "comic_emotion_emocomics35",
            "emid": "comic_emotion_emid"}


def _task_files() -> dict[str, dict]:
    """Every real-data subtask YAML (dataset key -> parsed YAML): those naming an official metric."""
    out = {}
    for path in TASKS.glob("comic_emotion_*.yaml"):
        text = path.read_text(encoding="utf-8")
        if "official_metric:" in text:
            config = yaml.safe_load(text)
            out[config["metadata"]["dataset"]] = {**config, "file": path.name}
    return out


def test_one_subtask_per_real_dataset_except_openmantra_with_existing_splits_and_metrics():
    from comic_emotion.metrics.scoring import METRICS

    files = _task_files()
    assert set(files) == set(MODULES) - {"openmantra"}
    group = yaml.safe_load((TASKS / "comic_emotion_real.yaml").read_text(encoding="utf-8"))
    assert set(group["task"]) <= {f["task"] for f in files.values()}
    for dataset, config in files.items():
        assert config["task"] == "comic_emotion_" + dataset.replace("-", "_") and config["file"] == config["task"] + ".yaml"
        assert config["metadata"]["official_metric"] in METRICS
        # lmms-eval copies metadata into each request and reads its `split` key: ours must not use that name.
        assert "split" not in config["metadata"] and config["metadata"]["data_split"] in {"train", "test"}
    assert files["emorecom"]["metadata"]["official_metric"] == "roc_auc_macro"


def _majority_macro_f1(train: list[dict], test: list[dict], labels: tuple[str, ...]) -> float:
    frequency = {label: sum(label in r["emotions"] for r in train) / len(train) for label in labels}
    predicted = [x for x in labels if frequency[x] >= 0.5] or [max(labels, key=lambda x: (frequency[x], -labels.index(x)))]
    binarizer = MultiLabelBinarizer(classes=list(labels))
    gold = binarizer.fit_transform([r["emotions"] for r in test])
    return float(f1_score(gold, np.tile(binarizer.transform([predicted]), (len(test), 1)), average="macro",
                          zero_division=0))


def test_real_group_reads_prepared_datasets_as_real_and_others_as_demo(tmp_path: Path):
    root = tmp_path / "data"
    write_emorecom_release(tmp_path / "emorecom", n_train=12, test_labels=False)
    write_emocomics35_csv(tmp_path / "emocomics35" / "emocomics35_pg_images_original.csv")
    _emid_csv_release(tmp_path / "emid")
    manifests = {name: prepare(get_converter(name), tmp_path / name, root, today="2026-01-01") for name in PREPARED}
    out = tmp_path / "out"
    command = [sys.executable, "-m", "lmms_eval", "--model", "comic_emotion_majority", "--tasks", "comic_emotion_real",
               "--log_samples", "--output_path", str(out)]
    completed = subprocess.run(command, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                               env={**os.environ, "COMIC_EMOTION_DATA": str(root)})
    found = sorted(out.rglob("*_results.json"))
    assert found, f"no results JSON; exit {completed.returncode}\n{completed.stdout[-2000:]}\n{completed.stderr[-3000:]}"
    results = json.loads(found[-1].read_text())
    group = yaml.safe_load((TASKS / "comic_emotion_real.yaml").read_text(encoding="utf-8"))["task"]
    assert set(group) <= set(results["results"]), completed.stderr[-3000:]
    for task in group:
        metadata = results["configs"][task]["metadata"]
        dataset = metadata["dataset"]
        if dataset in PREPARED:
            split = metadata["split"]
            assert metadata["data_source"] == "real" and metadata["data_hash"] == data_hash(manifests[dataset])
            assert results["n-samples"][task]["effective"] == manifests[dataset]["splits"][split]["rows"]
            train = list(read_records(root / dataset / "train.parquet"))
            test = list(read_records(root / dataset / f"{split}.parquet"))
            expected = _majority_macro_f1(train, test, label_set(manifests[dataset]["label_set"]))
            assert results["results"][task]["macro_f1,none"] == pytest.approx(expected, abs=1e-9)
        else:
            assert metadata["data_source"].startswith("demo"), (task, metadata)
