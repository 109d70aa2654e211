"""A new user's first hour (issue 17): files others can read, Ctrl-C, honest exit codes, partial runs.

Each test names the behaviour it guards; every one failed before the change it accompanies.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_leaderboard import write_run

from comic_emotion import storage

CLI = str(Path(sys.executable).parent / "comic-emotion")


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- 4. files others can read -----------------------------------------------------------------


@pytest.mark.parametrize(("mask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750),
                                                              (0o077, 0o600, 0o700)])
def test_atomic_writes_and_staging_directories_follow_the_umask(tmp_path, mask, file_mode, dir_mode):
    with umask(mask):
        assert storage.current_umask() == mask
        storage.write_json_atomic(tmp_path / "a.json", {"x": 1})
        storage.write_text_atomic(tmp_path / "b.md", "# b\n")
        with storage.atomic_path(tmp_path / "c.npz") as tmp, open(tmp, "wb") as handle:
            np.savez(handle, x=np.zeros(2))
        staging = storage.staging_directory(tmp_path / "merged")
        storage.write_text_atomic(staging / "config.json", "{}")
        storage.replace_directory(staging, tmp_path / "merged")
    for name in ("a.json", "b.md", "c.npz", "merged/config.json"):
        assert _mode(tmp_path / name) == file_mode, name
    assert _mode(tmp_path / "merged") == dir_mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.md", "c.npz", "merged"]


def test_published_leaderboard_page_is_world_readable_under_umask_022(tmp_path):
    run = write_run(tmp_path / "run")
    board, site = tmp_path / "board.json", tmp_path / "site"
    with umask(0o022):
        for command in (["add", str(run), "--board", str(board), "--allow-demo"],
                        ["render", "--board", str(board), "--out", str(site), "--runs", str(run)]):
            done = subprocess.run([CLI, "leaderboard", *command], capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stderr
    written = [board, site / "index.html", *sorted((site / "samples").glob("*.html"))]
    assert len(written) >= 3
    assert {p.name: oct(_mode(p)) for p in written} == {p.name: oct(0o644) for p in written}


# --- 6. Ctrl-C --------------------------------------------------------------------------------


def test_file_lock_leaves_no_lock_file_even_when_interrupted(tmp_path):
    lock = tmp_path / "board.json.lock"
    with storage.file_lock(lock):
        assert lock.exists()
    assert not lock.exists()
    with pytest.raises(KeyboardInterrupt), storage.file_lock(lock):
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_interrupt_discards_only_files_created_since_entry(tmp_path):
    from comic_emotion.runner import LMMS_EVAL_OUTPUTS, discard_new_files_on_interrupt

    out = tmp_path / "out"
    (out / "old").mkdir(parents=True)
    (out / "old" / "2025_results.json").write_text("{}")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(KeyboardInterrupt), discard_new_files_on_interrupt(out, tmp_path / "fresh"):
        (out / "model").mkdir()
        (out / "model" / "2026_results.json").write_text("{}")
        (out / "old" / "2026_samples_comic_emotion_art.jsonl").write_text("")
        (tmp_path / "fresh" / "site").mkdir(parents=True)
        (tmp_path / "fresh" / "site" / "index.html").write_text("")
        raise KeyboardInterrupt
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "out", "out/notes.txt", "out/old", "out/old/2025_results.json"]
    with pytest.raises(KeyboardInterrupt), discard_new_files_on_interrupt(out, names=LMMS_EVAL_OUTPUTS):
        (out / "2026_results.json").write_text("{}")
        (out / "other.txt").write_text("someone else's")
        raise KeyboardInterrupt
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "old", "other.txt"]
    with discard_new_files_on_interrupt(out):  # no interrupt: everything stays
        (out / "kept.json").write_text("{}")
    assert (out / "kept.json").exists()


@pytest.mark.integration
def test_ctrl_c_during_demo_prints_one_line_exits_130_and_keeps_no_results(tmp_path, demo_root):
    import signal
    import time

    out = tmp_path / "demo"
    command = [CLI, "demo", "--output", str(out), "--limit", "2", "--model", "comic_emotion_majority",
               "--model", "comic_emotion_majority"]
    # A terminal's Ctrl-C signals the whole foreground process group: the test is that group's leader.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True,
                               # A suite started in the background inherits an ignored SIGINT (POSIX shells):
                               # give the child the default, as a terminal's Ctrl-C would find it.
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while not list(out.rglob("*_results.json")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(out.rglob("*_results.json")), "the first model wrote no results"
    # At once: the first model's results exist and the second model's lmms-eval (seconds of start-up) has
    # not finished. A fixed wait here raced the whole second run once bytecode made start-up fast.
    assert process.poll() is None
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-4000:]
    assert stderr.strip().splitlines()[-1] == "comic-emotion: interrupted; no partial output was kept"
    assert sorted(p.name for p in out.rglob("*")) == []
    cache = Path(os.environ["COMIC_EMOTION_CACHE"])
    assert sorted(cache.rglob("*.lock")) == []


# --- 2. regress without evidence --------------------------------------------------------------


def test_regress_without_sample_logs_cannot_judge_and_exits_2(tmp_path):
    baseline = write_run(tmp_path / "base", n=100, correct=0.85)
    candidate = write_run(tmp_path / "cand", n=100, correct=0.6, seed=1, logs=False)
    report = tmp_path / "gate.json"
    done = subprocess.run([CLI, "regress", "--baseline", str(baseline), "--candidate", str(candidate),
                           "--json", str(report)], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "cannot judge" in done.stderr and "--log_samples" in done.stderr and candidate.name in done.stderr
    assert "Cannot judge" in done.stdout and "**regressed**" not in done.stdout
    gate = json.loads(report.read_text())
    assert gate["verdict"] == "cannot judge" and gate["regressed"] is False
    assert {c["verdict"] for c in gate["comparisons"]} <= {"ok", "cannot judge"}


def test_metric_undefined_for_the_candidate_regresses_and_failures_are_listed_first(tmp_path):
    from comic_emotion.leaderboard.regress import compare, gate_exit_code, markdown_summary

    baseline = write_run(tmp_path / "base", n=100, correct=0.85)
    candidate_dir = tmp_path / "cand"
    shutil.copytree(baseline.parent, candidate_dir)
    candidate = candidate_dir / baseline.name
    data = json.loads(candidate.read_text())
    data["results"]["comic_emotion_manga"]["intensity_mae,none"] = None
    candidate.write_text(json.dumps(data))
    rows = compare(baseline, candidate)
    undefined = [r for r in rows if r.task == "comic_emotion_manga" and r.metric == "intensity_mae"]
    assert [(r.verdict, r.regressed) for r in undefined] == [("regressed", True)]
    assert "undefined for the candidate" in undefined[0].reason
    assert gate_exit_code(rows) == 1
    table = [line for line in markdown_summary(rows, baseline="b", candidate="c").splitlines()
             if line.startswith("| comic_emotion")]
    assert "**regressed**" in table[0] and "comic_emotion_manga" in table[0]


# --- 3. partial runs --------------------------------------------------------------------------


def _partial(run: Path, *, limit: int = 10, of: int = 100) -> Path:
    """Turn a written run into what lmms-eval records for ``--limit``: config.limit, fewer effective samples."""
    data = json.loads(run.read_text())
    data["config"]["limit"] = float(limit)
    data["n-samples"] = {t: {"original": of, "effective": limit} for t in data["n-samples"]}
    run.write_text(json.dumps(data))
    return run


def test_leaderboard_add_refuses_a_partial_run_without_allow_partial_and_marks_it(tmp_path):
    run = _partial(write_run(tmp_path / "run", n=10))
    board, site = tmp_path / "board.json", tmp_path / "site"
    add = [CLI, "leaderboard", "add", str(run), "--board", str(board), "--allow-demo"]
    refused = subprocess.run(add, capture_output=True, text=True, check=False)
    assert refused.returncode == 1 and not board.exists()
    assert refused.stderr.strip().splitlines() == [
        f"comic-emotion: error: {run}: partial run: --limit 10, 10 of 100 samples per subtask; "
        "pass --allow-partial to add it (its entry is marked partial)"]
    assert subprocess.run([*add, "--allow-partial"], capture_output=True, text=True, check=False).returncode == 0
    entry = json.loads(board.read_text())["entries"][0]
    assert entry["partial"]["limit"] == 10 and entry["partial"]["samples"]["comic_emotion_art"] == [10, 100]
    full = write_run(tmp_path / "full", n=10)
    subprocess.run([CLI, "leaderboard", "add", str(full), "--board", str(board), "--allow-demo"], check=True,
                   capture_output=True)
    assert len(json.loads(board.read_text())["entries"]) == 2  # the partial entry never stands for the full run
    shown = subprocess.run([CLI, "leaderboard", "render", "--board", str(board), "--out", str(site), "--runs", str(run)],
                           capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    assert "partial run" in (site / "index.html").read_text()
    viewer = next((site / "samples").glob("*.html")).read_text()
    assert "PARTIAL RUN: --limit 10, 10 of 100 samples per subtask; not a full evaluation" in viewer


def test_tables_and_gate_say_a_run_is_partial(tmp_path):
    from comic_emotion.reports.stages import markdown_table
    from comic_emotion.runner import summary_table

    run = _partial(write_run(tmp_path / "run", n=10), limit=10, of=40)
    table = summary_table(json.loads(run.read_text()))
    assert "PARTIAL RUN: --limit 10, 10 of 40 samples per subtask; not a full evaluation" in table.splitlines()
    full = summary_table(json.loads(write_run(tmp_path / "full", n=10).read_text()))
    assert "PARTIAL" not in full
    assert "> PARTIAL RUN: --limit 4, 4 of 100" in markdown_table([], demo=False,
                                                                  partial="partial run: --limit 4, 4 of 100")
    done = subprocess.run([CLI, "regress", "--baseline", str(run), "--candidate", str(run)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "> candidate: partial run: --limit 10, 10 of 40 samples per subtask" in done.stdout
    assert "> DEMO DATA" in done.stdout


@pytest.mark.parametrize(("limit", "message"), [
    ("0", "must be at least 1 sample"), ("-3", "must be at least 1 sample"), ("nan", "must be at least 1"),
    ("abc", "expected a number of samples"), ("2.5", "a whole number"),
    ("101", "more than the 100 samples of comic_emotion_comic (the largest requested subtask); use at most 100"),
])
def test_limit_is_validated_before_anything_runs(limit, message, demo_root):
    from comic_emotion.runner import check_limit

    with pytest.raises(ValueError, match=f"^--limit {limit}: ") as caught:
        check_limit(limit, ["comic_emotion"])
    assert message in str(caught.value)
    assert check_limit("100", ["comic_emotion"]) == 100 and check_limit("0.5", ["comic_emotion_art"]) == 0.5


def test_run_and_demo_refuse_a_bad_limit_in_one_line(tmp_path, demo_root):
    out = tmp_path / "out"
    for command in (["run", "--model", "comic_emotion_majority", "--tasks", "comic_emotion_comic", "--limit", "0",
                     "--output_path", str(out)],
                    ["demo", "--limit", "1000", "--output", str(out)]):
        done = subprocess.run([CLI, *command], capture_output=True, text=True, check=False)
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "--limit" in done.stderr, done.stderr
    assert not out.exists()


# --- 1. CPU without flags the README does not show --------------------------------------------


@pytest.mark.parametrize(("given", "accepted", "expected"), [
    ("pretrained=m", {"pretrained", "device", "device_map"}, "pretrained=m,device=cpu,device_map=cpu"),
    ("pretrained=m,device_map=cpu", {"pretrained", "device", "device_map"}, "pretrained=m,device_map=cpu,device=cpu"),
    ("pretrained=m,device=cuda:1,device_map=auto", {"device", "device_map"}, "pretrained=m,device=cuda:1,device_map=auto"),
    ("", {"train_split", "kwargs"}, ""),
    ("", {"device", "batch_size"}, "device=cpu"),
])
def test_cpu_model_args_add_only_what_the_class_takes_and_the_user_left_out(given, accepted, expected):
    from comic_emotion.runner import cpu_model_args

    assert cpu_model_args(given, accepted)[0] == expected


@pytest.mark.integration
def test_run_on_a_machine_without_gpu_adds_device_cpu_and_says_so(tmp_path, demo_root):
    import torch

    from comic_emotion.testing.tiny_vlm import build_tiny_qwen2_vl

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: the CPU fallback does not apply")
    tiny = build_tiny_qwen2_vl(tmp_path / "qwen2-vl", seed=0)
    out = tmp_path / "out"
    # Only device_map=cpu, as a user would guess: lmms-eval's qwen2_vl then defaults device to cuda.
    done = subprocess.run([CLI, "run", "--model", "qwen2_vl", "--model_args", f"pretrained={tiny},device_map=cpu",
                           "--tasks", "comic_emotion_comic", "--limit", "2", "--gen_kwargs", "max_new_tokens=8",
                           "--output_path", str(out)], capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "comic-emotion: no GPU visible: running qwen2_vl on the CPU (added device=cpu to --model_args)" \
        in done.stderr
    (results,) = out.rglob("*_results.json")
    data = json.loads(results.read_text())
    assert "device=cpu" in data["config"]["model_args"]
    # lmms-eval's own table (lmms-eval alone prints it; `run` leaves it out) names each row by this alias (item 5)
    assert data["results"]["comic_emotion_comic"]["alias"] == "comic_emotion_comic [DEMO DATA: synthetic]"


# --- 5. one typed synthetic flag, on every output --------------------------------------------


def test_the_typed_flag_decides_not_the_display_string():
    from comic_emotion.data import is_synthetic

    assert is_synthetic({"data_synthetic": True, "data_source": "real"})
    assert not is_synthetic({"data_synthetic": False, "data_source": "demo (synthetic; ...)"})
    assert is_synthetic({"data_source": "demo (synthetic; ...)"})  # results written before the flag


def test_demo_split_records_the_typed_flag(demo_root):
    from comic_emotion.data import resolve_split

    assert resolve_split("comic", "test").describe()["data_synthetic"] is True


def test_robustness_json_markdown_and_png_say_demo(tmp_path):
    from test_robustness_report import make_model

    from comic_emotion.reports.robustness import robustness_report
    from comic_emotion.reports.robustness_render import plot

    path, _ = make_model(tmp_path / "a", "model_a", noise=0.5)
    data = json.loads(path.read_text())
    for config in data["configs"].values():
        config["metadata"]["data_synthetic"] = True
    path.write_text(json.dumps(data))
    out = tmp_path / "report"
    done = subprocess.run([CLI, "robustness", str(path), "--out", str(out)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "robustness.json").read_text())["synthetic"] is True
    assert "> DEMO DATA: synthetic panels" in (out / "robustness.md").read_text()
    report = robustness_report([path])
    plot({**report, "synthetic": False}, tmp_path / "real.png")
    assert (out / "robustness.png").read_bytes() != (tmp_path / "real.png").read_bytes()


# --- 7. typos and directories -----------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, check=False)


def test_misspelt_task_and_metric_names_get_a_did_you_mean(tmp_path):
    run = _cli("run", "--model", "comic_emotion_majority", "--tasks", "comic_emotoin_comic",
               "--output_path", str(tmp_path / "out"))
    assert run.returncode == 2 and run.stderr.strip() == (
        "comic-emotion: error: --tasks: unknown task 'comic_emotoin_comic'; did you mean comic_emotion_comic?")
    score = _cli("score", "--task", "comic_emotion_mnaga", "--predictions", str(tmp_path / "p.jsonl"))
    assert score.returncode != 0 and "did you mean comic_emotion_manga?" in score.stderr
    from test_robustness_report import make_model

    path, _ = make_model(tmp_path / "a", "model_a", noise=0.5)
    robust = _cli("robustness", str(path), "--metric", "macro_f")
    assert robust.returncode == 1 and "unknown metric 'macro_f'; did you mean macro_f1?" in robust.stderr
    assert len(robust.stderr.strip().splitlines()) == 1


def test_regress_thresholds_with_a_task_or_metric_typo_are_errors(tmp_path):
    baseline = write_run(tmp_path / "base", n=30)
    thresholds = tmp_path / "t.yaml"
    thresholds.write_text("tasks: {comic_emotion_comc: {macro_f1: {max_drop: 0.5}}}\n")
    done = _cli("regress", "--baseline", str(baseline), "--candidate", str(baseline), "--thresholds", str(thresholds))
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        f"comic-emotion: error: {thresholds}: tasks.comic_emotion_comc: no such task in the runs; did you mean "
        "comic_emotion_comic? tasks: comic_emotion_art, comic_emotion_comic, comic_emotion_manga"]
    thresholds.write_text("metrics: {macro_f: {max_drop: 0.5}}\n")
    done = _cli("regress", "--baseline", str(baseline), "--candidate", str(baseline), "--thresholds", str(thresholds))
    assert done.returncode == 2 and f"{thresholds}: metrics.macro_f: unknown metric 'macro_f'; did you mean " \
        "macro_f1?" in done.stderr


def test_robustness_and_score_given_a_directory_say_what_to_pass(tmp_path):
    run = write_run(tmp_path / "run", n=10)
    robust = _cli("robustness", str(run.parent))
    assert robust.returncode == 1 and "Errno" not in robust.stderr
    assert robust.stderr.strip() == (f"comic-emotion: error: {run.parent}: is a directory; pass the *_results.json "
                                     f"files lmms-eval wrote, e.g. {run}")
    score = _cli("score", "--task", "comic_emotion_comic", "--predictions", str(tmp_path))
    assert score.returncode != 0 and "Errno" not in score.stderr and "is a directory" in score.stderr
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("")
    out = _cli("score", "--task", "comic_emotion_comic", "--predictions", str(predictions), "--out", str(tmp_path))
    assert out.returncode == 2 and "Errno" not in out.stderr and "--out takes the JSON report's file name" in out.stderr


# --- 10. gate configuration ---------------------------------------------------------------------


def test_gate_checks_headline_metrics_by_default_and_more_on_request(tmp_path):
    from comic_emotion.leaderboard.regress import GATED_BY_DEFAULT, compare, load_thresholds

    baseline = write_run(tmp_path / "base", n=30)
    data = json.loads(baseline.read_text())
    for task in ("comic_emotion_comic", "comic_emotion_manga", "comic_emotion_art"):
        data["results"][task]["hamming_loss,none"] = 0.1
    baseline.write_text(json.dumps(data))
    assert {r.metric for r in compare(baseline, baseline)} == {"macro_f1", "accuracy", "intensity_mae"}
    assert set(GATED_BY_DEFAULT) >= {"macro_f1", "accuracy", "intensity_mae", "parse_failure_rate"}
    for text, extra in (("gate: all\n", {"hamming_loss"}), ("metrics: {hamming_loss: {max_drop: 0.1}}\n",
                                                            {"hamming_loss"}), ("gate: [macro_f1]\n", set())):
        path = tmp_path / "t.yaml"
        path.write_text(text)
        metrics = {r.metric for r in compare(baseline, baseline, thresholds=load_thresholds(path))}
        expected = {"macro_f1"} | extra if text.startswith("gate: [") else \
            {"macro_f1", "accuracy", "intensity_mae"} | extra
        assert metrics == expected, text
    path.write_text("gate: everything\n")
    with pytest.raises(ValueError, match=r"t.yaml: gate: expected \"all\" or a list of metric names"):
        load_thresholds(path)


def test_paired_test_on_a_metric_undefined_on_every_resample_warns_nothing():
    import warnings

    from test_leaderboard import make_rows

    from comic_emotion.leaderboard.regress import paired_test

    rows_a, _ = make_rows("t", n=3, correct=0.5, seed=0)
    rows_b, _ = make_rows("t", n=3, correct=0.5, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for metric in ("intensity_pearson", "intensity_spearman"):
            low, high, p, test = paired_test(metric, rows_a, rows_b)
            assert test.startswith("none (") and p is None, (metric, test)


# --- 11. stages -------------------------------------------------------------------------------


def test_missing_base_is_not_reported_as_a_base_mismatch_and_errors_name_the_real_flag(tmp_path):
    from comic_emotion.baselines.staged import CheckpointError, plan_checkpoint
    from comic_emotion.testing.tiny_lora import build_tiny_lora_adapter
    from comic_emotion.testing.tiny_vlm import build_tiny_qwen2_vl

    base = build_tiny_qwen2_vl(tmp_path / "base", seed=0)
    adapter = build_tiny_lora_adapter(base, tmp_path / "stage-art", seed=1)
    missing = tmp_path / "bsae"
    done = _cli("stages", "--model", "qwen2_vl", "--base", str(missing), "--adapters", str(adapter),
                "--output", str(tmp_path / "out"))
    assert done.returncode == 1 and done.stderr.strip() == (
        f"comic-emotion: error: {missing}: base checkpoint not found; pass an existing model directory or a hub id "
        "(e.g. Qwen/Qwen2.5-VL-7B-Instruct)")
    other = tmp_path / "copy"
    other.mkdir()
    with pytest.raises(CheckpointError, match="--no-check-base with comic-emotion stages; check_base=false in "
                                              "--model_args"):
        plan_checkpoint(str(other), [str(adapter)])
    assert not (tmp_path / "out").exists()


def test_leaderboard_names_staged_entries_by_their_stage(tmp_path):
    from comic_emotion.leaderboard import add_results
    from comic_emotion.leaderboard.board import read_board

    board = tmp_path / "board.json"
    common = "model_class=qwen2_vl,pretrained=/m/base"
    runs = [write_run(tmp_path / name, model="comic_emotion_staged", model_args=f"{common}{extra}", seed=i)
            for i, (name, extra) in enumerate([("b", ""), ("a", ",adapters=/m/stage-art"),
                                               ("ab", ",adapters=/m/stage-art+/m/stage-manga"),
                                               ("m", ",adapters=/m/stage-art+/m/stage-manga,merge=true")])]
    swept = write_run(tmp_path / "s", model="comic_emotion_staged", model_args="model_class=qwen2_vl,pretrained=/m/merged",
                      seed=9)
    swept.with_name(swept.name.replace("_results.json", "_results.checkpoint.json")).write_text(json.dumps(
        {"stage": "merged", "base": "/m/base", "merged": True, "adapters": [{"name": "a"}, {"name": "b"}]}))
    add_results(board, [*runs, swept], allow_demo=True)
    entries = {e["model"]: e["stage"] for e in read_board(board)["entries"]}
    assert "comic_emotion_staged" not in entries
    assert entries["qwen2_vl [base]"] == {"name": "base", "index": 0, "base": "/m/base"}
    assert entries["qwen2_vl [+stage-art]"]["index"] == 1
    assert entries["qwen2_vl [+stage-manga]"] == {"name": "+stage-manga", "index": 2, "base": "/m/base"}
    assert [s["index"] for m, s in entries.items() if m == "qwen2_vl [merged]"] == [3]
    assert len(read_board(board)["entries"]) == 5


# --- 8. a corrupt demo cache ------------------------------------------------------------------


def test_truncated_demo_parquet_is_detected_by_its_hash_and_regenerated(tmp_path, monkeypatch, capsys):
    from comic_emotion import data
    from comic_emotion.storage import read_manifest, read_records, sha256_file

    monkeypatch.setenv("COMIC_EMOTION_CACHE", str(tmp_path / "cache"))
    root = data.ensure_demo()
    split = root / "comic" / "test.parquet"
    expected = read_manifest(root / "comic")["splits"]["test"]["sha256"]
    split.write_bytes(split.read_bytes()[:1000])  # a truncated download or an interrupted copy
    data._VERIFIED_DEMO.clear()  # a new process
    assert data.ensure_demo() == root
    assert sha256_file(split) == expected and len(list(read_records(split))) == 100
    err = capsys.readouterr().err
    assert err.strip() == (f"comic-emotion: the demo cache {root} is damaged ({split}: contents differ from the "
                           "sha256 in its manifest); generating it again")
    assert data.ensure_demo() == root and capsys.readouterr().err == ""  # checked once per process
    assert not list((tmp_path / "cache").glob("*.lock"))


# --- 12. one vocabulary -----------------------------------------------------------------------


def _all_help() -> dict[str, str]:
    import argparse

    from comic_emotion.cli.main import build_parser

    parser = build_parser()
    texts = {"comic-emotion": parser.format_help()}
    pending = [("comic-emotion", parser)]
    while pending:
        name, current = pending.pop()
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    texts[f"{name} {sub_name}"] = sub.format_help()
                    pending.append((f"{name} {sub_name}", sub))
    return texts


def test_every_help_text_renders_cleanly():
    texts = _all_help()
    assert {"comic-emotion demo", "comic-emotion stages", "comic-emotion regress", "comic-emotion leaderboard add"} \
        <= set(texts)
    for name, text in texts.items():
        assert "%%" not in text and "%(" not in text, name
        assert "``" not in text and ":func:" not in text and ":class:" not in text, name


@pytest.mark.parametrize(("argv", "dest", "value"), [
    (["demo", "--model_args", "a=1"], "model_args", "a=1"),
    (["demo", "--model-args", "a=1"], "model_args", "a=1"),
    (["demo", "--output_path", "x"], "output", "x"),
    (["demo", "--out", "x"], "output", "x"),
    (["stages", "--model", "m", "--base", "b", "--model_args", "a=1"], "model_args", "a=1"),
    (["stages", "--model", "m", "--base", "b", "--gen_kwargs", "t=1"], "gen_kwargs", "t=1"),
    (["stages", "--model", "m", "--base", "b", "--batch_size", "2"], "batch_size", "2"),
    (["stages", "--model", "m", "--base", "b", "--output_path", "x"], "output", "x"),
    (["robustness", "r.json", "--output", "x"], "out", "x"),
    (["score", "--task", "t", "--predictions", "p", "--output", "x"], "out", Path("x")),
    (["leaderboard", "render", "--board", "b", "--output", "x"], "out", "x"),
])
def test_lmms_eval_spellings_and_their_aliases_are_both_accepted(argv, dest, value):
    from comic_emotion.cli.main import build_parser

    assert getattr(build_parser().parse_args(argv), dest) == value


def test_regress_json_is_a_flag_that_may_name_a_file(tmp_path):
    run = write_run(tmp_path / "run", n=20)
    printed = _cli("regress", "--baseline", str(run), "--candidate", str(run), "--json")
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout)["verdict"] == "ok"
    written = _cli("regress", "--baseline", str(run), "--candidate", str(run), "--json", str(tmp_path / "g.json"))
    assert written.returncode == 0 and json.loads((tmp_path / "g.json").read_text())["verdict"] == "ok"
    assert "No regression" in written.stdout


# --- 9. compact summaries ---------------------------------------------------------------------


def test_stage_delta_markdown_shows_headline_metrics_and_counts_the_rest():
    from comic_emotion.reports.stages import delta_table, markdown_table

    scores = [{"comic_emotion_comic": {m: {"score": s, "ci_low": None, "ci_high": None}
                                       for m, s in (("macro_f1", 0.5 + k / 10), ("hamming_loss", 0.1),
                                                    ("micro_f1", 0.4), ("intensity_mae", None))}}
              for k in range(3)]
    rows = delta_table(["base", "+a", "+b"], scores, ["f0", "f1", "f2"])
    assert len(rows) == 12
    text = markdown_table(rows, demo=False)
    table = [line for line in text.splitlines() if line.startswith("| ") and "stage |" not in line and "---" not in line]
    assert [line.split(" | ")[2] for line in table] == ["macro_f1"] * 3
    assert text.rstrip().endswith("3 undefined (N/A) rows hidden; 6 rows of other metrics in stage_deltas.json.")
    assert len(markdown_table(rows, demo=False, metrics=None).splitlines()) > len(text.splitlines())


@pytest.mark.integration
def test_demo_prints_a_compact_summary_keeps_full_results_and_marks_the_partial_run(tmp_path, demo_root):
    out = tmp_path / "demo"
    done = _cli("demo", "--limit", "3", "--model", "comic_emotion_majority", "--output", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert not [line for line in lines if line.startswith("|")]
    assert any(line.startswith("(lmms-eval's table, ") and "rows, left out" in line for line in lines)
    assert "PARTIAL RUN: --limit 3, 3 of 100 samples per subtask; not a full evaluation" in lines
    (results,) = out.glob("*_results.json")
    comic = json.loads(results.read_text())["results"]["comic_emotion_comic"]
    assert len([k for k in comic if k.endswith(",none")]) > 40  # lmms-eval's results JSON stays complete
    entry = json.loads((out / "leaderboard-demo.json").read_text())["entries"][0]
    assert entry["partial"]["limit"] == 3


def test_summary_table_puts_value_and_ci_in_one_short_cell(tmp_path):
    from comic_emotion.runner import summary_table

    data = json.loads(write_run(tmp_path / "run", n=10).read_text())
    data["results"]["comic_emotion_art"].update({"macro_f1,none": 0.8321, "macro_f1_ci_low,none": 0.8012,
                                                 "macro_f1_ci_high,none": 0.8649})
    row = next(line for line in summary_table(data).splitlines() if line.startswith("comic_emotion_art"))
    assert "0.832 [0.80, 0.86]" in row


# --- 14. the robustness figure ----------------------------------------------------------------


def test_no_worst_case_when_nothing_dropped_and_ablations_are_points_without_hidden_series(tmp_path):
    from test_robustness_report import make_model

    from comic_emotion.reports.robustness import robustness_report
    from comic_emotion.reports.robustness_render import figure, to_markdown

    path, _ = make_model(tmp_path / "same", "model_same", noise=0.0)  # no variant changes an answer
    report = robustness_report([path])
    (group,) = report["groups"]
    assert group["worst_case"] is None
    assert "Worst case: none (no noise perturbation lowered the score)" in to_markdown(report)
    dropped = robustness_report([make_model(tmp_path / "noisy", "model_noisy", noise=0.9)[0]])
    assert dropped["groups"][0]["worst_case"]["score"] < dropped["groups"][0]["clean_score"]

    canvas = figure(report)
    lines = {line.get_label(): line for line in canvas.axes[0].get_lines()}
    ablation = lines["ablation_bubbles (ablation)"]
    assert ablation.get_linestyle() == "None" and len(ablation.get_xdata()) == 1  # a point at its severity only
    curves = [line for label, line in lines.items() if "ablation" not in label]
    assert len(curves) == 3 and all(len(line.get_xdata()) > 1 for line in curves)
    # every series has the same scores here (nothing changed): their x positions must differ to stay visible
    assert len({tuple(line.get_xdata()) for line in lines.values()}) == len(lines)


# --- 13. the leaderboard page -----------------------------------------------------------------


def test_page_uses_words_for_metrics_folds_the_glossary_and_titles_the_viewer(tmp_path):
    from comic_emotion.leaderboard import add_results, render
    from comic_emotion.metrics.registry import metric_spec

    assert [metric_spec(m).display_name for m in ("speaker_ari", "strict_json_f1", "roc_auc_macro", "macro_f1")] \
        == ["Speaker ARI", "Strict-JSON F1", "Macro ROC-AUC", "Macro F1"]
    run = write_run(tmp_path / "run", n=10, date="20250101_153000")
    board = tmp_path / "board.json"
    add_results(board, [run], allow_demo=True)
    index = render(board, tmp_path / "site", runs=[run])
    page = index.read_text()
    assert '<details id="glossary">' in page and "function humanDate" in page
    viewer = next((tmp_path / "site" / "samples").glob("*.html")).read_text()
    assert "<title>Samples of comic_emotion_majority · comic-emotion-bench</title>" in viewer


def test_page_shows_lmms_eval_dates_the_way_people_write_them():
    import re

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (Path(__file__).resolve().parent.parent / "leaderboard" / "page.js").read_text()
    function = re.search(r"  function humanDate\(text\) \{.*?\n  \}\n", script, re.S).group(0)
    done = subprocess.run([node, "-e", function + 'console.log([humanDate("20261203_150447"), '
                           'humanDate("2025-01-01T00-00-00"), humanDate("")].join("|"))'],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "2026-12-03 15:04|2025-01-01 00:00|–"


@pytest.mark.integration
def test_run_leaves_out_lmms_eval_table_and_prints_the_compact_one(tmp_path, demo_root):
    out = tmp_path / "out"
    done = _cli("run", "--model", "comic_emotion_majority", "--tasks", "comic_emotion_comic,comic_emotion_art",
                "--limit", "3", "--output_path", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert not [line for line in lines if line.startswith("|")]
    assert any(line.startswith("(lmms-eval's table, ") for line in lines)
    assert any(line.startswith("comic_emotion_comic  demo ") for line in lines)
    table_lines = [line for line in lines if "INFO" not in line and "WARNING" not in line and line.strip()]
    assert len(table_lines) < 16, "\n".join(table_lines)  # was 110 table rows more


# --- 9 (cont.). lmms-eval's results block, not only its table rows ---------------------------


def _lmms_eval_results_block(results: dict, *, model: str, model_args: str) -> None:
    """Print what lmms-eval 0.7.3's ``cli_evaluate`` prints after a run (its own functions, its format)."""
    import argparse

    from lmms_eval.utils import get_eval_banner, make_table

    args = argparse.Namespace(model=model, model_args=model_args, gen_kwargs="", limit=3.0, offset=0,
                              num_fewshot=None, batch_size="1")
    print(f"{args.model} ({args.model_args}), gen_kwargs: ({args.gen_kwargs}), limit: {args.limit}, offset: "
          f"{args.offset}, num_fewshot: {args.num_fewshot}, batch_size: {args.batch_size}")
    print(get_eval_banner(branch=results.get("git_branch"), commit=results.get("git_hash")))
    print(make_table(results))


def test_table_filter_leaves_out_lmms_eval_banner_and_model_line_with_the_table(tmp_path):
    import io

    from comic_emotion.runner import TableFilter

    results = json.loads(write_run(tmp_path / "run", n=5).read_text())
    results["higher_is_better"] = {t: {} for t in results["results"]}
    results["n-shot"] = {t: 0 for t in results["results"]}
    stream = io.StringIO()
    shown = TableFilter(stream)
    with contextlib.redirect_stdout(shown):
        print("before the run")
        for model in ("comic_emotion_majority", "comic_emotion_late_fusion"):
            _lmms_eval_results_block(results, model=model, model_args="")
            shown.flush()  # a flush between prints must not let a half-judged line through
            print(f"summary of {model}")
    shown.close()
    assert stream.getvalue().splitlines() == ["before the run", "summary of comic_emotion_majority",
                                              "summary of comic_emotion_late_fusion"]
    assert shown.left_out > 20


# --- 3 (cont.). the robustness report of a partial run -----------------------------------------


def test_robustness_json_markdown_and_png_mark_a_partial_run(tmp_path):
    from test_robustness_report import make_model

    from comic_emotion.reports.robustness import robustness_report
    from comic_emotion.reports.robustness_render import plot

    full, _ = make_model(tmp_path / "full", "model_a", noise=0.5)
    partial, _ = make_model(tmp_path / "part", "model_a", noise=0.5)
    data = json.loads(partial.read_text())
    data["config"] = {**(data.get("config") or {}), "limit": 5.0}
    data["n-samples"] = {t: {"original": 60, "effective": 5} for t in data["results"]}
    partial.write_text(json.dumps(data))
    out = tmp_path / "report"
    done = _cli("robustness", str(partial), "--out", str(out))
    assert done.returncode == 0, done.stderr
    note = "partial run: --limit 5, 5 of 60 samples per subtask"
    written = json.loads((out / "robustness.json").read_text())
    assert written["partial"] == note and written["groups"][0]["partial"] == note
    assert "> PARTIAL RUN: --limit 5, 5 of 60 samples per subtask; not a full evaluation" in \
        (out / "robustness.md").read_text()
    report = robustness_report([full])
    assert report["partial"] is None and report["groups"][0]["partial"] is None
    plot({**report, "groups": written["groups"]}, tmp_path / "full.png")  # same numbers, no partial mark
    assert (out / "robustness.png").read_bytes() != (tmp_path / "full.png").read_bytes()


# --- 9 (cont.). the robust group's compact summary ----------------------------------------------


def test_robustness_prints_one_row_per_variant_clean_first_worst_drop_first_and_hides_na(tmp_path):
    import re

    from test_robustness_report import make_model

    from comic_emotion.reports.robustness import robustness_report

    path, _ = make_model(tmp_path / "a", "model_a", noise=0.9)
    report = robustness_report([path])
    scores = {c["task"]: c["score"] for c in report["groups"][0]["cells"]}
    data = json.loads(path.read_text())
    clean = "comic_emotion_robust_comic_clean"
    data["results"][clean].update({"macro_f1,none": report["groups"][0]["clean_score"],
                                   "macro_f1_ci_low,none": 0.5012, "macro_f1_ci_high,none": 0.8649})
    na = "comic_emotion_robust_comic_ocr_noise_s1"
    data["results"][na]["macro_f1,none"] = None  # undefined: our aggregation returns None, written as null
    (path.parent / path.name.replace("results.json", f"samples_{na}.jsonl")).unlink()
    path.write_text(json.dumps(data))
    done = _cli("robustness", str(path), "--out", str(tmp_path / "report"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) < 16, done.stdout
    rows = [line.split() for line in lines if line.split() and line.split()[0] in
            {"clean", "occlusion_patches", "ocr_noise", "translation_ja", "ablation_bubbles"}]
    assert rows[0][:3] == ["clean", f"{report['groups'][0]['clean_score']:.3f}", "[0.50,"]
    shown = [(r[0], r[1]) for r in rows[1:]]
    assert ("ocr_noise", "s1") not in shown and len(shown) == len(scores) - 1
    drops = [float(re.search(r" ([+-]\d+\.\d) % ", " ".join(r) + " ").group(1)) for r in rows[1:]]
    assert drops == sorted(drops, reverse=True)  # worst drop first
    assert "1 rows with macro_f1 undefined (N/A) hidden: comic ocr_noise s1" in lines
    assert lines[-1] == (f"full report (coverage, flip rate, mCE, cross-style): {tmp_path / 'report' / 'robustness.md'}, "
                         "robustness.json, robustness.png")
    full = _cli("robustness", str(path), "--full")
    assert "### Cross-language (translation shift)" in full.stdout and len(full.stdout.splitlines()) > len(lines)


@pytest.mark.integration
def test_run_of_the_robust_group_prints_the_compact_robustness_summary(tmp_path, demo_root):
    out = tmp_path / "out"
    done = _cli("run", "--model", "comic_emotion_majority", "--tasks", "comic_emotion_robust", "--limit", "2",
                "--output_path", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if "INFO" not in line and "WARNING" not in line]
    (results,) = out.rglob("*_results.json")
    assert not [line for line in lines if line.startswith("|") or line.startswith("comic_emotion_robust_comic_")]
    starts = [i for i, line in enumerate(lines) if line.startswith("perturbation ")]
    assert len(starts) == 2  # comic and manga, each with its clean row first
    assert all(lines[i + 2].startswith("clean ") for i in starts)
    assert sum(line.startswith("ocr_noise ") for line in lines) == 6
    assert any(line.startswith(f"every metric of every subtask: {results};") for line in lines)
    assert len([line for line in lines if line.strip()]) < 45
    data = json.loads(results.read_text())
    assert len(data["results"]["comic_emotion_robust_comic_ocr_noise_s3"]) > 40  # lmms-eval's JSON stays complete


# --- 11 (cont.). the stage travels inside lmms-eval's results JSON --------------------------------


@pytest.mark.integration
def test_manual_staged_lmms_eval_run_records_its_stage_and_the_board_names_the_entry_from_it(tmp_path, demo_root):
    from comic_emotion.baselines.staged import plan_checkpoint
    from comic_emotion.testing.tiny_lora import build_tiny_lora_adapter
    from comic_emotion.testing.tiny_vlm import build_tiny_qwen2_vl

    base = build_tiny_qwen2_vl(tmp_path / "base", seed=0)
    adapters = [build_tiny_lora_adapter(base, tmp_path / "stage-art", seed=1),
                build_tiny_lora_adapter(base, tmp_path / "stage-manga", seed=2)]
    out = tmp_path / "out"
    model_args = f"model_class=qwen2_vl,pretrained={base},adapters={adapters[0]}+{adapters[1]},device=cpu,device_map=cpu"
    done = subprocess.run([sys.executable, "-m", "lmms_eval", "--model", "comic_emotion_staged", "--model_args",
                           model_args, "--tasks", "comic_emotion_comic", "--limit", "1", "--gen_kwargs",
                           "max_new_tokens=4", "--output_path", str(out)],
                          capture_output=True, text=True, check=False, timeout=600)
    found = sorted(out.rglob("*_results.json"))
    assert found, done.stderr[-3000:]
    assert not list(out.rglob("*_results.checkpoint.json"))  # no sidecar: the record is in the results JSON
    record = json.loads(found[-1].read_text())["comic_emotion_checkpoint"]
    expected = plan_checkpoint(str(base), [str(a) for a in adapters])
    assert record["stage"] == "+stage-manga" and record["merged"] is False and record["base"] == str(base)
    assert [a["sha256"] for a in record["adapters"]] == [a.sha256 for a in expected.adapters]
    assert record["signature"] == expected.signature
    board = tmp_path / "board.json"
    added = _cli("leaderboard", "add", str(found[-1]), "--board", str(board), "--allow-demo", "--allow-partial")
    assert added.returncode == 0, added.stderr
    (entry,) = json.loads(board.read_text())["entries"]
    assert entry["model"] == "qwen2_vl [+stage-manga]" and entry["stage"]["index"] == 2
    assert f"signature={expected.signature}" in entry["checkpoint"]  # the adapters' contents, not only paths


@pytest.mark.integration
def test_plain_lmms_eval_prints_the_robust_summary_instead_of_thousands_of_rows(tmp_path, demo_root):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "lmms_eval", "--model", "comic_emotion_majority", "--tasks",
                           "comic_emotion_robust,comic_emotion_art", "--limit", "2", "--output_path", str(out)],
                          capture_output=True, text=True, check=False, timeout=600)
    (results,) = out.rglob("*_results.json")
    lines = [line for line in done.stdout.splitlines() if "INFO" not in line and "WARNING" not in line]
    # lmms-eval's rows of a group's subtask read "| - comic_emotion_robust_comic_clean|none|..."
    assert not [line for line in lines if line.startswith("|") and "comic_emotion_robust_" in line], done.stdout[-3000:]
    assert sum(line.startswith("ocr_noise ") for line in lines) == 6
    assert [line for line in lines if line.startswith("|comic_emotion_art ")]  # other tasks keep lmms-eval's rows
    assert any(line.startswith(f"every metric of every subtask: {results};") for line in lines)
    assert len(lines) < 200, len(lines)  # lmms-eval's table alone had about 70 rows per subtask (>2,000)
    data = json.loads(results.read_text())
    assert len(data["results"]["comic_emotion_robust_comic_ocr_noise_s3"]) > 40  # the results JSON stays complete
