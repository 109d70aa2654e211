"""The robustness report, recomputed independently from the sample logs (sklearn for the scores)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from comic_emotion.metrics.samples import sample_row
from comic_emotion.metrics.scoring import aggregate
from comic_emotion.reports.robustness import robustness_report
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from comic_emotion.schema import SCHEMA_VERSION
from comic_emotion.taxonomy import CANONICAL, canonicalise, label_set

LABELS = list(label_set("demo"))
VARIANTS = [("occlusion_patches", 1), ("occlusion_patches", 3), ("occlusion_patches", 5),
            ("ocr_noise", 1), ("ocr_noise", 5), ("translation_ja", 3), ("ablation_bubbles", 5)]


def record(i: int) -> dict:
    return {"schema_version": SCHEMA_VERSION, "id": f"s-{i:03d}", "domain": "comic",
            "source": {"dataset": "fixture", "licence": "CC0-1.0", "synthetic": True}, "label_set": "demo",
            "emotions": [LABELS[i % 5]], "text_regions": [{"id": "r0", "text": "Hi!", "lang": "en"}]}


def write_run(directory: Path, model: str, tasks: dict[str, tuple[dict, list[list[str]], list[int]]]) -> Path:
    """A results JSON and one sample log per task, in lmms-eval 0.7.3's layout and key names."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = "20260101T000000"
    results = {"results": {}, "configs": {}, "config": {"model": model, "model_args": ""}, "model_name": model}
    for task, (metadata, preds, changed) in tasks.items():
        lines, rows = [], []
        for i, (pred, flag) in enumerate(zip(preds, changed)):
            row = sample_row(record(i), json.dumps({"emotions": pred}), label_set="demo")
            rows.append(row)
            lines.append({"doc_id": i, "doc": {"id": row["id"]}, "target": "", "resps": [[json.dumps(pred)]],
                          "filtered_resps": [json.dumps(pred)], "macro_f1": row, "accuracy": row,
                          "perturbation_changed": float(flag)})
        (directory / f"{stamp}_samples_{task}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
        # The values lmms-eval's aggregation gives (the reader checks them against the log).
        results["results"][task] = {"alias": task, "macro_f1,none": aggregate("macro_f1", rows),
                                    "accuracy,none": aggregate("accuracy", rows)}
        results["configs"][task] = {"task": task, "metadata": {
            "version": 1, "data_hash": "fixture-hash", "data_source": "demo (synthetic)", "data_synthetic": True,
            **metadata}}
    results["results"]["comic_emotion_robust"] = {"alias": "comic_emotion_robust"}
    path = directory / f"{stamp}_results.json"
    path.write_text(json.dumps(results))
    return path


def make_model(directory: Path, model: str, noise: float, n: int = 60) -> tuple[Path, dict]:
    rng = random.Random(model)
    gold = [record(i)["emotions"] for i in range(n)]
    clean = [g if rng.random() < 0.8 else [LABELS[rng.randrange(7)]] for g in gold]
    tasks = {"comic_emotion_robust_comic_clean": ({"dataset": "comic", "split": "test"}, clean, [0] * n)}
    truth = {}
    for name, severity in VARIANTS:
        flip_p = noise * severity / 5
        changed = [int(rng.random() < 0.3 + 0.14 * severity) for _ in range(n)]
        preds = [[LABELS[rng.randrange(7)]] if c and rng.random() < flip_p else p for p, c in zip(clean, changed)]
        task = f"comic_emotion_robust_comic_{name}_s{severity}"
        tasks[task] = ({"dataset": "comic", "split": "test", "perturbation": name, "severity": severity, "seed": 0},
                       preds, changed)
        truth[(name, severity)] = (preds, changed)
    return write_run(directory, model, tasks), {"gold": gold, "clean": clean, "variants": truth}


def sk_macro_f1(gold: list[list[str]], pred: list[list[str]], labels: list[str] = LABELS) -> float:
    binarizer = MultiLabelBinarizer(classes=labels)
    y_true, y_pred = binarizer.fit_transform(gold), binarizer.transform(pred)
    # Macro over the labels occurring in gold or prediction (scikit-learn's multiclass default).
    occurring = [j for j in range(len(labels)) if y_true[:, j].any() or y_pred[:, j].any()]
    return float(f1_score(y_true, y_pred, average="macro", labels=occurring, zero_division=0))


def test_report_numbers_match_an_independent_recomputation(tmp_path):
    path, truth = make_model(tmp_path / "a", "model_a", noise=0.9)
    report = robustness_report([path])
    (group,) = report["groups"]
    clean = sk_macro_f1(truth["gold"], truth["clean"])
    assert group["clean_score"] == pytest.approx(clean, abs=1e-12)
    errors = {}
    for cell in group["cells"]:
        preds, changed = truth["variants"][(cell["perturbation"], cell["severity"])]
        score = sk_macro_f1(truth["gold"], preds)
        assert cell["score"] == pytest.approx(score, abs=1e-12)
        assert cell["relative_drop"] == pytest.approx((clean - score) / clean, abs=1e-12)
        assert cell["coverage"] == pytest.approx(np.mean(changed), abs=1e-12)
        assert cell["flip_rate"] == pytest.approx(np.mean([set(a) != set(b) for a, b in zip(truth["clean"], preds)]))
        errors[(cell["perturbation"], cell["severity"])] = 1 - score
    robust = {k: v for k, v in errors.items() if k[0] in ("occlusion_patches", "ocr_noise")}
    per_p = [np.mean([v for k, v in robust.items() if k[0] == p]) for p in ("occlusion_patches", "ocr_noise")]
    assert group["mce"] == pytest.approx(np.mean(per_p), abs=1e-12)
    assert group["relative_mce"] == pytest.approx(np.mean(per_p) - (1 - clean), abs=1e-12)
    worst = min(robust, key=lambda k: 1 - robust[k])
    assert (group["worst_case"]["perturbation"], group["worst_case"]["severity"]) == worst
    categories = {c["perturbation"]: c["category"] for c in group["cells"]}
    assert categories["translation_ja"] == "cross_language" and categories["ablation_bubbles"] == "ablation"


def test_normalised_mce_against_a_reference_model(tmp_path):
    path_a, _ = make_model(tmp_path / "a", "model_a", noise=0.9)
    path_b, _ = make_model(tmp_path / "b", "model_b", noise=0.3)
    report = robustness_report([path_a, path_b], reference="model_b")
    groups = {g["model"]: g for g in report["groups"]}
    assert groups["model_b"]["mce_normalised"] == pytest.approx(1.0, abs=1e-12)
    cells = {m: {(c["perturbation"], c["severity"]): c["error"] for c in g["cells"]} for m, g in groups.items()}
    ratios = [sum(cells["model_a"][(p, s)] for s in severities) / sum(cells["model_b"][(p, s)] for s in severities)
              for p, severities in (("occlusion_patches", (1, 3, 5)), ("ocr_noise", (1, 5)))]
    assert groups["model_a"]["mce_normalised"] == pytest.approx(np.mean(ratios), abs=1e-12)
    with pytest.raises(ValueError, match="reference model 'model_c' matches no model"):
        robustness_report([path_a], reference="model_c")


def test_cross_style_matrix_uses_canonical_labels(tmp_path):
    path, truth = make_model(tmp_path / "a", "model_a", noise=0.5)
    report = robustness_report([path])
    cell = report["cross_style"]["rows"][0]["cells"]["comic"]
    shared = report["cross_style"]["shared_labels"]
    assert "other" not in shared and shared == [c for c in CANONICAL if c != "other"]  # the demo set's seven
    expected = sk_macro_f1([[c for c in canonicalise(g) if c in shared] for g in truth["gold"]],
                           [[c for c in canonicalise(p) if c in shared] for p in truth["clean"]], labels=list(CANONICAL))
    assert cell["labels"] == "canonical shared" and cell["score"] == pytest.approx(expected, abs=1e-12)


def test_cross_style_scores_a_perfect_transfer_one_on_shared_labels():
    from comic_emotion.metrics.scoring import aggregate
    from comic_emotion.reports.cross_style import canonical_rows, shared_labels

    # EmoArt's Bored/Tired have no basic-emotion counterpart: they are not scored, and no "other" class is made up.
    shared = shared_labels(["emoart", "emocomics35"])
    assert "other" not in shared and {"happy", "sad", "angry"} <= set(shared)
    rows = [{"id": f"r{i}", "label_set": "emoart", "gold": [g], "pred": [g], "parse_status": "strict",
             "scores": [], "score_source": "indicator"} for i, g in enumerate(["Bored", "Happy", "Sad", "Calm"])]
    assert aggregate("macro_f1", canonical_rows(rows, shared)) == 1.0


def test_variant_without_clean_run_is_a_clear_error(tmp_path):
    path = write_run(tmp_path, "m", {"comic_emotion_robust_comic_ocr_noise_s1": (
        {"dataset": "comic", "split": "test", "perturbation": "ocr_noise", "severity": 1}, [["happy"]], [1])})
    with pytest.raises(ValueError, match="no clean run of dataset 'comic' split 'test'"):
        robustness_report([path])


def test_command_writes_json_markdown_and_png(tmp_path, capsys):
    from comic_emotion.cli.main import main

    path, _ = make_model(tmp_path / "a", "model_a", noise=0.9)
    assert main(["robustness", str(path), "--out", str(tmp_path / "report")]) == 0
    written = json.loads((tmp_path / "report" / "robustness.json").read_text())
    assert written["groups"][0]["cells"][0]["task"].startswith("comic_emotion_robust_comic_")
    markdown = (tmp_path / "report" / "robustness.md").read_text()
    assert "### Cross-language (translation shift)" in markdown and "mCE" in markdown
    assert (tmp_path / "report" / "robustness.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["robustness", str(tmp_path / "missing_results.json")]) == 1
    assert "results file not found" in capsys.readouterr().err
