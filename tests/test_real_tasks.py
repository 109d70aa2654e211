"""The real-data subtasks through the real `lmms-eval` CLI: prepared datasets read as real (no demo fallback).

Three corpora with a train split (the majority baseline learns its prior there) are prepared from
fixtures built by the tests; the results JSON must tie each prepared subtask to its manifest hash.
The label-free subtasks (MangaVQA, Manga109Dialog: only a test split, so a test-set prior) run on
prepared fixtures too, scored by their answer and speaker metrics.
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
from converter_fixtures import write_emocomics35_csv, write_emorecom_release, write_manga109
from sklearn.metrics import adjusted_rand_score, f1_score
from sklearn.preprocessing import MultiLabelBinarizer
from test_converters_vqa import MANGAVQA_ROWS, _emid_csv_release

from comic_emotion.converters import MODULES, get_converter
from comic_emotion.converters.base import prepare
from comic_emotion.storage import data_hash, read_records
from comic_emotion.taxonomy import label_set

pytestmark = pytest.mark.integration
TASKS = Path(__file__).resolve().parent.parent / "tasks"
PREPARED = {"emorecom": "comic_emotion_emorecom", "emocomics35": "comic_emotion_emocomics35",
            "emid": "comic_emotion_emid"}


class _TagLoader(yaml.SafeLoader):
    """Safe loader that reads lmms-eval's ``!function`` tags as plain strings."""


_TagLoader.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))


def _yaml(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_TagLoader)


def _task_files() -> dict[str, dict]:
    """Every real-data subtask YAML (dataset key -> parsed YAML): those naming an official metric."""
    out = {}
    for path in TASKS.glob("comic_emotion_*.yaml"):
        text = path.read_text(encoding="utf-8")
        if "official_metric:" in text:
            config = _yaml(path)
            out[config["metadata"]["dataset"]] = {**config, "file": path.name}
    return out


def test_one_subtask_per_real_dataset_except_openmantra_with_existing_splits_and_metrics():
    from comic_emotion.metrics.registry import METRICS

    files = _task_files()
    assert set(files) == set(MODULES) - {"openmantra"}
    group = _yaml(TASKS / "comic_emotion_real.yaml")
    assert set(group["task"]) == {f["task"] for f in files.values()}
    for dataset, config in files.items():
        assert config["task"] == "comic_emotion_" + dataset.replace("-", "_") and config["file"] == config["task"] + ".yaml"
        assert config["metadata"]["official_metric"] in METRICS
        # lmms-eval copies metadata into each request and reads its `split` key: ours must not use that name.
        assert "split" not in config["metadata"] and config["metadata"]["data_split"] in {"train", "test"}
    assert files["emorecom"]["metadata"]["official_metric"] == "roc_auc_macro"
    assert files["mangavqa"]["metadata"]["official_metric"] == "answer_rougeL"
    assert files["manga109-dialog"]["metadata"]["official_metric"] == "speaker_ari"


def _majority_macro_f1(train: list[dict], test: list[dict], labels: tuple[str, ...]) -> float:
    frequency = {label: sum(label in r["emotions"] for r in train) / len(train) for label in labels}
    predicted = [x for x in labels if frequency[x] >= 0.5] or [max(labels, key=lambda x: (frequency[x], -labels.index(x)))]
    binarizer = MultiLabelBinarizer(classes=list(labels))
    gold = binarizer.fit_transform([r["emotions"] for r in test])
    pred = np.tile(binarizer.transform([predicted]), (len(test), 1))
    # Macro over the labels occurring in gold or prediction (scikit-learn's multiclass default).
    occurring = [j for j in range(len(labels)) if gold[:, j].any() or pred[:, j].any()]
    return float(f1_score(gold, pred, average="macro", labels=occurring, zero_division=0))


def test_prepared_real_subtasks_read_their_prepared_data(tmp_path: Path):
    # Named one by one: comic_emotion_real would also run the unprepared ones, which fail (no demo fallback;
    # see test_headline_group.py).
    root = tmp_path / "data"
    write_emorecom_release(tmp_path / "emorecom", n_train=12, test_labels=False)
    write_emocomics35_csv(tmp_path / "emocomics35" / "emocomics35_pg_images_original.csv")
    _emid_csv_release(tmp_path / "emid")
    manifests = {name: prepare(get_converter(name), tmp_path / name, root, today="2026-01-01") for name in PREPARED}
    out = tmp_path / "out"
    command = [sys.executable, "-m", "lmms_eval", "--model", "comic_emotion_majority", "--tasks",
               ",".join(PREPARED.values()), "--log_samples", "--output_path", str(out)]
    completed = subprocess.run(command, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                               env={**os.environ, "COMIC_EMOTION_DATA": str(root)})
    found = sorted(out.rglob("*_results.json"))
    assert found, f"no results JSON; exit {completed.returncode}\n{completed.stdout[-2000:]}\n{completed.stderr[-3000:]}"
    results = json.loads(found[-1].read_text())
    assert set(PREPARED.values()) <= set(results["results"]), completed.stderr[-3000:]
    for task in PREPARED.values():
        metadata = results["configs"][task]["metadata"]
        dataset = metadata["dataset"]
        split = metadata["data_split"]
        assert metadata["data_source"] == "real" and metadata["data_hash"] == data_hash(manifests[dataset])
        assert results["n-samples"][task]["effective"] == manifests[dataset]["splits"][split]["rows"]
        train = list(read_records(root / dataset / "train.parquet"))
        test = list(read_records(root / dataset / f"{split}.parquet"))
        expected = _majority_macro_f1(train, test, label_set(manifests[dataset]["label_set"]))
        assert results["results"][task]["macro_f1,none"] == pytest.approx(expected, abs=1e-9)


def _run_lmms_eval(tmp_path: Path, tasks: str, root: Path) -> tuple[dict, Path]:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "lmms_eval", "--model", "comic_emotion_majority", "--tasks", tasks,
               "--log_samples", "--output_path", str(out)]
    completed = subprocess.run(command, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                               env={**os.environ, "COMIC_EMOTION_DATA": str(root)})
    found = sorted(out.rglob("*_results.json"))
    assert found, f"no results JSON; exit {completed.returncode}\n{completed.stdout[-2000:]}\n{completed.stderr[-3000:]}"
    assert "has no 'train' split; its prior is learnt from the evaluated split 'test'" in completed.stdout + completed.stderr
    return json.loads(found[-1].read_text()), out


def test_label_free_tasks_run_on_prepared_data_with_answer_and_speaker_metrics(tmp_path: Path):
    import datasets
    import sacrebleu
    from comic_emotion.metrics.text import LatinCjkTokenizer
    from rouge_score import rouge_scorer

    root = tmp_path / "data"
    datasets.Dataset.from_dict(MANGAVQA_ROWS).to_parquet(str(tmp_path / "mangavqa" / "data" / "test.parquet"))
    write_manga109(tmp_path / "manga109")
    manifests = {name: prepare(get_converter(name), tmp_path / source, root, today="2026-01-01")
                 for name, source in (("mangavqa", "mangavqa"), ("manga109-dialog", "manga109"))}
    results, out = _run_lmms_eval(tmp_path, "comic_emotion_mangavqa,comic_emotion_manga109_dialog", root)
    for task, dataset in (("comic_emotion_mangavqa", "mangavqa"), ("comic_emotion_manga109_dialog", "manga109-dialog")):
        metadata = results["configs"][task]["metadata"]
        assert metadata["data_source"] == "real" and metadata["data_hash"] == data_hash(manifests[dataset])
        assert results["n-samples"][task]["effective"] == manifests[dataset]["splits"]["test"]["rows"]
        assert results["results"][task]["macro_f1,none"] is None  # no emotion labels
        assert results["results"][task]["parse_failure_rate,none"] == 0.0
        assert results["results"][task]["strict_parse_rate,none"] == 1.0

    # MangaVQA: the test-set prior answers every question with the most frequent answer (ties: the first in order).
    vqa = results["results"]["comic_emotion_mangavqa"]
    refs = MANGAVQA_ROWS["answer"]
    prior = min(refs)
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=LatinCjkTokenizer())
    assert vqa["answer_rougeL,none"] == pytest.approx(np.mean([scorer.score(r, prior)["rougeL"].fmeasure for r in refs]))
    assert 0.0 < vqa["answer_rougeL,none"] < 1.0
    bleu = sacrebleu.corpus_bleu([prior] * len(refs), [refs], tokenize="char").score
    assert vqa["answer_bleu,none"] == pytest.approx(bleu, abs=1e-9)
    assert vqa["answer_exact_match,none"] == pytest.approx(1 / 3)
    assert vqa["answer_rougeL_ci_low,none"] <= vqa["answer_rougeL,none"] <= vqa["answer_rougeL_ci_high,none"]
    assert vqa["speaker_ari,none"] is None

    # Manga109Dialog: one speaker for every utterance, against the gold speakers in reading order (right to left).
    dialog = results["results"]["comic_emotion_manga109_dialog"]
    (record,) = read_records(root / "manga109-dialog" / "test.parquet")
    gold = [r["speaker"] for r in sorted(record["text_regions"], key=lambda r: -(r["bbox"][0] + r["bbox"][2]))]
    assert gold == ["00000003", "00000002"]
    assert dialog["speaker_ari,none"] == pytest.approx(adjusted_rand_score(gold, ["00000002"] * 2))
    assert dialog["answer_rougeL,none"] is None
    (log,) = out.rglob("*_samples_comic_emotion_manga109_dialog.jsonl")
    sample = json.loads(log.read_text(encoding="utf-8").splitlines()[0])
    answer = json.loads(sample["filtered_resps"] if isinstance(sample["filtered_resps"], str)
                        else sample["filtered_resps"][0])
    assert answer["prior_split"] == "test (no train split)" and answer["speakers"] == ["00000002", "00000002"]
    assert sample["macro_f1"]["clusters_gold"] == gold
