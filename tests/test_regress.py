"""Regression gate: exit codes 0 / 1 / 2 through the real CLI, paired tests, thresholds as user input.

The regressed candidate is built from a baseline run's own sample logs: 20 % of the samples
(chosen by sha256 of the id) get a wrong prediction, and the results are re-aggregated with
:mod:`comic_emotion.metrics.scoring` (:func:`flip_run`), so it works on any lmms-eval run with logs.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from comic_emotion.leaderboard.regress import GateInputError, compare, load_thresholds, paired_test
from comic_emotion.metrics.bootstrap import paired_bootstrap
from comic_emotion.metrics.scoring import aggregate, prepare
from test_leaderboard import write_run

from comic_emotion.taxonomy import label_set


def flip_run(results: Path, out_dir: Path, *, share: float = 0.2) -> Path:
    """Copy a run with ``share`` of every task's predictions rewritten to a wrong label, re-aggregated."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = json.loads(results.read_text())
    prefix = results.name[: -len("results.json")]
    for task in data["configs"]:
        log = results.parent / f"{prefix}samples_{task}.jsonl"
        if not log.exists():
            continue
        samples = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        keys = [k for k, v in samples[0].items() if isinstance(v, dict) and "pred" in v]
        ranked = sorted(samples, key=lambda s: hashlib.sha256(s[keys[0]]["id"].encode()).hexdigest())
        chosen = {s[keys[0]]["id"] for s in ranked[: round(share * len(samples))]}
        for sample in samples:
            row = sample[keys[0]]
            if row["id"] in chosen:
                labels = label_set(row["label_set"])
                wrong = next(label for label in labels if label not in row["gold"])
                row = {**row, "pred": [wrong], "scores": [float(label == wrong) for label in labels]}
                sample["filtered_resps"] = [json.dumps({"emotions": [wrong]})]
            for key in keys:
                sample[key] = row
        (out_dir / log.name).write_text("".join(json.dumps(s) + "\n" for s in samples))
        for key in keys:
            data["results"][task][f"{key},none"] = aggregate(key, [s[key] for s in samples])
    target = out_dir / results.name
    target.write_text(json.dumps(data))
    return target


def gate(*args: str) -> subprocess.CompletedProcess:
    # The console script, as CI calls it (``python -m comic_emotion.cli.main`` would load main.py twice).
    return subprocess.run([str(Path(sys.executable).parent / "comic-emotion"), "regress", *args],
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    return write_run(tmp_path_factory.mktemp("base"), n=100, correct=0.85)


def test_identical_runs_pass_with_exit_0(baseline, tmp_path):
    done = gate("--baseline", str(baseline), "--candidate", str(baseline), "--json", str(tmp_path / "g.json"))
    assert done.returncode == 0, done.stderr
    assert "No regression" in done.stdout
    report = json.loads((tmp_path / "g.json").read_text())
    assert report["regressed"] is False
    assert all(c["delta"] in (0.0, None) and c["p_value"] == 1.0 for c in report["comparisons"]
               if c["test"] != "none (metric undefined)")


def test_candidate_with_20_percent_answers_flipped_regresses_with_p_below_001(baseline, tmp_path):
    candidate = flip_run(baseline, tmp_path / "cand")
    md = tmp_path / "gate.md"
    done = gate("--baseline", str(baseline), "--candidate", str(candidate), "--format", "json", "--markdown", str(md))
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    official = [c for c in report["comparisons"] if c["metric"] in ("macro_f1", "accuracy")]
    assert len(official) == 6 and all(c["regressed"] and c["p_value"] < 0.01 and c["delta"] < 0 for c in official)
    assert {c["test"] for c in official} == {"paired bootstrap", "McNemar exact"}
    assert all(c["ci_high"] < 0 for c in official)
    assert "Regression" in md.read_text() and "| comic_emotion_art | Macro F1 |" in md.read_text()


def test_thresholds_allow_a_small_drop_and_an_improvement_is_not_a_regression(baseline, tmp_path):
    candidate = flip_run(baseline, tmp_path / "cand", share=0.02)
    loose = tmp_path / "t.yaml"
    loose.write_text("alpha: 0.05\nmax_drop: 0.05\n")
    assert gate("--baseline", str(baseline), "--candidate", str(candidate), "--thresholds", str(loose)).returncode == 0
    assert gate("--baseline", str(candidate), "--candidate", str(baseline)).returncode == 0


def test_paired_bootstrap_equals_the_metrics_library(baseline, tmp_path):
    candidate = flip_run(baseline, tmp_path / "cand")
    rows_a = [json.loads(x)["macro_f1"] for x in next(baseline.parent.glob("*_samples_comic_emotion_comic.jsonl"))
              .read_text().splitlines()]
    rows_b = [json.loads(x)["macro_f1"] for x in next(candidate.parent.glob("*_samples_comic_emotion_comic.jsonl"))
              .read_text().splitlines()]
    low, high, p, test = paired_test("macro_f1", rows_a, rows_b)
    prep_a, prep_b = prepare("macro_f1", rows_a), prepare("macro_f1", rows_b)
    reference = paired_bootstrap(prep_b.stats, prep_a.stats, prep_a.from_sums, n_resamples=1000, seed=0)
    assert test == "paired bootstrap"
    assert (low, high, p) == pytest.approx((reference["ci_low"], reference["ci_high"], reference["p_value"]), abs=1e-12)


@pytest.mark.parametrize("content, message", [
    ('{"results": {"comic_emotion_comic": ', "not valid JSON"),
    ('{"results": {}, "configs": {}}', "failed run"),
    ("[1, 2]", "top level is list"),
])
def test_malformed_results_exit_2(baseline, tmp_path, content, message):
    bad = tmp_path / "2025_results.json"
    bad.write_text(content)
    done = gate("--baseline", str(baseline), "--candidate", str(bad))
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_other_samples_or_task_version_exit_2(baseline, tmp_path):
    other = write_run(tmp_path / "o", n=90, correct=0.85)
    assert "cover different samples" in gate("--baseline", str(baseline), "--candidate", str(other)).stderr
    newer = write_run(tmp_path / "v", n=100, version="2")
    done = gate("--baseline", str(baseline), "--candidate", str(newer))
    assert done.returncode == 2 and "version differs" in done.stderr


@pytest.mark.parametrize("text, message", [
    ("max_drop: -1\n", "a number >= 0"),
    ("alpha: 2\n", "0 < alpha < 1"),
    ("typo: 1\n", "unknown keys"),
    ("metrics: {vibes: {max_drop: 0.1}}\n", "metrics.vibes: unknown metric 'vibes'; known: "),
    ("!!python/object/apply:os.system ['echo pwned']\n", "not valid YAML"),
    ("metrics: [\n", "not valid YAML"),
])
def test_thresholds_are_validated_user_input(tmp_path, text, message):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(GateInputError, match=message):
        load_thresholds(path)


def test_per_task_thresholds_win_over_per_metric(baseline, tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("metrics: {macro_f1: {max_drop: 0.5}}\ntasks: {comic_emotion_art: {macro_f1: {max_drop: 0.0}}}\n")
    rows = compare(baseline, flip_run(baseline, tmp_path / "c"), thresholds=load_thresholds(path))
    f1 = {r.task: r for r in rows if r.metric == "macro_f1"}
    assert f1["comic_emotion_art"].regressed and not f1["comic_emotion_comic"].regressed
