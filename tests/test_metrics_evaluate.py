"""The HF evaluate module loads from its local path and agrees with sklearn."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")

import pytest
import sklearn.metrics as skm
from comic_emotion.metrics.parsing import PARSER_VERSION
from sklearn.preprocessing import MultiLabelBinarizer

MODULE = Path(__file__).resolve().parents[1] / "metrics" / "evaluate_module" / "comic_emotion_f1.py"


def test_evaluate_module_matches_sklearn_and_reports_parse_failures():
    evaluate = pytest.importorskip("evaluate")
    metric = evaluate.load(str(MODULE))
    predictions = ['{"emotions": ["happy"]}', "She looks furious and sad.", "???", "```json\n{\"emotions\": [\"fear\"]}```"]
    references = [["happy"], ["angry"], ["fear"], ["fear", "surprise"]]
    result = metric.compute(predictions=predictions, references=references, label_set="emorecom", average="micro")
    labels = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "other"]
    binarize = MultiLabelBinarizer(classes=labels).fit([labels])
    pred_labels = [["happy"], ["angry", "sad"], [], ["fear"]]
    want = skm.f1_score(binarize.transform(references), binarize.transform(pred_labels), average="micro")
    assert result["f1"] == pytest.approx(want, abs=1e-12)
    assert result["parse_failure_rate"] == 0.25
    assert f"parser:{PARSER_VERSION}" in result["signature"]
