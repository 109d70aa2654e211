"""Leaderboard rank intervals: a paired bootstrap over samples of each entry's rank, checked against an
independent bootstrap written here (NumPy counts, not the package's metrics code), on the board JSON
(schema 1.1, validated) and on the page data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from comic_emotion.leaderboard import add_results
from comic_emotion.leaderboard.board import read_board
from comic_emotion.leaderboard.rank_intervals import rank_table, samples_dir
from comic_emotion.leaderboard.render import page_data
from sklearn.metrics import f1_score
from test_leaderboard import LABELS, TASKS, write_run

N_RESAMPLES, LEVEL = 1000, 0.95


def _log_rows(results: Path, task: str) -> list[dict]:
    prefix = results.name[: -len("results.json")]
    lines = (results.parent / f"{prefix}samples_{task}.jsonl").read_text().splitlines()
    return [json.loads(line)["macro_f1"] for line in lines if line.strip()]


def _onehot(label_lists: list[list[str]]) -> np.ndarray:
    return np.array([[float(label in labels) for label in LABELS] for labels in label_lists])


def _macro_f1_draws(rows: list[dict], weights: np.ndarray) -> np.ndarray:
    """Macro F1 (zero_division 0) per row of bootstrap counts, from per-sample one-hot gold and prediction."""
    gold, pred = _onehot([r["gold"] for r in rows]), _onehot([r["pred"] for r in rows])
    tp, fp, fn = weights @ (gold * pred), weights @ ((1 - gold) * pred), weights @ (gold * (1 - pred))
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return f1.mean(axis=1)


def _independent_intervals(values: dict[str, float], draws: dict[str, np.ndarray]) -> dict[str, list[int]]:
    keys = list(values)
    matrix = np.vstack([draws[k] for k in keys])
    out = {}
    for i, key in enumerate(keys):
        ranks = np.array([1 + sum(matrix[j, b] > matrix[i, b] for j in range(len(keys)))
                          for b in range(matrix.shape[1])])
        ranks.sort()
        # 2.5 % and 97.5 % order statistics of the 1,000 ranks (numpy's "lower" / "higher" quantiles).
        out[key] = [int(ranks[int(np.floor(0.025 * (len(ranks) - 1)))]), int(ranks[int(np.ceil(0.975 * (len(ranks) - 1)))])]
    return out


@pytest.fixture(scope="module")
def board_with_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ranks")
    runs = {name: write_run(root / name, model_args=f"pretrained={name}", n=60, correct=correct, seed=seed)
            for name, correct, seed in (("a", 0.6, 1), ("b", 0.6, 2), ("c", 0.95, 3))}
    board_path = root / "board.json"
    outcome = add_results(board_path, list(runs.values()), allow_demo=True)
    keys = {name: key for name, (key, _) in zip(runs, outcome)}
    return read_board(board_path), runs, keys, board_path


def test_board_rank_intervals_match_an_independent_paired_bootstrap(board_with_runs):
    board, runs, keys, _ = board_with_runs
    assert board["schema_version"] == "1.1"
    block = board["rank_intervals"]
    assert (block["n_resamples"], block["seed"], block["level"]) == (N_RESAMPLES, 0, LEVEL)
    per_task_draws: dict[str, dict[str, np.ndarray]] = {}
    for position, task in enumerate(sorted(TASKS)):
        rows = {name: sorted(_log_rows(path, task), key=lambda r: r["id"]) for name, path in runs.items()}
        n = len(rows["a"])
        # The same resamples for every entry (paired): counts of each sample in each of 1,000 draws.
        index = np.random.default_rng(position).integers(0, n, size=(N_RESAMPLES, n))
        weights = np.stack([np.bincount(row, minlength=n) for row in index]).astype(float)
        draws = {name: _macro_f1_draws(r, weights) for name, r in rows.items()}
        for r in rows.values():  # the counting above is macro F1: check it against scikit-learn once
            full = _macro_f1_draws(r, np.ones((1, n)))[0]
            assert full == pytest.approx(f1_score(_onehot([x["gold"] for x in r]), _onehot([x["pred"] for x in r]),
                                                  average="macro", zero_division=0), abs=1e-12)
        per_task_draws[task] = draws
        values = {name: next(e for e in board["entries"] if e["key"] == keys[name])["tasks"][task]["metrics"]
                  ["macro_f1"]["value"] for name in runs}
        expected = _independent_intervals(values, draws)
        table = block["tables"][task]
        assert table["metric"] == "macro_f1" and table["left_out"] == {}
        assert {name: table["entries"][keys[name]]["interval"] for name in runs} == expected, task
    overall_draws = {name: np.mean([per_task_draws[t][name] for t in sorted(TASKS)], axis=0) for name in runs}
    values = {name: next(e for e in board["entries"] if e["key"] == keys[name])["overall"]["value"] for name in runs}
    expected = _independent_intervals(values, overall_draws)
    overall = block["tables"]["overall"]["entries"]
    assert {name: overall[keys[name]]["interval"] for name in runs} == expected
    # The strong entry is alone in the first tie group; the two weak ones cannot be told apart.
    assert overall[keys["c"]]["interval"] == [1, 1] and overall[keys["c"]]["group"] == 1
    assert overall[keys["a"]]["group"] == overall[keys["b"]]["group"] == 2
    assert overall[keys["c"]]["rank"] == 1 and {overall[keys["a"]]["rank"], overall[keys["b"]]["rank"]} == {2, 3}


def test_page_shows_rank_intervals_and_tie_groups(board_with_runs):
    board, _runs, keys, _ = board_with_runs
    data = page_data(board)
    by_key = {e["key"]: i for i, e in enumerate(data["entries"])}
    strong, weak = data["ranks"]["overall"][by_key[keys["c"]]], data["ranks"]["overall"][by_key[keys["a"]]]
    assert strong["interval"] == [1, 1] and strong["tied"] is False
    assert weak["tied"] is True and weak["group"] == 2
    assert "interval" in data["ranks"]["comic_emotion_comic/macro_f1"][0]


def test_entry_without_sample_logs_is_left_out_with_the_reason(board_with_runs, tmp_path):
    _board, _runs, _keys, board_path = board_with_runs
    copy = tmp_path / "board.json"
    copy.write_text(board_path.read_text())
    (samples_dir(copy)).mkdir()
    for path in samples_dir(board_path).iterdir():
        (samples_dir(copy) / path.name).write_text(path.read_text())
    (key, _), = add_results(copy, [write_run(tmp_path / "d", model_args="pretrained=d", n=60, logs=False)],
                            allow_demo=True)
    tables = read_board(copy)["rank_intervals"]["tables"]
    assert tables["comic_emotion_comic"]["left_out"] == {key: "no sample logs"}
    assert key in tables["overall"]["left_out"] and len(tables["overall"]["entries"]) == 3


def test_rank_table_lower_is_better_and_undefined_draws_rank_last():
    table = rank_table({"x": 0.1, "y": 0.5}, {"x": np.array([0.1, np.nan, 0.2]), "y": np.array([0.5, 0.5, 0.1])},
                       lower_is_better=True)
    assert table["x"]["rank"] == 1 and table["y"]["rank"] == 2
    assert table["x"]["interval"] == [1, 2] and table["y"]["interval"] == [1, 2]
    assert table["x"]["group"] == table["y"]["group"] == 1
