"""Two processes give the same numbers as one: every metric, its CI, and a perturbed variant.

On a machine without GPUs, ``accelerate launch --cpu --num_processes 2`` starts only one process
(accelerate 1.x), so such a test would pass without testing anything. ``--multi_gpu`` does start two
processes here (gloo backend on CPU); the test proves that rank 1 ran from lmms-eval's own log line.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
TASKS = "comic_emotion_comic,comic_emotion_robust_comic_ocr_noise_s3"
MODEL = "comic_emotion_text"  # reads the text channel, so the OCR-noise variant changes its answers


def _lmms_eval_args(output: Path) -> list[str]:
    return ["--model", MODEL, "--tasks", TASKS, "--log_samples", "--output_path", str(output), "--batch_size", "1"]


def _results(output: Path) -> dict:
    found = sorted(output.rglob("*_results.json"))
    assert found, f"no results JSON under {output}"
    return json.loads(found[-1].read_text())


def _metrics(results: dict, task: str) -> dict[str, float]:
    return {k: v for k, v in results["results"][task].items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and "stderr" not in k}


def test_two_processes_match_one_process(demo_root: Path, tmp_path: Path):
    env = {**os.environ, "COMIC_EMOTION_TASKS_ONLY": "1"}
    single = subprocess.run([sys.executable, "-m", "lmms_eval", *_lmms_eval_args(tmp_path / "one")],
                            capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    launched = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
         "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29533",
         "-m", "lmms_eval", *_lmms_eval_args(tmp_path / "two")],
        capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path,
    )
    log = launched.stdout + launched.stderr
    assert "Running on rank 1" in log, f"the second rank never ran:\n{log[-3000:]}"
    one, two = _results(tmp_path / "one"), _results(tmp_path / "two")
    for task in TASKS.split(","):
        expected, got = _metrics(one, task), _metrics(two, task)
        assert expected and set(expected) == set(got), (task, sorted(set(expected) ^ set(got)))
        ci_keys = [k for k in expected if "_ci_" in k]
        assert ci_keys, f"{task}: no CI keys in the results"
        for key, value in expected.items():
            if math.isnan(value):
                assert math.isnan(got[key]), (task, key)
            else:
                assert got[key] == pytest.approx(value, abs=1e-12), (task, key, value, got[key])
        assert one["n-samples"][task] == two["n-samples"][task]
    # the perturbation really changed what the model saw, in both runs alike
    clean, noisy = _metrics(one, "comic_emotion_comic"), _metrics(one, "comic_emotion_robust_comic_ocr_noise_s3")
    assert noisy.get("perturbation_changed,none", 0) > 0
    assert single.returncode == 0 and launched.returncode == 0
    assert clean["macro_f1,none"] != noisy["macro_f1,none"] or clean["accuracy,none"] != noisy["accuracy,none"]
