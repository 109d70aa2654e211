"""Leaderboard and regression-gate figures against their time budgets.

- ``leaderboard add`` of 1,000 results files (one call) + ``render`` of the 1,000-entry board: goal < 2 s;
- ``regress`` on two runs of 10,000 samples each (three tasks, sample logs, paired bootstrap with
  1,000 resamples and McNemar): goal < 3 s.

Ratio = budget seconds / our seconds (goal >= 1). The inputs are written in lmms-eval 0.7.3's file
format before the clock starts.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from pathlib import Path

TASKS = {"comic_emotion_comic": "comic", "comic_emotion_manga": "manga", "comic_emotion_art": "art"}


def _metadata(dataset: str) -> dict:
    return {"version": "1", "dataset": dataset, "split": "test", "data_source": "real",
            "data_hash": hashlib.sha256(dataset.encode()).hexdigest(), "data_licence": "research-only",
            "data_non_commercial": True}


def _write_results(path: Path, model: str, values: dict[str, dict[str, float]], *, date: str) -> None:
    payload = {"results": {t: {"alias": t, **{f"{k},none": v for k, v in values[t].items()}} for t in TASKS},
               "configs": {t: {"task": t, "metadata": _metadata(d)} for t, d in TASKS.items()},
               "config": {"model": model, "model_args": f"pretrained={model}"},
               "lmms_eval_version": "0.7.3", "date": date}
    path.write_text(json.dumps(payload), encoding="utf-8")


def _board(quick: bool, root: Path) -> dict:
    from comic_emotion.leaderboard import add_results, render

    n = 200 if quick else 1000
    paths = []
    for i in range(n):
        f1 = 0.3 + 0.6 * ((i * 7919) % 1000) / 1000
        values = {t: {"macro_f1": f1, "macro_f1_ci_low": f1 - 0.03, "macro_f1_ci_high": f1 + 0.03,
                      "accuracy": f1 + 0.05, "intensity_mae": 0.2} for t in TASKS}
        path = root / f"m{i:04d}" / "2025-01-01T00-00-00_results.json"
        path.parent.mkdir(parents=True)
        _write_results(path, f"model-{i:04d}", values, date="2025-01-01T00-00-00")
        paths.append(path)
    start = time.perf_counter()
    add_results(root / "board.json", paths, sample_logs=False)
    render(root / "board.json", root / "site")
    ours = (time.perf_counter() - start) * 1000 / n  # scaled to 1,000 entries in quick mode
    return {"what": f"leaderboard add ({n} results files) + render" + (", scaled to 1,000" if quick else ""),
            "ours": ours, "reference": 2.0, "unit": "s", "ratio": 2.0 / ours,
            "goal": "< 2 s for 1,000 entries (ratio = 2 s / ours >= 1)", "passed": ours < 2.0}


def _run_with_logs(directory: Path, *, samples: int, flip: float) -> Path:
    from comic_emotion.metrics.scoring import aggregate, sample_row

    from comic_emotion.taxonomy import label_set

    labels = label_set("demo")
    directory.mkdir(parents=True)
    date = "2025-01-01T00-00-00"
    values = {}
    for task in TASKS:
        rows = []
        with (directory / f"{date}_samples_{task}.jsonl").open("w", encoding="utf-8") as handle:
            for i in range(samples):
                gold = labels[i % len(labels)]
                digest = int(hashlib.sha256(f"{task}{i}".encode()).hexdigest()[:8], 16) / 2 ** 32
                pred = gold if digest >= 0.3 + flip else labels[(i + 1) % len(labels)]
                answer = json.dumps({"emotions": [pred], "intensity": round(digest, 3)})
                row = sample_row({"id": f"{task}-{i}", "label_set": "demo", "emotions": [gold], "intensity": 0.5},
                                 answer, label_set="demo")
                rows.append(row)
                handle.write(json.dumps({"doc_id": i, "resps": [[answer]], "filtered_resps": [answer],
                                         "macro_f1": row, "accuracy": row, "intensity_mae": row}) + "\n")
        values[task] = {m: aggregate(m, rows) for m in ("macro_f1", "accuracy", "intensity_mae")}
    path = directory / f"{date}_results.json"
    _write_results(path, "model", values, date=date)
    return path


def _regress(quick: bool, root: Path) -> dict:
    from comic_emotion.leaderboard.regress import compare, load_thresholds, markdown_summary, to_json

    per_task = 3334  # three tasks: 10,002 samples per run
    base = _run_with_logs(root / "base", samples=per_task, flip=0.0)
    cand = _run_with_logs(root / "cand", samples=per_task, flip=0.05)
    start = time.perf_counter()
    rows = compare(base, cand, thresholds=load_thresholds(None))
    markdown_summary(rows, baseline=str(base), candidate=str(cand))
    to_json(rows, baseline=str(base), candidate=str(cand))
    ours = time.perf_counter() - start
    return {"what": f"regress, two runs of {3 * per_task} samples (3 tasks x 3 metrics, paired bootstrap 1000)",
            "ours": ours, "reference": 3.0, "unit": "s", "ratio": 3.0 / ours,
            "goal": "< 3 s (ratio = 3 s / ours >= 1)", "passed": ours < 3.0 and any(r.regressed for r in rows)}


def run(quick: bool) -> list[dict]:
    """Both figures; ``quick`` adds 200 entries (time scaled to 1,000) instead of 1,000."""
    with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as tmp:
        root = Path(tmp)
        (root / "board").mkdir()
        (root / "gate").mkdir()
        return [_board(quick, root / "board"), _regress(quick, root / "gate")]


if __name__ == "__main__":
    for figure in run(quick=False):
        print(json.dumps(figure))
