"""The same command twice gives the same bytes, apart from the fields that record when and where it ran.

Two processes with different ``PYTHONHASHSEED`` (so nothing may depend on Python's salted ``hash()``)
run ``comic-emotion run --model comic_emotion_majority --tasks comic_emotion --log_samples`` into
two output directories. The per-sample logs (``<date>_samples_<task>.jsonl``) are byte-identical.
The results JSON is identical after removing exactly these fields, which legitimately vary:

- ``date`` (also the file-name prefix ``<date>_``), ``start_time``, ``end_time``,
  ``total_evaluation_time_seconds``: when the run happened and how long it took;
- ``config.resolved_cli_args.output_path`` and ``config.resolved_cli_args.hf_hub_log_args`` (which
  embeds ``output_path=...``): where it was written;
- the memory addresses in lmms-eval's ``repr`` of task functions (``"<function doc_to_text at
  0x7f...>"`` under ``configs.<task>``: ``doc_to_text``, ``doc_to_visual``, ``doc_to_target``,
  ``process_results`` and every ``metric_list[].aggregation``): the function names are compared,
  the addresses are not.

Everything else (metrics, confidence intervals, configs, environment and version fields, data hashes)
must match. Demo-set byte identity across processes is tested in ``test_demo.py``
(``test_same_seed_gives_byte_identical_files_across_processes``); here ``comic-emotion perturb`` is
run in two processes on the demo split.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
VARYING_TOP_LEVEL = ("date", "start_time", "end_time", "total_evaluation_time_seconds")
VARYING_CONFIG = ("output_path", "hf_hub_log_args")
_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def cli(*arguments: str, hash_seed: str, cwd: Path) -> subprocess.CompletedProcess:
    # cwd outside the checkout: lmms-eval 0.7.3 reads `--tasks comic_emotion` as a directory of YAML files
    # whenever ./comic_emotion exists in the working directory, and then finds no task.
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    completed = subprocess.run(["comic-emotion", *arguments], capture_output=True, text=True, timeout=300, env=env,
                               cwd=cwd)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


def comparable(results: dict) -> dict:
    """The results JSON without the fields that record when and where the run happened."""
    kept = {k: v for k, v in results.items() if k not in VARYING_TOP_LEVEL}
    kept["config"] = dict(results["config"])
    kept["config"]["resolved_cli_args"] = {k: v for k, v in results["config"]["resolved_cli_args"].items()
                                           if k not in VARYING_CONFIG}
    return json.loads(_ADDRESS.sub(" at ADDRESS>", json.dumps(kept, sort_keys=True)))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, demo_root) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("determinism")
    for name, seed in (("A", "1"), ("B", "2")):
        cli("run", "--model", "comic_emotion_majority", "--tasks", "comic_emotion", "--log_samples",
            "--limit", "40", "--output_path", str(base / name), hash_seed=seed, cwd=base)
    return base / "A", base / "B"


def test_results_json_identical_apart_from_time_and_place(two_runs):
    (a,), (b,) = (sorted(run.rglob("*_results.json")) for run in two_runs)
    results_a, results_b = json.loads(a.read_text()), json.loads(b.read_text())
    assert results_a["results"]["comic_emotion_comic"]["macro_f1,none"] is not None
    assert comparable(results_a) == comparable(results_b)
    # the removed fields really are the varying ones (and exist), not a mask hiding a metric
    cli_a, cli_b = results_a["config"]["resolved_cli_args"], results_b["config"]["resolved_cli_args"]
    assert cli_a["output_path"] != cli_b["output_path"]
    assert set(VARYING_TOP_LEVEL) <= set(results_a)
    assert a.name.removeprefix(results_a["date"]) == b.name.removeprefix(results_b["date"])


def test_sample_logs_byte_identical(two_runs):
    logs_a, logs_b = ({p.name.split("_samples_", 1)[1]: p.read_bytes() for p in run.rglob("*_samples_*.jsonl")}
                      for run in two_runs)
    assert sorted(logs_a) == ["comic_emotion_art.jsonl", "comic_emotion_comic.jsonl", "comic_emotion_manga.jsonl"]
    assert logs_a == logs_b


@pytest.mark.parametrize("perturbation", ["occlusion_faces", "ocr_noise"])
def test_perturb_command_twice_gives_identical_bytes(perturbation, tmp_path, demo_root):
    for name, seed in (("a", "1"), ("b", "2")):
        cli("perturb", "--perturbation", perturbation, "--severity", "3", "--seed", "7", "--input", "comic",
            "--output", str(tmp_path / name), hash_seed=seed, cwd=tmp_path)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == ["manifest.json", "test.parquet"]
    for file in files:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
