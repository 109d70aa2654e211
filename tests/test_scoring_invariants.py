"""Protocol invariants of the scoring (issue #15).

- the oracle (each record's own gold in the documented answer format) scores the best value on
  every defined metric, for the demo tasks and for tasks built from every converter's test data
  (format-faithful fixtures written by the tests), with ``utt_slot_mismatch`` 0;
- one page rule: gold-as-prediction of EmoComics35 pages, per utterance, gives the page gold;
- a label-permuting answer scores 1.0 at page level and < 1.0 per utterance; a missing slot counts;
- macro-F1 equals scikit-learn's on random multilabel data with absent labels, with and without a limit;
- a field never produced or never asked is N/A with its reason, never 0.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import sklearn.metrics as skm
from comic_emotion.metrics.oracle import oracle_answer, oracle_violations
from comic_emotion.metrics.scoring import aggregate, sample_row, score_metric, score_rows
from converter_fixtures import (
    write_artemis_release,
    write_emoart_release,
    write_emocomics35_csv,
    write_emorecom_release,
    write_manga109,
    write_seed_jsonl,
)

from comic_emotion.converters import MODULES, get_converter
from comic_emotion.converters.base import prepare
from comic_emotion.prompts import build_prompt, requested_fields
from comic_emotion.storage import read_records
from comic_emotion.taxonomy import label_set, page_emotions

EMOTION_HEADLINE = ("macro_f1", "micro_f1", "accuracy", "exact_match")
UTTERANCE_HEADLINE = ("utt_macro_f1", "utt_micro_f1", "utt_accuracy", "utt_slot_mismatch")


def _mangavqa_release(root: Path) -> None:
    import datasets
    from test_converters_vqa import MANGAVQA_ROWS

    datasets.Dataset.from_dict(MANGAVQA_ROWS).to_parquet(str(root / "MangaVQA" / "data" / "test-00000-of-00001.parquet"))


def _seed_release(root: Path) -> None:
    pages = write_emocomics35_csv(root / "csv" / "emocomics35_pg_images_original.csv")
    root.joinpath("csv", "emocomics35_pg_images_original.csv").unlink()
    write_seed_jsonl(root / "llama3_vision_ds_test_lfc.jsonl", pages)


def _emid_release(root: Path) -> None:
    from test_converters_vqa import _emid_csv_release

    _emid_csv_release(root)


# Every converter with a task (OpenMantra has none: it feeds the translation perturbation).
RELEASES = {
    "emorecom": lambda root: write_emorecom_release(root, n_train=6, n_test=4),
    "emocomics35": lambda root: write_emocomics35_csv(root / "emocomics35_pg_images_original.csv"),
    "seed-jsonl": _seed_release,
    "emoart": write_emoart_release,
    "artemis": write_artemis_release,
    "manga109-emotion": write_manga109,
    "manga109-dialog": write_manga109,
    "emid": _emid_release,
    "mangavqa": _mangavqa_release,
}


def test_every_converter_with_a_task_has_an_oracle_release():
    assert set(RELEASES) == set(MODULES) - {"openmantra"}


def _oracle_scores(records: list[dict]) -> dict:
    name = records[0]["label_set"]
    rows = [sample_row(r, oracle_answer(r), label_set=name) for r in records]
    return score_rows(rows, n_resamples=20)


def _check_oracle(records: list[dict], where: str) -> dict:
    scores = _oracle_scores(records)
    emotion = bool(label_set(records[0]["label_set"]))
    utterances = any("utterances" in requested_fields(r) for r in records)
    required = (EMOTION_HEADLINE if emotion else ()) + (UTTERANCE_HEADLINE if utterances else ())
    assert oracle_violations(scores, required=required) == {}, where
    if utterances:
        assert scores["utt_slot_mismatch"].value == 0.0
    return scores


@pytest.mark.parametrize("dataset", sorted(RELEASES))
def test_oracle_scores_best_on_every_converter_task(tmp_path: Path, dataset: str):
    release = tmp_path / "release"
    release.mkdir()
    RELEASES[dataset](release)
    manifest = prepare(get_converter(dataset), release, tmp_path / "data", today="2026-01-01")
    checked = 0
    for split in manifest["splits"]:
        records = list(read_records(tmp_path / "data" / dataset / f"{split}.parquet"))
        if records:
            _check_oracle(records, f"{dataset}/{split}")
            checked += 1
    assert checked


def test_oracle_scores_best_on_the_demo_tasks(demo_root: Path):
    paths = sorted(demo_root.rglob("test.parquet"))
    assert paths
    for path in paths:
        records = list(read_records(path))
        scores = _check_oracle(records, str(path))
        # The demo asks for everything it has gold for: utterances with speakers, attributions, explanations.
        for metric in ("utt_macro_f1", "speaker_accuracy", "attribution_micro_precision", "bleu", "intensity_mae"):
            if path.parent.name != "art" or metric in ("bleu", "intensity_mae"):
                assert scores[metric].value is not None, (path, metric)


def test_gold_as_prediction_on_emocomics35_pages_is_the_page_gold(tmp_path: Path):
    # The seed's target for a page (one label list per utterance, Neutral included) is a perfect answer.
    write_emocomics35_csv(tmp_path / "r" / "emocomics35_pg_images_original.csv")
    prepare(get_converter("emocomics35"), tmp_path / "r", tmp_path / "data", today="2026-01-01")
    labels = label_set("emocomics35")
    for split in ("train", "test"):
        records = list(read_records(tmp_path / "data" / "emocomics35" / f"{split}.parquet"))
        answers = [repr({"emotions": [r["emotions"] for r in rec["text_regions"]]}) for rec in records]
        rows = [sample_row(rec, a, label_set="emocomics35") for rec, a in zip(records, answers)]
        assert [row["pred"] for row in rows] == [row["gold"] for row in rows]
        assert aggregate("macro_f1", rows) == 1.0 and aggregate("utt_macro_f1", rows) == 1.0
        for rec in records:
            assert rec["emotions"] == page_emotions([r["emotions"] for r in rec["text_regions"]], labels)


def _page(i: int, utterance_labels: list[list[str]]) -> dict:
    labels = label_set("emocomics35")
    regions = [{"id": f"u{k}", "text": f"line {k}", "lang": "en", "speaker": f"ID-{k % 2}", "emotions": e}
               for k, e in enumerate(utterance_labels)]
    return {"schema_version": "1.0", "id": f"p{i:03d}", "domain": "comic", "label_set": "emocomics35",
            "source": {"dataset": "t", "licence": "CC0", "synthetic": True}, "text_regions": regions,
            "characters": [{"actor_id": "ID-0"}, {"actor_id": "ID-1"}],
            "emotions": page_emotions(utterance_labels, labels)}


def test_prompt_numbers_utterances_and_asks_one_entry_each():
    prompt = build_prompt(_page(0, [["Joy"], ["Neutral"], ["Anger"]]))
    assert "1. line 0" in prompt and "3. line 2" in prompt and "(3 in all)" in prompt
    assert '"utterances": [{"emotions": [<labels>], "speaker": <character id or null>}' in prompt


def test_permuted_labels_score_page_one_but_utterance_below_one():
    records = [_page(i, [["Joy"], ["Anger"], ["Fear", "Surprise"]]) for i in range(6)]
    permuted = json.dumps({"emotions": ["Anger", "Fear", "Surprise", "Joy"],
                           "utterances": [{"emotions": ["Anger"]}, {"emotions": ["Fear", "Surprise"]},
                                          {"emotions": ["Joy"]}]})
    rows = [sample_row(r, permuted, label_set="emocomics35") for r in records]
    assert aggregate("macro_f1", rows) == 1.0 and aggregate("exact_match", rows) == 1.0
    assert aggregate("utt_macro_f1", rows) < 1.0 and aggregate("utt_accuracy", rows) == 0.0
    assert aggregate("utt_slot_mismatch", rows) == 0.0


def test_missing_or_extra_slot_raises_slot_mismatch_and_page_level_answers_count():
    records = [_page(i, [["Joy"], ["Anger"]]) for i in range(4)]
    answers = ['{"utterances": [{"emotions": ["Joy"]}, {"emotions": ["Anger"]}]}',  # exact
               '{"utterances": [{"emotions": ["Joy"]}]}',  # a missing slot: an empty prediction
               '{"utterances": [["Joy"], ["Anger"], ["Fear"]]}',  # an extra slot: false positives
               '{"emotions": ["Anger", "Joy"]}']  # page level only: scored at page level
    rows = [sample_row(r, a, label_set="emocomics35") for r, a in zip(records, answers)]
    assert aggregate("utt_slot_mismatch", rows) == pytest.approx(0.75)
    # Page labels: derived by the page rule from the utterances (the missing slot loses Anger), or stated.
    assert [row["pred"] for row in rows] == [["Anger", "Joy"], ["Joy"], ["Anger", "Fear", "Joy"], ["Anger", "Joy"]]
    # Utterances: slots (Joy, Anger) x4 + one extra; correct: 2 + 1 + 2 + 0 = 5 of 9 slots.
    assert aggregate("utt_accuracy", rows) == pytest.approx(5 / 9)
    # The same slots for scikit-learn, page by page (a missing slot empty, the extra one with empty gold).
    labels = list(label_set("emocomics35"))
    gold = [["Joy"], ["Anger"], ["Joy"], ["Anger"], ["Joy"], ["Anger"], [], ["Joy"], ["Anger"]]
    pred = [["Joy"], ["Anger"], ["Joy"], [], ["Joy"], ["Anger"], ["Fear"], [], []]
    t = np.array([[l in y for l in labels] for y in gold])
    p = np.array([[l in y for l in labels] for y in pred])
    occurring = [j for j in range(len(labels)) if t[:, j].any() or p[:, j].any()]
    assert aggregate("utt_macro_f1", rows) == pytest.approx(
        skm.f1_score(t, p, average="macro", labels=occurring, zero_division=0), abs=1e-12)


@pytest.mark.parametrize("limit", [None, 5, 17])
def test_macro_f1_equals_sklearn_with_absent_labels_with_and_without_limit(limit):
    labels = label_set("emorecom")
    rng = random.Random(7)
    # Labels 'other' and 'disgust' never occur; the rest are sparse, so a limit drops more.
    live = [l for l in labels if l not in ("other", "disgust")]
    records, answers = [], []
    for i in range(60):
        gold = sorted({l for l in live if rng.random() < 0.2}, key=labels.index)
        pred = sorted({l for l in live if rng.random() < 0.2}, key=labels.index)
        records.append({"schema_version": "1.0", "id": f"s{i:03d}", "domain": "comic", "label_set": "emorecom",
                        "source": {"dataset": "t", "licence": "CC0", "synthetic": True}, "emotions": gold})
        answers.append(json.dumps({"emotions": pred}))
    records, answers = records[:limit], answers[:limit]
    rows = [sample_row(r, a, label_set="emorecom") for r, a in zip(records, answers)]
    t = np.array([[l in r["gold"] for l in labels] for r in rows])
    p = np.array([[l in r["pred"] for l in labels] for r in rows])
    occurring = [j for j in range(len(labels)) if t[:, j].any() or p[:, j].any()]
    for metric, fn in (("macro_f1", skm.f1_score), ("macro_precision", skm.precision_score),
                       ("macro_recall", skm.recall_score)):
        want = fn(t, p, average="macro", labels=occurring, zero_division=0)
        assert aggregate(metric, rows) == pytest.approx(want, abs=1e-12), metric
    # Per resample too: the bootstrap interval brackets the value and a no-support label is marked.
    scores = score_rows(rows, n_resamples=200)
    assert scores["macro_f1"].ci.low <= scores["macro_f1"].value <= scores["macro_f1"].ci.high
    assert scores["f1/other"].value is None and "no support" in scores["f1/other"].signature["undefined"]


def test_never_explaining_model_gets_bleu_none_with_reason_and_coverage_zero():
    records = [{"schema_version": "1.0", "id": f"a{i}", "domain": "art", "label_set": "emoart",
                "source": {"dataset": "t", "licence": "CC0", "synthetic": True}, "emotions": ["Calm"],
                "explanations": ["a quiet lake at dawn"]} for i in range(5)]
    rows = [sample_row(r, '{"emotions": ["Calm"]}', label_set="emoart") for r in records]
    for metric in ("bleu", "rouge1", "rouge2", "rougeL"):
        assert aggregate(metric, rows) is None
        assert score_metric(metric, rows).signature["undefined"] == "never produced"
    assert aggregate("explanation_coverage", rows) == 0.0
    # Never asked: attributions, intensity, speakers, utterances.
    for metric in ("attribution_micro_precision", "intensity_mae", "speaker_accuracy", "utt_macro_f1"):
        assert aggregate(metric, rows) is None
        assert score_metric(metric, rows).signature["undefined"] == "not requested"
    from comic_emotion.metrics.lmms import aggregate_na_reasons, results_for

    reasons = aggregate_na_reasons([results_for(row)["na_reasons"] for row in rows])
    assert reasons["bleu"] == "never produced" and reasons["attribution_micro_f1"] == "not requested"


def test_majority_answer_has_its_analytic_utterance_value():
    # Every utterance Joy (gold: 2 Joy, 1 Anger per page): utterance F1(Joy) = 2*2/(2*2+1) = 0.8,
    # F1(Anger) = 0 -> utt macro 0.4; micro = 2*2/(2*2+1+1) = 2/3; accuracy 2/3.
    records = [_page(i, [["Joy"], ["Anger"], ["Joy"]]) for i in range(5)]
    rows = [sample_row(r, '{"utterances": [["Joy"], ["Joy"], ["Joy"]]}', label_set="emocomics35") for r in records]
    assert aggregate("utt_macro_f1", rows) == pytest.approx(0.4)
    assert aggregate("utt_micro_f1", rows) == pytest.approx(2 / 3)
    assert aggregate("utt_accuracy", rows) == pytest.approx(2 / 3)
    # Speakers not given although asked: speaker metrics N/A "never produced", coverage 0.
    assert aggregate("speaker_accuracy", rows) is None and aggregate("speakers_coverage", rows) == 0.0


def test_results_readers_skip_the_na_reasons_entry(tmp_path: Path):
    from comic_emotion.results import task_metrics

    entry = {"macro_f1,none": 0.5, "bleu,none": None, "na_reasons,none": {"bleu": "never produced"}, "alias": "x"}
    assert task_metrics(tmp_path / "r.json", "comic_emotion_comic", entry) == {"macro_f1": 0.5, "bleu": None}


@pytest.mark.integration
def test_lmms_eval_limit_run_macro_f1_equals_sklearn_on_its_sample_log(demo_root: Path, tmp_path: Path):
    # A `--limit 5` smoke run: only a few labels occur, and macro-F1 must still be scikit-learn's over them
    # (before #15 it averaged every label of the set, absent ones as 0).
    from test_baselines import macro_f1_from_log, run

    done = run("comic_emotion", "run", "--model", "comic_emotion_text", "--tasks", "comic_emotion_comic", "--limit", "5",
               "--log_samples", "--output_path", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(sorted((tmp_path / "out").rglob("*_results.json"))[-1].read_text())
    entry = results["results"]["comic_emotion_comic"]
    want = macro_f1_from_log(tmp_path / "out", "comic_emotion_comic", demo_root / "comic" / "test.parquet")
    assert entry["macro_f1,none"] == pytest.approx(want, abs=1e-12)
    assert entry["na_reasons,none"]["utt_macro_f1"] == "never produced"  # page-level answers
    assert entry["utt_slot_mismatch,none"] == 1.0


def test_parse_levels_are_each_reported_as_a_rate():
    answers = ['{"emotions": ["happy"]}', '```json\n{"emotions": ["sad"]}\n```', '{"emotions": ["fear", "sur',
               "???", "She looks furious."]
    records = [{"schema_version": "1.0", "id": f"s{i}", "domain": "comic", "label_set": "emorecom",
                "source": {"dataset": "t", "licence": "CC0", "synthetic": True}, "emotions": ["happy"]}
               for i in range(len(answers))]
    rows = [sample_row(r, a, label_set="emorecom") for r, a in zip(records, answers)]
    assert [r["parse_status"] for r in rows] == ["strict", "lenient", "repaired", "failed", "lenient"]
    rates = {m: aggregate(m, rows) for m in ("strict_parse_rate", "lenient_parse_rate", "repaired_parse_rate",
                                             "parse_failure_rate")}
    assert rates == {"strict_parse_rate": 0.2, "lenient_parse_rate": 0.4, "repaired_parse_rate": 0.2,
                     "parse_failure_rate": 0.2}
