"""`comic-emotion score` on EmoRecCom submissions: each variant seen in the wild, checked against sklearn."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from converter_fixtures import EMORECOM_LABELS, write_emorecom_release
from sklearn.metrics import roc_auc_score

from comic_emotion.cli.main import main
from comic_emotion.converters import get_converter
from comic_emotion.converters.base import prepare


@pytest.fixture()
def prepared(tmp_path, monkeypatch):
    """A prepared EmoRecCom release with public test labels (so the test split is scored)."""
    info = write_emorecom_release(tmp_path / "rel", n_train=4, n_test=40, seed=3, images=False)
    prepare(get_converter("emorecom"), tmp_path / "rel", tmp_path / "data", today="2026-01-01")
    monkeypatch.setenv("COMIC_EMOTION_DATA", str(tmp_path / "data"))
    rng = random.Random(7)
    order = info["order"]["test"]
    scores = {image_id: [rng.random() for _ in EMORECOM_LABELS] for image_id in order}
    gold = np.array([[label in info["gold"][i] for label in EMORECOM_LABELS] for i in order], dtype=int)
    assert all(0 < gold[:, j].sum() < len(order) for j in range(len(EMORECOM_LABELS)))  # every AUC defined
    return {"order": order, "scores": scores, "gold": gold}


def _expected(prepared: dict, scores: dict, labels=EMORECOM_LABELS) -> dict[str, float]:
    matrix = np.array([scores[i] for i in prepared["order"]])
    return {label: roc_auc_score(prepared["gold"][:, j], matrix[:, j])
            for j, label in enumerate(EMORECOM_LABELS) if label in labels}


def _score(path: Path, *extra: str, capsys) -> dict:
    assert main(["score", "--task", "comic_emotion_emorecom", "--split", "test", "--submission", str(path),
                 "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_official_ten_column_submission_gives_the_eight_class_mean(prepared, tmp_path, capsys):
    rows = [f"{k},{i}," + ",".join(f"{v:.6f}" for v in prepared["scores"][i]) for k, i in enumerate(prepared["order"])]
    report = _score(_write(tmp_path / "results.csv", rows), capsys=capsys)
    rounded = {i: [round(v, 6) for v in s] for i, s in prepared["scores"].items()}
    expected = _expected(prepared, rounded)
    assert report["per_class"] == pytest.approx(expected, abs=1e-12)
    assert report["mean_roc_auc"] == pytest.approx(np.mean(list(expected.values())), abs=1e-12)
    assert report["official"] and report["classes"] == list(EMORECOM_LABELS) and report["data"]["data_source"] == "real"


@pytest.mark.parametrize("variant", ["header_and_pandas_index", "index_written_0.1", "scientific_notation",
                                     "zero_rows_and_rows_summing_to_one", "shuffled_rows"])
def test_submission_variants_score_like_the_official_form(prepared, tmp_path, capsys, variant):
    order, scores = prepared["order"], dict(prepared["scores"])
    if variant == "zero_rows_and_rows_summing_to_one":
        for k, image_id in enumerate(order[:10]):
            total = sum(scores[image_id])
            scores[image_id] = [0.0] * 8 if k % 2 else [v / total for v in scores[image_id]]
    cells = {i: [repr(v) for v in s] for i, s in scores.items()}
    if variant == "scientific_notation":
        cells = {i: [f"{v:.17e}" for v in s] for i, s in scores.items()}
    ids = list(reversed(order)) if variant == "shuffled_rows" else order  # (the fixture's order is sorted)
    if variant == "header_and_pandas_index":
        lines = [",row_index,image_id," + ",".join(label.title() for label in EMORECOM_LABELS[:-1]) + ",Others"]
        lines += [f"{k},{k},{i}," + ",".join(cells[i]) for k, i in enumerate(ids)]
    else:
        lines = [f"{'0.1' if (k == 0 and variant == 'index_written_0.1') else k},{i}," + ",".join(cells[i])
                 for k, i in enumerate(ids)]
    report = _score(_write(tmp_path / f"{variant}.csv", lines), capsys=capsys)
    assert report["per_class"] == pytest.approx(_expected(prepared, scores), abs=1e-12)
    # What was normalised (or accepted as given) is reported, one kind per line with its count.
    notes = report["normalised"]
    expected_notes = {
        "header_and_pandas_index": {"header row skipped": 1, "extra index column ignored": 40},
        "index_written_0.1": {"non-integer row index ignored (e.g. 0.1)": 1},
        "scientific_notation": {"scores in scientific notation": 320},
        "zero_rows_and_rows_summing_to_one": {"rows of all zeros (kept as given)": 5,
                                              "rows summing to 1 (kept as given)": 5},
    }
    if variant == "shuffled_rows":
        moved = sum(a != b for a, b in zip(ids, order))
        assert notes == {"rows matched to the split by image id (not in the split's order)": moved} and moved > 0
    else:
        assert notes == expected_notes[variant]
    assert main(["score", "--task", "comic_emotion_emorecom", "--split", "test", "--submission",
                 str(tmp_path / f"{variant}.csv"), "--n-resamples", "50"]) == 0
    table = capsys.readouterr().out
    assert [line for line in table.splitlines() if line.startswith("normalised: ")] == \
        [f"normalised: {kind}: {count}" for kind, count in notes.items()]


def test_official_submission_reports_nothing_normalised_and_a_bootstrap_ci(prepared, tmp_path, capsys):
    rows = [f"{k},{i}," + ",".join(repr(v) for v in prepared["scores"][i]) for k, i in enumerate(prepared["order"])]
    path = _write(tmp_path / "results.csv", rows)
    report = _score(path, "--n-resamples", "200", "--seed", "5", capsys=capsys)
    assert report["normalised"] == {}
    # Independent bootstrap: the same seeded image resamples, each scored with scikit-learn.
    gold = prepared["gold"]
    matrix = np.array([prepared["scores"][i] for i in prepared["order"]])
    index = np.random.default_rng(5).integers(0, len(gold), size=(200, len(gold)))
    means = []
    for draw in index:
        if all(0 < gold[draw, j].sum() < len(draw) for j in range(len(EMORECOM_LABELS))):
            means.append(np.mean([roc_auc_score(gold[draw, j], matrix[draw, j]) for j in range(len(EMORECOM_LABELS))]))
    ci = report["ci"]
    assert ci["kept"] == len(means) and ci["n_resamples"] == 200 and ci["level"] == 0.95
    assert [ci["low"], ci["high"]] == pytest.approx(list(np.quantile(means, [0.025, 0.975])), abs=1e-12)
    assert ci["low"] <= report["mean_roc_auc"] <= ci["high"]
    assert main(["score", "--task", "comic_emotion_emorecom", "--split", "test", "--submission", str(path),
                 "--n-resamples", "200", "--seed", "5"]) == 0
    assert f"95% CI [{ci['low']:.4f}, {ci['high']:.4f}]" in capsys.readouterr().out


def test_exclude_other_averages_seven_classes_and_says_so(prepared, tmp_path, capsys):
    rows = [f"{k},{i}," + ",".join(repr(v) for v in prepared["scores"][i]) for k, i in enumerate(prepared["order"])]
    path = _write(tmp_path / "results.csv", rows)
    report = _score(path, "--exclude-other", capsys=capsys)
    expected = _expected(prepared, prepared["scores"], labels=EMORECOM_LABELS[:-1])
    assert report["excluded"] == ["other"] and not report["official"] and "other" not in report["per_class"]
    assert report["mean_roc_auc"] == pytest.approx(np.mean(list(expected.values())), abs=1e-12)
    # A .csv given as --predictions is auto-detected as a submission; the table names the variant.
    assert main(["score", "--task", "comic_emotion_emorecom", "--split", "test", "--predictions", str(path),
                 "--exclude-other"]) == 0
    table = capsys.readouterr().out
    assert "7 classes, not the official 8-class mean" in table and "other" in table and "excluded" in table


def test_submission_for_another_split_or_missing_rows_is_one_clear_error(prepared, tmp_path, capsys):
    rows = [f"{k},{i}," + ",".join(repr(v) for v in prepared["scores"][i]) for k, i in enumerate(prepared["order"])]
    path = _write(tmp_path / "results.csv", rows)
    assert main(["score", "--task", "comic_emotion_emorecom", "--submission", str(path)]) == 1  # the task's train split
    assert "is not in the prepared split" in capsys.readouterr().err
    _write(path, rows[:-1])
    assert main(["score", "--task", "comic_emotion_emorecom", "--split", "test", "--submission", str(path)]) == 1
    assert f"1 image(s) of the split have no row, e.g. {prepared['order'][-1]}" in capsys.readouterr().err
    assert main(["score", "--task", "comic_emotion_emocomics35", "--submission", str(path)]) == 1
    assert "scores only EmoRecCom tasks" in capsys.readouterr().err
