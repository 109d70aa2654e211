"""The results layer: one reader of runs, its typed synthetic/partial flags, and its one error class.

Results files are written here in lmms-eval 0.7.3's layout (``<date>_results.json`` and
``<date>_samples_<task>.jsonl``), with the per-sample rows our tasks log.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from comic_emotion.metrics.samples import sample_row
from comic_emotion.metrics.scoring import aggregate

from comic_emotion import results, runner
from comic_emotion.metrics.registry import PERTURBATION_CHANGED_KEY as CHANGED_KEY
from comic_emotion.schema import SCHEMA_VERSION
from comic_emotion.taxonomy import label_set

LABELS = list(label_set("demo"))
TASK = "comic_emotion_comic"


def record(i: int) -> dict:
    return {"schema_version": SCHEMA_VERSION, "id": f"s-{i:03d}", "domain": "comic",
            "source": {"dataset": "fixture", "licence": "CC0-1.0", "synthetic": True}, "label_set": "demo",
            "emotions": [LABELS[i % 5]], "text_regions": [{"id": "r0", "text": "Hi!", "lang": "en"}]}


def write_run(directory: Path, *, metadata: dict, limit: int | None = None, n: int = 12,
              changed: list[int] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    rows, lines = [], []
    for i in range(n):
        answer = json.dumps({"emotions": [LABELS[(i * 3) % 7]]})
        row = sample_row(record(i), answer, label_set="demo")
        rows.append(row)
        line = {"doc_id": i, "resps": [[answer]], "filtered_resps": [answer], "macro_f1": row}
        if changed is not None:
            line[CHANGED_KEY] = float(changed[i])
        lines.append(line)
    (directory / f"20260101T000000_samples_{TASK}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    raw = {"results": {TASK: {"alias": TASK, "macro_f1,none": aggregate("macro_f1", rows)}},
           "configs": {TASK: {"task": TASK, "metadata": {"version": 3, "dataset": "comic", "data_hash": "h",
                                                          **metadata}}},
           "config": {"model": "m", "model_args": "", "limit": limit},
           "n-samples": {TASK: {"original": 40 if limit else n, "effective": n}}}
    path = directory / "20260101T000000_results.json"
    path.write_text(json.dumps(raw))
    return path


@pytest.mark.parametrize(("metadata", "synthetic"), [
    ({"data_source": "demo (synthetic)", "data_synthetic": True}, True),
    # The typed flag decides, not the display text (an old reader keyed on startswith("demo")).
    ({"data_source": "demo-looking real corpus", "data_synthetic": False}, False),
    ({"data_source": "real", "data_synthetic": False}, False),
])
def test_synthetic_comes_from_the_typed_flag(tmp_path, metadata, synthetic):
    run = results.load_run(write_run(tmp_path, metadata=metadata))
    assert run.synthetic is synthetic and run.tasks[TASK].synthetic is synthetic


def test_partial_is_decided_once_from_limit_and_sample_counts(tmp_path):
    full = results.load_run(write_run(tmp_path / "full", metadata={"data_source": "real"}))
    part = results.load_run(write_run(tmp_path / "part", metadata={"data_source": "real"}, limit=12))
    assert not full.partial and full.partial_note() is None
    assert part.partial and part.partial_note() == "partial run: --limit 12, 12 of 40 samples per subtask"
    # The summary table of `comic-emotion run` says so through the same function.
    assert "PARTIAL RUN: --limit 12" in runner.summary_table(results.read_results(part.path))


def test_sample_logs_give_rows_answers_and_perturbation_coverage(tmp_path):
    changed = [1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1]
    run = results.load_run(write_run(tmp_path, metadata={"data_source": "real"}, changed=changed))
    task = run.tasks[TASK]
    assert [r["id"] for r in task.rows] == [f"s-{i:03d}" for i in range(12)]
    assert task.answers[0] == json.dumps({"emotions": [LABELS[0]]})
    assert task.changed == [float(c) for c in changed]


def test_a_log_from_another_run_is_refused(tmp_path):
    path = write_run(tmp_path, metadata={"data_source": "real"})
    raw = json.loads(path.read_text())
    raw["results"][TASK]["macro_f1,none"] = 0.987654
    path.write_text(json.dumps(raw))
    with pytest.raises(results.RunError, match="recomputed from the sample log"):
        results.load_run(path)


def test_one_run_error_class_and_the_cli_prints_it_as_one_line(tmp_path):
    assert runner.RunError is results.RunError
    broken = tmp_path / "20260101T000000_results.json"
    broken.write_text('{"results": {')
    done = subprocess.run(["comic-emotion", "robustness", str(broken)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"comic-emotion: error: {broken}: not valid JSON (line 1, column 14: Expecting property name enclosed in "
        "double quotes); truncated or not a results file"]
