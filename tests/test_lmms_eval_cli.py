"""The real `lmms-eval` CLI, in a subprocess, runs the comic_emotion group with no --include_path.

Assertions read the results JSON, because lmms-eval exits 0 even when a task fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from comic_emotion.taxonomy import label_set

pytestmark = pytest.mark.integration
SUBTASKS = ("comic_emotion_comic", "comic_emotion_manga", "comic_emotion_art")


def run_lmms_eval(*arguments: str, output: Path, cwd: Path) -> dict:
    """Run `python -m lmms_eval` (the same module the `lmms-eval` script runs) and load its results JSON."""
    command = [sys.executable, "-m", "lmms_eval", *arguments, "--output_path", str(output), "--log_samples"]
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, env=os.environ.copy())
    found = sorted(output.rglob("*_results.json"))
    assert found, f"no results JSON; exit {completed.returncode}\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    return json.loads(found[-1].read_text())


def records(path: Path) -> list[dict]:
    return [json.loads(text) for text in pq.read_table(path, columns=["sample"]).column("sample").to_pylist()]


def expected_majority_macro_f1(domain_dir: Path) -> float:
    """Macro-F1 of the label prior, computed here from the gold labels alone."""
    labels = list(label_set("demo"))
    train, test = records(domain_dir / "train.parquet"), records(domain_dir / "test.parquet")
    frequency = {label: sum(label in r["emotions"] for r in train) / len(train) for label in labels}
    predicted = [label for label in labels if frequency[label] >= 0.5] or [max(labels, key=lambda x: (frequency[x], -labels.index(x)))]
    binarizer = MultiLabelBinarizer(classes=labels)
    gold = binarizer.fit_transform([r["emotions"] for r in test])
    prediction = np.tile(binarizer.transform([predicted]), (len(test), 1))
    # Macro over the labels occurring in gold or prediction (scikit-learn's multiclass default).
    occurring = [j for j in range(len(labels)) if gold[:, j].any() or prediction[:, j].any()]
    return float(f1_score(gold, prediction, average="macro", labels=occurring, zero_division=0))


def test_bare_command_scores_majority_baseline_on_demo(demo_root: Path, tmp_path: Path):
    results = run_lmms_eval("--model", "comic_emotion_majority", "--tasks", "comic_emotion", output=tmp_path / "out", cwd=tmp_path)
    for task in SUBTASKS:
        entry = results["results"][task]
        metadata = results["configs"][task]["metadata"]
        assert metadata["data_source"].startswith("demo"), metadata
        assert 0.0 <= entry["macro_f1,none"] <= 1.0 and 0.0 <= entry["accuracy,none"] <= 1.0
        domain = task.rsplit("_", 1)[1]
        assert entry["macro_f1,none"] == pytest.approx(expected_majority_macro_f1(demo_root / domain), abs=1e-9)
        samples = list((tmp_path / "out").rglob(f"*_samples_{task}.jsonl"))
        assert samples, f"no sample log for {task}"
    assert "comic_emotion" in results["results"], "group aggregate missing"


def test_tiny_qwen2_vl_runs_through_lmms_eval_qwen2_vl_class(tmp_path: Path, demo_root: Path):
    from comic_emotion.testing.tiny_vlm import build_tiny_qwen2_vl

    model_dir = build_tiny_qwen2_vl(tmp_path / "tiny-qwen2-vl", seed=0)  # random weights: answers are noise
    results = run_lmms_eval(
        "--model", "qwen2_vl", "--model_args", f"pretrained={model_dir},device=cpu,device_map=cpu",
        "--tasks", "comic_emotion", "--limit", "2", "--batch_size", "1", "--gen_kwargs", "max_new_tokens=24",
        output=tmp_path / "out", cwd=tmp_path,
    )
    for task in SUBTASKS:
        entry = results["results"][task]
        assert results["configs"][task]["metadata"]["data_source"].startswith("demo")
        assert 0.0 <= entry["macro_f1,none"] <= 1.0
        # a random model's answers do not parse: visible as a parse-failure rate, not as a crash
        if "parse_failure_rate,none" in entry:
            assert 0.0 <= entry["parse_failure_rate,none"] <= 1.0
