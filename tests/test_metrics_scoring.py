"""Known answers, bad input and the `comic-emotion score` command."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import numpy as np
import pytest
import sklearn.metrics as skm
from comic_emotion.metrics.registry import METRICS
from comic_emotion.metrics.scoring import aggregate, sample_row, score_metric, score_rows

from comic_emotion.storage import write_json_atomic, write_split
from comic_emotion.taxonomy import label_set

LABELS = label_set("emorecom")


def record(i: int, emotions: list[str], **extra) -> dict:
    base = {"schema_version": "1.0", "id": f"s{i:04d}", "domain": "comic", "label_set": "emorecom",
            "source": {"dataset": "test", "licence": "CC0", "synthetic": True}, "emotions": emotions}
    return {**base, **extra}


def random_records(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        emotions = sorted(rng.sample(LABELS, rng.randint(1, 3)), key=LABELS.index)
        out.append(record(i, emotions, intensity=round(rng.random(), 2),
                          characters=[{"actor_id": "A", "name": "Akira", "aliases": ["Aki"]},
                                      {"actor_id": "B", "name": "Ben"}],
                          attributions=[{"actor_id": "A", "emotion": emotions[0]}],
                          explanations=["she smiles because she won the game"],
                          text_regions=[{"id": "t1", "text": "yes", "lang": "en", "speaker": "A",
                                         "emotions": [emotions[0]]},
                                        {"id": "t2", "text": "no", "lang": "en", "speaker": "B",
                                         "emotions": emotions[1:]}]))
    return out


def perfect_answer(rec: dict) -> str:
    """The record's own gold in the documented answer format (speakers by name and alias: ids are resolved)."""
    return json.dumps({"emotions": rec["emotions"], "confidence": {e: 1.0 for e in rec["emotions"]},
                       "intensity": rec["intensity"],
                       "utterances": [{"emotions": rec["emotions"][:1], "speaker": "akira"},
                                      {"emotions": rec["emotions"][1:], "speaker": "Ben"}],
                       "attributions": {"aki": [rec["emotions"][0]]}, "explanation": rec["explanations"][0]})


def test_perfect_predictions_score_one():
    recs = random_records(50)
    rows = [sample_row(r, perfect_answer(r), label_set="emorecom") for r in recs]
    for metric in ("macro_f1", "micro_f1", "weighted_f1", "accuracy", "exact_match", "roc_auc_macro",
                   "attribution_micro_f1", "attribution_sample_f1", "attribution_micro_precision",
                   "attribution_micro_recall", "speaker_accuracy", "speaker_ari", "intensity_ccc",
                   "intensity_pearson", "intensity_spearman", "rouge1", "rougeL", "strict_parse_rate",
                   "utt_macro_f1", "utt_micro_f1", "utt_accuracy", "confidence_coverage", "intensity_coverage",
                   "attributions_coverage", "explanation_coverage", "speakers_coverage"):
        assert aggregate(metric, rows) == pytest.approx(1.0), metric
    assert aggregate("bleu", rows) == pytest.approx(100.0)
    for metric in ("hamming_loss", "intensity_mae", "parse_failure_rate", "ece", "brier", "auc_fallback_rate",
                   "utt_slot_mismatch"):
        assert aggregate(metric, rows) == pytest.approx(0.0), metric


def test_all_wrong_predictions_score_zero():
    recs = [record(i, ["happy"]) for i in range(20)]
    rows = [sample_row(r, '{"emotions": ["sad"]}', label_set="emorecom") for r in recs]
    assert aggregate("macro_f1", rows) == 0.0
    assert aggregate("accuracy", rows) == 0.0
    assert aggregate("exact_match", rows) == 0.0


def test_majority_baseline_has_its_analytic_value():
    # 60 % happy, 40 % sad, single label; predicting "happy" always:
    # F1(happy) = 2*60/(2*60+40) = 0.75, F1(sad) = 0; the six labels occurring in neither gold nor
    # prediction are not averaged (scikit-learn's multiclass default) -> macro = 0.75 / 2; accuracy = 0.6.
    recs = [record(i, ["happy"] if i < 60 else ["sad"]) for i in range(100)]
    rows = [sample_row(r, "happy", label_set="emorecom") for r in recs]
    assert aggregate("macro_f1", rows) == pytest.approx(0.75 / 2)
    assert aggregate("macro_precision", rows) == pytest.approx(0.6 / 2)
    assert aggregate("macro_recall", rows) == pytest.approx(1.0 / 2)
    assert aggregate("accuracy", rows) == pytest.approx(0.6)
    # Constant scores: every class with both gold values has AUC 0.5; fallback flagged.
    assert aggregate("roc_auc_macro", rows) == pytest.approx(0.5)
    assert aggregate("auc_fallback_rate", rows) == 1.0
    assert score_metric("roc_auc_macro", rows).signature["single_class_skipped"] == "angry+disgust+fear+surprise+neutral+other"


def test_rows_equal_sklearn_through_the_whole_path():
    recs = random_records(120, seed=1)
    rng = random.Random(2)
    answers = [json.dumps({"emotions": rng.sample(LABELS, 2), "confidence": {l: rng.random() for l in LABELS}})
               for _ in recs]
    rows = [sample_row(r, a, label_set="emorecom") for r, a in zip(recs, answers)]
    y_true = np.array([[l in r["gold"] for l in LABELS] for r in rows])
    y_pred = np.array([[l in r["pred"] for l in LABELS] for r in rows])
    scores = np.array([r["scores"] for r in rows])
    assert aggregate("macro_f1", rows) == pytest.approx(skm.f1_score(y_true, y_pred, average="macro",
                                                                     zero_division=0), abs=1e-12)
    assert aggregate("weighted_f1", rows) == pytest.approx(skm.f1_score(y_true, y_pred, average="weighted",
                                                                        zero_division=0), abs=1e-12)
    assert aggregate("roc_auc_macro", rows) == pytest.approx(skm.roc_auc_score(y_true, scores, average="macro"),
                                                             abs=1e-12)
    brier = np.mean([(c - (l in r["gold"])) ** 2 for r in rows for l, c in r["confidences"].items()])
    assert aggregate("brier", rows) == pytest.approx(brier, abs=1e-12)


def test_unparseable_answer_counts_as_parse_failure():
    recs = [record(i, ["happy"]) for i in range(4)]
    rows = [sample_row(r, a, label_set="emorecom") for r, a in zip(recs, ["happy", "???", None, b"\xff"])]
    assert aggregate("parse_failure_rate", rows) == 0.75
    assert rows[1]["pred"] == [] and rows[1]["parse_status"] == "failed"


def test_undefined_metric_is_none_and_results_stay_valid_json():
    rows = [sample_row(record(i, ["happy"]), "happy", label_set="emorecom") for i in range(5)]
    assert aggregate("intensity_mae", rows) is None
    assert aggregate("intensity_mae_ci_low", rows) is None
    assert aggregate("bleu", rows) is None
    report = {name: score.to_dict() for name, score in score_rows(rows, n_resamples=50).items()}
    json.loads(json.dumps(report, allow_nan=False))


def test_scores_have_ci_and_signature():
    rows = [sample_row(r, perfect_answer(r) if i % 2 else "sad", label_set="emorecom")
            for i, r in enumerate(random_records(80))]
    score = score_metric("macro_f1", rows, seed=3, n_resamples=200)
    assert score.ci.low <= score.value <= score.ci.high
    assert {"label_set", "average", "parser", "bs", "seed", "version"} <= set(score.signature)
    assert "bs:200|seed:3" in score.signature_string()
    low, high = aggregate("macro_f1_ci_low", rows, n_resamples=200, seed=3), aggregate("macro_f1_ci_high", rows,
                                                                                         n_resamples=200, seed=3)
    assert (low, high) == (score.ci.low, score.ci.high)
    assert set(METRICS) <= set(score_rows(rows, n_resamples=20))


def test_metrics_are_invariant_to_sample_order():
    rows = [sample_row(r, perfect_answer(r) if i % 3 else "fear", label_set="emorecom")
            for i, r in enumerate(random_records(60))]
    shuffled = rows[::-1]
    for metric in METRICS:
        a, b = aggregate(metric, rows), aggregate(metric, shuffled)
        assert (a is None and b is None) or a == pytest.approx(b, abs=1e-12), metric


@pytest.mark.parametrize("bad, message", [
    (record(0, ["joy"]), "field 'emotions': gold label 'joy' is not in label set 'emorecom'"),
    (record(0, ["happy"], intensity=float("nan")), "field 'intensity': gold value nan"),
])
def test_bad_gold_raises_naming_sample_and_field(bad, message):
    with pytest.raises(ValueError, match=message):
        sample_row(bad, "happy", label_set="emorecom")


def test_mixed_label_sets_and_duplicate_ids_are_errors():
    row = sample_row(record(0, ["happy"]), "happy", label_set="emorecom")
    with pytest.raises(ValueError, match="duplicate sample id 's0000'"):
        score_metric("macro_f1", [row, row])
    other = {**row, "id": "x", "label_set": "emoart"}
    with pytest.raises(ValueError, match="mix label sets"):
        aggregate("macro_f1", [row, other])
    with pytest.raises(ValueError, match="no sample rows"):
        aggregate("macro_f1", [])


@pytest.fixture
def prepared(tmp_path, monkeypatch):
    recs = random_records(30)
    root = tmp_path / "data" / "comic"
    root.mkdir(parents=True)
    write_split(root / "test.parquet", [(r, None) for r in recs])
    write_json_atomic(root / "manifest.json", {"dataset": "comic", "label_set": "emorecom", "synthetic": True,
                                              "splits": {"test": {"n": len(recs)}}, "licence": "CC0"})
    monkeypatch.setenv("COMIC_EMOTION_DATA", str(tmp_path / "data"))
    return recs


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "comic_emotion", *args], capture_output=True, text=True,
                          env={**os.environ}, timeout=120, check=False)


def test_score_command_matches_library_and_writes_json(prepared, tmp_path):
    preds = tmp_path / "preds.jsonl"
    lines = [{"id": r["id"], "answer": perfect_answer(r)} if i % 2 else {"id": r["id"], "emotions": ["sad"]}
             for i, r in enumerate(prepared)]
    preds.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    out = tmp_path / "m.json"
    result = run_cli("score", "--task", "comic_emotion_comic", "--predictions", str(preds), "--out", str(out),
                     "--n-resamples", "100")
    assert result.returncode == 0, result.stderr
    assert "macro_f1" in result.stdout and "±" not in result.stderr
    report = json.loads(out.read_text())
    rows = [sample_row(r, perfect_answer(r) if i % 2 else {"emotions": ["sad"]}, label_set="emorecom")
            for i, r in enumerate(prepared)]
    assert report["metrics"]["macro_f1"]["value"] == pytest.approx(aggregate("macro_f1", rows), abs=1e-12)
    assert report["metrics"]["macro_f1"]["ci"]["low"] <= report["metrics"]["macro_f1"]["value"]


@pytest.mark.parametrize("lines, message", [
    (lambda recs: [{"id": "nope", "answer": "happy"}], "ids are not in comic_emotion_comic"),
    (lambda recs: [{"id": recs[0]["id"], "answer": "x"}] * 2, "line 2: duplicate id 's0000'"),
    (lambda recs: [{"id": r["id"], "answer": "x"} for r in recs[:-1]], "29 predictions for 30 samples"),
    (lambda recs: ["{not json"], "line 1: not valid JSON"),
])
def test_score_command_bad_input_exits_non_zero(prepared, tmp_path, lines, message):
    preds = tmp_path / "preds.jsonl"
    preds.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines(prepared)) + "\n")
    result = run_cli("score", "--task", "comic_emotion_comic", "--predictions", str(preds))
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_score_command_unknown_task(prepared, tmp_path):
    result = run_cli("score", "--task", "comic_emotion_nope", "--predictions", str(tmp_path / "x.jsonl"))
    assert result.returncode == 1 and "unknown task 'comic_emotion_nope'" in result.stderr


def test_speaker_clustering_scores_equal_sklearn():
    import sklearn.metrics as skm

    regions = [{"id": f"t{i}", "text": "x", "lang": "en", "speaker": s} for i, s in enumerate("AABBA")]
    chars = [{"actor_id": "A", "name": "Ann"}, {"actor_id": "B", "name": "Bo"}]
    rec = record(0, ["happy"], text_regions=regions, characters=chars)
    answers = ['{"emotions": ["happy"], "speakers": ["ann", "A", "x", "bo", "B"]}',
               '{"emotions": ["happy"], "speakers": ["A", "B"]}']
    rows = [sample_row({**rec, "id": f"c{i}"}, a, label_set="emorecom") for i, a in enumerate(answers)]
    gold = list("AABBA")
    preds = [["A", "A", "x", "B", "B"], ["A", "B", "\0" + "2", "\0" + "3", "\0" + "4"]]
    for metric, fn in (("speaker_ari", skm.adjusted_rand_score), ("speaker_ami", skm.adjusted_mutual_info_score),
                       ("speaker_v_measure", skm.v_measure_score)):
        want = np.mean([fn(gold, p) for p in preds])
        assert aggregate(metric, rows) == pytest.approx(want, abs=1e-12)


def test_task_without_emotion_labels_scores_text_and_leaves_classification_undefined():
    rec = {"id": "q1", "label_set": "none", "emotions": [], "question": "Why?", "answers": ["he is angry at his brother"],
           "explanations": ["he is angry at his brother"]}
    rows = [sample_row({**rec, "id": f"q{i}"}, "he is angry at his brother", label_set="none") for i in range(3)]
    assert aggregate("macro_f1", rows) is None and aggregate("roc_auc_macro", rows) is None
    assert aggregate("answer_rougeL", rows) == pytest.approx(1.0)
    # The question prompt asks for an answer, not an explanation: N/A, not a score.
    assert aggregate("rougeL", rows) is None
    assert score_metric("rougeL", rows).signature["undefined"] == "not requested"
    assert aggregate("parse_failure_rate", rows) == 0.0


def test_speaker_clustering_without_an_answer_scores_zero():
    regions = [{"id": f"t{i}", "text": "x", "lang": "en", "speaker": s} for i, s in enumerate("ABC")]
    rec = record(0, ["happy"], text_regions=regions)
    silent = sample_row(rec, '{"emotions": ["happy"]}', label_set="emorecom")
    # No answer ever names speakers: N/A ("never produced"), coverage 0.
    assert aggregate("speaker_ari", [silent]) is None and aggregate("speaker_accuracy", [silent]) is None
    assert score_metric("speaker_ari", [silent]).signature["undefined"] == "never produced"
    assert aggregate("speakers_coverage", [silent]) == 0.0
    # Some answers do: the silent one scores 0, as an empty answer.
    talking = sample_row({**rec, "id": "s0001"}, '{"emotions": ["happy"], "speakers": ["A", "B", "C"]}',
                         label_set="emorecom")
    assert aggregate("speaker_ari", [silent, talking]) == pytest.approx(0.5)
    assert aggregate("speaker_accuracy", [silent, talking]) == pytest.approx(0.5)
    assert aggregate("speakers_coverage", [silent, talking]) == pytest.approx(0.5)
