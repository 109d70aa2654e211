"""Leaderboard: add / replace / de-duplicate, concurrent writers, schema and bad-input refusals, ranking ties.

Runs are built in the test in lmms-eval 0.7.3's on-disk format (``<date>_results.json`` plus
``<date>_samples_<task>.jsonl`` whose per-metric entries are :func:`sample_row` rows), from
synthetic records whose predictions are right for a chosen share of samples.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
from comic_emotion.leaderboard import add_results
from comic_emotion.leaderboard.board import BoardError, read_board, validate_board
from comic_emotion.leaderboard.ranking import rank_with_ties
from comic_emotion.metrics.scoring import aggregate, sample_row

from comic_emotion.taxonomy import label_set

TASKS = {"comic_emotion_comic": "comic", "comic_emotion_manga": "manga", "comic_emotion_art": "art"}
METRIC_KEYS = ("macro_f1", "accuracy", "intensity_mae")
LABELS = label_set("demo")


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) from its parts (never Python's salted hash)."""
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:8], 16) / 2 ** 32


def make_rows(task: str, *, n: int, correct: float, seed: int, wrong: frozenset[str] = frozenset()) -> tuple:
    """(rows, answers): gold cycles through the label set; a ``correct`` share of answers is right."""
    rows, answers = [], []
    for i in range(n):
        sample_id = f"{task}-{i:05d}"
        gold = LABELS[(i * 5) % len(LABELS)]
        right = _unit(seed, sample_id) < correct and sample_id not in wrong
        pred = gold if right else LABELS[(LABELS.index(gold) + 1) % len(LABELS)]
        answer = json.dumps({"emotions": [pred], "intensity": round(_unit("i", seed, sample_id), 3)})
        record = {"id": sample_id, "label_set": "demo", "emotions": [gold], "intensity": 0.5}
        rows.append(sample_row(record, answer, label_set="demo"))
        answers.append(answer)
    return rows, answers


def write_run(directory: Path, *, model: str = "comic_emotion_majority", model_args: str = "", n: int = 40,
              correct: float = 0.6, seed: int = 0, demo: bool = True, version: str = "1",
              data_tag: str = "v1", tasks: dict[str, str] = TASKS, date: str = "2025-01-01T00-00-00",
              logs: bool = True, wrong: frozenset[str] = frozenset()) -> Path:
    """Write a results file (and sample logs) as lmms-eval 0.7.3 does; returns the results path."""
    directory.mkdir(parents=True, exist_ok=True)
    results, configs = {}, {}
    for task, dataset in tasks.items():
        rows, answers = make_rows(task, n=n, correct=correct, seed=seed, wrong=wrong)
        results[task] = {"alias": task, **{f"{m},none": aggregate(m, rows) for m in METRIC_KEYS},
                         **{f"{m}_stderr,none": "N/A" for m in METRIC_KEYS}}
        configs[task] = {"task": task, "metadata": {
            "version": version, "dataset": dataset, "data_split": "test",
            "data_source": "demo (synthetic; not comparable with published numbers)" if demo else "real",
            "data_hash": hashlib.sha256(f"{dataset}-{data_tag}".encode()).hexdigest(),
            "data_licence": "CC-BY-4.0" if demo else "research-only", "data_non_commercial": not demo,
            "data_path": str(directory / "no-such-data" / "test.parquet")}}
        if logs:
            with (directory / f"{date}_samples_{task}.jsonl").open("w", encoding="utf-8") as handle:
                for doc_id, (row, answer) in enumerate(zip(rows, answers)):
                    handle.write(json.dumps({"doc_id": doc_id, "target": json.dumps({"emotions": row["gold"]}),
                                             "resps": [[answer]], "filtered_resps": [answer],
                                             **{m: row for m in METRIC_KEYS}}) + "\n")
    results["comic_emotion"] = {"alias": "comic_emotion", "macro_f1,none": 0.0}
    payload = {"results": results, "configs": configs, "versions": {t: version for t in tasks},
               "n-samples": {t: {"original": n, "effective": n} for t in tasks},
               "config": {"model": model, "model_args": model_args, "batch_size": "1"},
               "lmms_eval_version": "0.7.3", "date": date}
    path = directory / f"{date}_results.json"
    path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return path


def test_add_creates_a_valid_board_with_cis_and_overall(tmp_path):
    run = write_run(tmp_path / "a", correct=0.7)
    board_path = tmp_path / "board.json"
    assert add_results(board_path, [run], allow_demo=True)[0][1] == "added"
    board = read_board(board_path)
    assert board["data"] == "demo" and len(board["entries"]) == 1
    entry = board["entries"][0]
    comic = entry["tasks"]["comic_emotion_comic"]["metrics"]["macro_f1"]
    low, high = comic["ci"]
    assert low <= comic["value"] <= high and high - low > 0
    values = [entry["tasks"][t]["metrics"]["macro_f1"]["value"] for t in TASKS]
    assert entry["overall"]["value"] == pytest.approx(sum(values) / 3, abs=1e-12)
    assert entry["overall"]["ci"][0] <= entry["overall"]["value"] <= entry["overall"]["ci"][1]
    assert entry["tasks"]["comic_emotion_art"]["n"] == 40 and entry["source"]["sample_logs"] is True


def test_same_key_is_refused_then_replaced_and_other_checkpoints_are_added(tmp_path):
    board_path = tmp_path / "board.json"
    add_results(board_path, [write_run(tmp_path / "a", correct=0.5)], allow_demo=True)
    before = board_path.read_bytes()
    rerun = write_run(tmp_path / "b", correct=0.9)
    with pytest.raises(BoardError, match="already has .*--replace"):
        add_results(board_path, [rerun], allow_demo=True)
    assert board_path.read_bytes() == before
    assert add_results(board_path, [rerun], allow_demo=True, replace=True)[0][1] == "replaced"
    board = read_board(board_path)
    assert len(board["entries"]) == 1
    assert board["entries"][0]["tasks"]["comic_emotion_comic"]["metrics"]["accuracy"]["value"] > 0.8
    add_results(board_path, [write_run(tmp_path / "c", model_args="pretrained=x,device=cpu")], allow_demo=True)
    add_results(board_path, [write_run(tmp_path / "d", model_args="device=cuda:1,pretrained=x")], allow_demo=True,
                replace=True)  # device is not part of the checkpoint identity
    assert len(read_board(board_path)["entries"]) == 2


def _add_one(args: tuple[str, str]) -> None:
    board, run = args
    add_results(board, [run], allow_demo=True)


def test_eight_concurrent_writers_lose_no_entry(tmp_path):
    runs = [str(write_run(tmp_path / f"r{i}", model=f"model-{i}", n=12, logs=False)) for i in range(8)]
    board_path = str(tmp_path / "board.json")
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        pool.map(_add_one, [(board_path, run) for run in runs])
    board = json.loads(Path(board_path).read_text())
    validate_board(board)
    assert sorted(e["model"] for e in board["entries"]) == [f"model-{i}" for i in range(8)]


def test_demo_results_need_allow_demo_and_never_mix_with_real(tmp_path):
    board_path = tmp_path / "board.json"
    with pytest.raises(BoardError, match="--allow-demo"):
        add_results(board_path, [write_run(tmp_path / "demo")], allow_demo=False)
    assert not board_path.exists()
    add_results(board_path, [write_run(tmp_path / "real", demo=False)], allow_demo=False)
    with pytest.raises(BoardError, match="demo results cannot go on the real board"):
        add_results(board_path, [write_run(tmp_path / "demo2", model="other")], allow_demo=True)
    assert read_board(board_path)["entries"][0]["licence"]["non_commercial"] is True


def _corrupt(path: Path, how: str) -> None:
    data = json.loads(path.read_text())
    if how == "truncated":
        path.write_text(path.read_text()[:200])
        return
    if how == "failed run":
        data["results"] = {}
    elif how == "nan":
        data["results"]["comic_emotion_comic"]["macro_f1,none"] = float("nan")
    elif how == "missing metrics":
        data["results"]["comic_emotion_manga"] = {"alias": "comic_emotion_manga"}
    elif how == "unknown metric":
        data["results"]["comic_emotion_art"]["vibes,none"] = 0.3
    elif how == "string metric":
        data["results"]["comic_emotion_art"]["accuracy,none"] = "0.3"
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("how, message", [
    ("truncated", "not valid JSON"), ("failed run", "failed run"), ("nan", "not a finite number"),
    ("missing metrics", "no metrics"), ("unknown metric", "no metadata"), ("string metric", "expected a number"),
])
def test_bad_results_are_refused_and_the_board_is_unchanged(tmp_path, how, message):
    board_path = tmp_path / "board.json"
    add_results(board_path, [write_run(tmp_path / "good")], allow_demo=True)
    before = board_path.read_bytes()
    bad = write_run(tmp_path / "bad", model="bad-model", logs=False)
    _corrupt(bad, how)
    with pytest.raises(BoardError, match=message):
        add_results(board_path, [bad], allow_demo=True)
    assert board_path.read_bytes() == before


@pytest.mark.parametrize("change, field", [({"version": "2"}, "version"), ({"data_tag": "v2"}, "data_hash")])
def test_other_task_version_or_data_manifest_is_refused(tmp_path, change, field):
    board_path = tmp_path / "board.json"
    add_results(board_path, [write_run(tmp_path / "a")], allow_demo=True)
    before = board_path.read_bytes()
    with pytest.raises(BoardError, match=f"{field} is .* but the board has"):
        add_results(board_path, [write_run(tmp_path / "b", model="m2", **change)], allow_demo=True)
    assert board_path.read_bytes() == before


def test_sample_log_of_another_run_is_refused(tmp_path):
    run = write_run(tmp_path / "a", correct=0.5)
    other = write_run(tmp_path / "b", correct=0.9)
    log = next(other.parent.glob("*_samples_comic_emotion_comic.jsonl"))
    (run.parent / log.name).write_bytes(log.read_bytes())
    with pytest.raises(BoardError, match="belongs to another run"):
        add_results(tmp_path / "board.json", [run], allow_demo=True)


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b.update(schema_version="0.9"), "schema_version"),
    (lambda b: b.update(data="both"), "'both' is not one of"),
    (lambda b: b["entries"][0].update(key="XYZ"), "does not match"),
    (lambda b: b["entries"][0]["overall"].update(ci=[0.1]), "too short"),
    (lambda b: b["entries"][0]["tasks"]["comic_emotion_comic"]["metrics"].update(vibes={"value": 1, "ci": None}),
     "no metadata"),
    (lambda b: b["entries"][0].update(extra=1), "Additional properties"),
    (lambda b: b["tasks"].pop("comic_emotion_art"), "missing from the board's tasks"),
])
def test_schema_rejects_invalid_boards(tmp_path, mutate, message):
    board_path = tmp_path / "board.json"
    add_results(board_path, [write_run(tmp_path / "a", logs=False)], allow_demo=True)
    board = json.loads(board_path.read_text())
    mutate(board)
    with pytest.raises(ValueError, match=message):
        validate_board(board)


def test_invalid_board_file_is_an_error_and_left_unchanged(tmp_path):
    board_path = tmp_path / "board.json"
    board_path.write_text('{"schema_version": "1.0", "entries": [')
    with pytest.raises(BoardError, match="not valid JSON"):
        add_results(board_path, [write_run(tmp_path / "a")], allow_demo=True)
    assert board_path.read_text() == '{"schema_version": "1.0", "entries": ['


def test_ranking_ties_within_ci_overlap():
    scores = [{"value": 0.80, "ci": [0.75, 0.85]}, {"value": 0.78, "ci": [0.70, 0.84]},
              {"value": 0.60, "ci": [0.55, 0.65]}, {"value": None, "ci": None},
              {"value": 0.60, "ci": None}, {"value": 0.50, "ci": [0.40, 0.54]}]
    ranks = rank_with_ties(scores)
    assert [r["rank"] for r in ranks] == [1, 1, 3, None, 3, 5]
    assert [r["tied"] for r in ranks] == [True, True, True, False, True, False]
    lower = rank_with_ties([{"value": 0.2, "ci": None}, {"value": 0.1, "ci": None}], lower_is_better=True)
    assert [r["rank"] for r in lower] == [2, 1]


def test_cli_add_and_render_exit_codes(tmp_path):
    run = write_run(tmp_path / "a")
    board = tmp_path / "board.json"
    cli = [str(Path(sys.executable).parent / "comic-emotion"), "leaderboard"]
    refused = subprocess.run([*cli, "add", str(run), "--board", str(board)], capture_output=True, text=True, check=False)
    assert refused.returncode == 1 and "--allow-demo" in refused.stderr and not board.exists()
    assert len(refused.stderr.strip().splitlines()) == 1
    ok = subprocess.run([*cli, "add", str(run), "--board", str(board), "--allow-demo"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    site = tmp_path / "site"
    shown = subprocess.run([*cli, "render", "--board", str(board), "--out", str(site), "--runs", str(run)],
                           capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    page = (site / "index.html").read_text()
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    viewer = next((site / "samples").glob("*.html")).read_text()
    from comic_emotion.leaderboard.render import VIEWER_PAGE_ROWS

    later = "".join(p.read_text() for p in (site / "samples").rglob("*.js"))  # pages loaded on demand
    assert viewer.count("<tr class=") == 3 * VIEWER_PAGE_ROWS and "image not available locally" in viewer
    assert later.count("\\u003ctr class=") == 3 * (40 - VIEWER_PAGE_ROWS)
