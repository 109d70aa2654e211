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
        "--tasks", "comic_emotion", "--limit", str(TINY_LIMIT), "--batch_size", "1", "--gen_kwargs", "max_new_tokens=24",
        output=tmp_path / "out", cwd=tmp_path,
    )
    assert_results_structure(results, demo_root, limit=TINY_LIMIT)
    statuses = assert_parser_saw_every_answer(results, tmp_path / "out", demo_root, limit=TINY_LIMIT)
    # a random model's answers mostly do not parse: visible as parse failures, not as a crash
    assert "failed" in statuses


TINY_LIMIT = 2
PROVENANCE_KEYS = ("data_source", "data_synthetic", "data_dataset", "data_split", "data_hash", "data_licence",
                   "data_non_commercial", "data_path", "lmms_eval_package", "comic_emotion_version")


def assert_results_structure(results: dict, demo_root: Path, *, limit: int) -> None:
    """The lmms-eval results JSON of a demo run of the comic_emotion group, limited to ``limit`` docs per subtask."""
    from importlib.metadata import version

    from comic_emotion.metrics.lmms import CI_METRICS, NA_REASONS_KEY, metric_keys
    from comic_emotion.storage import data_hash, read_manifest

    assert {"results", "configs", "versions", "n-samples", "higher_is_better", "group_subtasks", "config"} <= set(results)
    assert results["group_subtasks"] == {"comic_emotion": list(SUBTASKS)}
    assert set(results["results"]) == {"comic_emotion", *SUBTASKS}
    assert results["config"]["limit"] == limit
    for task in SUBTASKS:
        domain = task.rsplit("_", 1)[1]
        manifest = read_manifest(demo_root / domain)
        metadata = results["configs"][task]["metadata"]
        assert set(PROVENANCE_KEYS) <= set(metadata), sorted(set(PROVENANCE_KEYS) - set(metadata))
        assert (metadata["data_synthetic"], metadata["data_dataset"], metadata["data_split"]) == (True, f"demo-{domain}", "test")
        assert metadata["data_source"].startswith("demo")
        assert metadata["data_hash"] == data_hash(manifest)
        assert metadata["data_path"] == str(demo_root / domain / "test.parquet")
        assert (metadata["lmms_eval_package"], metadata["comic_emotion_version"]) == \
            (version("lmms-eval"), version("comic-emotion-bench"))
        assert results["versions"][task] == metadata["version"]
        assert results["n-samples"][task] == {"original": manifest["splits"]["test"]["rows"], "effective": limit}
        entry = results["results"][task]
        expected = {f"{key}{suffix},none" for key in metric_keys() for suffix in ("", "_stderr")}
        assert not expected - set(entry), (task, sorted(expected - set(entry)))
        for key in metric_keys():
            if key == NA_REASONS_KEY:
                assert isinstance(entry[f"{key},none"], dict)
                continue
            value = entry[f"{key},none"]
            assert value is None or isinstance(value, float), (task, key, value)
            # lmms-eval computes stderr only for its own aggregations; ours reports the bootstrap CI instead
            assert entry[f"{key}_stderr,none"] == "N/A", (task, key)
            assert results["higher_is_better"][task][key] is not None
        for metric in CI_METRICS:
            value, low, high = (entry[f"{metric}{suffix},none"] for suffix in ("", "_ci_low", "_ci_high"))
            if value is None:
                assert low is None and high is None, (task, metric)
            elif low is not None:
                assert low <= high, (task, metric, low, high)
        assert entry["macro_f1_ci_low,none"] is not None, "macro_f1 is defined on every demo subtask: so is its CI"
    defined = [results["results"][t]["macro_f1,none"] for t in SUBTASKS]
    assert results["results"]["comic_emotion"]["macro_f1,none"] == pytest.approx(sum(defined) / len(defined))


def assert_parser_saw_every_answer(results: dict, output: Path, demo_root: Path, *, limit: int) -> set[str]:
    """Every logged answer has a parse outcome (the parser's, recomputed here) and the rates count them."""
    from comic_emotion.metrics.parsing import STATUSES, parse_answer
    from comic_emotion.taxonomy import label_set

    seen: set[str] = set()
    for task in SUBTASKS:
        domain = task.rsplit("_", 1)[1]
        (log,) = output.rglob(f"*_samples_{task}.jsonl")
        rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        assert sorted(row["doc_id"] for row in rows) == list(range(limit))
        parsing = [row["parse_failure_rate"] for row in rows]
        parsing = [json.loads(p) if isinstance(p, str) else p for p in parsing]
        # lmms-eval runs the first `limit` docs of the split, each once
        assert [p["id"] for p in parsing] == [r["id"] for r in records(demo_root / domain / "test.parquet")[:limit]]
        statuses = [p["parse_status"] for p in parsing]
        assert set(statuses) <= set(STATUSES), statuses
        for row, status in zip(rows, statuses):  # the logged outcome is the parser's on the logged answer
            assert parse_answer(row["filtered_resps"], label_set("demo")).status == status, row["filtered_resps"]
        failed = statuses.count("failed")
        parsed = sum(statuses.count(s) for s in ("strict", "lenient", "repaired"))
        assert parsed + failed == len(rows) == results["n-samples"][task]["effective"]
        entry = results["results"][task]
        assert entry["parse_failure_rate,none"] == pytest.approx(failed / len(rows))
        for status in ("strict", "lenient", "repaired"):
            assert entry[f"{status}_parse_rate,none"] == pytest.approx(statuses.count(status) / len(rows)), status
        seen |= set(statuses)
    return seen
