"""Metric figures: vectorised bootstrap vs a per-resample sklearn loop, parser throughput, and
``comic-emotion score`` end to end on 10,000 predictions.

Ratios: bootstrap = sklearn-loop seconds / ours (goal >= 200; ours is the best of 3 runs); parsing =
answers/s / 20,000 (goal >= 1); score = 3 s / ours (goal >= 1; ours is the best of 2 runs, quick, or 3). The sklearn loop uses the very same
resample indices, and its per-resample values must equal ours to 1e-12.

CI aggregation on a real run: lmms-eval's ``simple_evaluate`` on ``comic_emotion_demo`` (3 subtasks)
with ``comic_emotion_majority``, in this process, once with the per-process interval cache (each
metric's bootstrap serves ``_ci_low`` and ``_ci_high``) and once with it switched off (the bootstrap
rerun for every bound, as before issue 18); time spent in our aggregation functions and the number
of bootstrap passes. Goal: half the bootstrap passes (or fewer), identical results, less time.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_SAMPLES, N_LABELS, N_RESAMPLES = 10_000, 8, 1000


def _bootstrap(quick: bool) -> dict:
    import sklearn.metrics as skm
    from comic_emotion.metrics import classification as cls
    from comic_emotion.metrics.bootstrap import bootstrap_sums, resample_indices

    rng = np.random.default_rng(0)
    y_true, y_pred = rng.random((N_SAMPLES, N_LABELS)) < 0.3, rng.random((N_SAMPLES, N_LABELS)) < 0.3

    def macro_f1(s: np.ndarray) -> np.ndarray:
        return cls.prf_from_counts(s.reshape(*s.shape[:-1], 3, N_LABELS), average="macro")[2]

    ours_s = float("inf")
    for _ in range(3):  # best of 3: the least disturbed by the shared machine
        start = time.perf_counter()
        stats = cls.confusion_counts(y_true, y_pred).reshape(N_SAMPLES, -1)
        _, ours = bootstrap_sums(stats, macro_f1, n_resamples=N_RESAMPLES, seed=0, method="percentile")
        ours_s = min(ours_s, time.perf_counter() - start)

    n_loop = 50 if quick else N_RESAMPLES
    idx = resample_indices(N_SAMPLES, n_resamples=N_RESAMPLES, seed=0)[:n_loop]
    start = time.perf_counter()
    loop = [skm.f1_score(y_true[i], y_pred[i], average="macro", zero_division=0) for i in idx]
    loop_s = (time.perf_counter() - start) * N_RESAMPLES / n_loop
    max_diff = float(np.max(np.abs(np.asarray(loop) - ours[:n_loop])))
    ratio = loop_s / ours_s
    return {"what": f"bootstrap macro-F1 CI, {N_SAMPLES} x {N_LABELS} labels x {N_RESAMPLES} resamples"
                    f" (sklearn loop {'extrapolated from ' + str(n_loop) if quick else 'all'} resamples;"
                    f" max |diff| {max_diff:.1e})",
            "ours": ours_s, "reference": loop_s, "unit": "s", "ratio": ratio,
            "goal": ">= 200x faster than a sklearn.f1_score loop, equal to 1e-12",
            "passed": ratio >= 200 and max_diff <= 1e-12}


def _answers(n: int) -> list[str | bytes]:
    rng = random.Random(0)
    labels = ["happy", "sad", "angry", "fear", "surprise", "disgust", "neutral"]
    shapes = [
        lambda: json.dumps({"emotions": rng.sample(labels, 2), "confidence": {labels[0]: 0.8}, "intensity": 0.6,
                            "speaker": "A", "attributions": {"A": [labels[1]]}, "explanation": "she smiles"}),
        lambda: "```json\n" + json.dumps({"emotions": [rng.choice(labels)]}) + "\n```",
        lambda: str({"utterance_emotions": [[rng.choice(labels).title()], ["Neutral"]]}),
        lambda: f"The character looks {rng.choice(['joyful', 'furious', 'terrified', 'calm'])} and a bit surprised.",
        lambda: rng.choice(["怒っているようだ。", "嬉しそうに笑っている", "驚きと恐怖"]),
        lambda: json.dumps({"emotions": [rng.choice(labels)], "explanation": "he shouts"})[:-12],
        lambda: rng.choice(["", "I don't know", "???"]),
    ]
    return [shapes[i % len(shapes)]() for i in range(n)]


def _parsing(quick: bool) -> dict:
    from comic_emotion.metrics.parsing import parse_answer

    from comic_emotion.taxonomy import label_set

    labels = label_set("emorecom")
    answers = _answers(20_000 if quick else 100_000)
    parse_answer(answers[0], labels)
    start = time.perf_counter()
    failed = sum(parse_answer(a, labels).status == "failed" for a in answers)
    rate = len(answers) / (time.perf_counter() - start)
    return {"what": f"answers parsed per second ({len(answers)} mixed EN/JA answers, {failed / len(answers):.0%} "
                    "failures by design)", "ours": rate, "reference": 20_000.0, "unit": "answers/s",
            "ratio": rate / 20_000.0, "goal": ">= 20,000 answers/s", "passed": rate >= 20_000}


def _score(quick: bool, *, explanations: bool = True) -> dict:
    from comic_emotion.storage import write_json_atomic, write_split
    from comic_emotion.taxonomy import label_set

    labels = label_set("emorecom")
    rng = random.Random(1)
    answers = _answers(N_SAMPLES)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data" / "comic"
        root.mkdir(parents=True)
        records = []
        for i in range(N_SAMPLES):
            emotions = sorted(rng.sample(labels, rng.randint(1, 2)), key=labels.index)
            records.append({
                "schema_version": "1.0", "id": f"b{i:05d}", "domain": "comic", "label_set": "emorecom",
                "source": {"dataset": "bench", "licence": "CC0", "synthetic": True}, "emotions": emotions,
                "intensity": round(rng.random(), 2), "characters": [{"actor_id": "A", "name": "Ann"}],
                "attributions": [{"actor_id": "A", "emotion": emotions[0]}],
                "explanations": ["she smiles because she won"] if explanations and i % 2 else [],
                "text_regions": [{"id": "t", "text": "yes!", "lang": "en", "speaker": "A"}]})
        write_split(root / "test.parquet", [(r, None) for r in records])
        write_json_atomic(root / "manifest.json", {"dataset": "comic", "label_set": "emorecom", "synthetic": True,
                                                  "splits": {"test": {"n": N_SAMPLES}}, "licence": "CC0"})
        preds = Path(tmp) / "preds.jsonl"
        preds.write_text("".join(json.dumps({"id": r["id"], "answer": a if isinstance(a, str) else ""}) + "\n"
                                 for r, a in zip(records, answers)), encoding="utf-8")
        env = {**os.environ, "COMIC_EMOTION_DATA": str(Path(tmp) / "data")}
        seconds = float("inf")
        for _ in range(2 if quick else 3):  # best of: the least disturbed by the shared machine
            start = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "comic_emotion", "score", "--task", "comic_emotion_comic",
                                     "--predictions", str(preds), "--out", str(Path(tmp) / "m.json")],
                                    capture_output=True, text=True, env=env, check=False)
            seconds = min(seconds, time.perf_counter() - start)
            if result.returncode != 0:
                raise RuntimeError(f"comic-emotion score failed: {result.stderr.strip()[-300:]}")
    what = ("half with explanation references (BLEU/ROUGE; rouge-score imports nltk)" if explanations
            else "no explanation references")
    return {"what": f"comic-emotion score end to end, {N_SAMPLES} predictions, {what}, every metric with a CI",
            "ours": seconds, "reference": 3.0, "unit": "s", "ratio": 3.0 / seconds, "goal": "< 3 s",
            "passed": seconds < 3.0}


def _ci_aggregation(quick: bool) -> dict:
    from comic_emotion.metrics import lmms, scoring

    from benchmarks.lmms_runs import evaluate
    from comic_emotion.data import ensure_demo

    ensure_demo()
    passes, seconds = [0], [0.0]
    intervals, aggregate = scoring._intervals, lmms.aggregate

    def counted(prepared: dict, **kwargs: object) -> dict:
        passes[0] += bool(prepared)  # a bootstrap pass over at least one defined metric
        return intervals(prepared, **kwargs)

    def timed(key: str, rows: list) -> object:
        start = time.perf_counter()
        try:
            return aggregate(key, rows)
        finally:
            seconds[0] += time.perf_counter() - start

    scoring._intervals, lmms.aggregate = counted, timed
    size = scoring._CI_CACHE_SIZE
    figures: dict[str, tuple[float, int]] = {}
    results = {}
    try:
        for _ in range(1 if quick else 2):
            for name, cache_size in (("reference", 0), ("ours", size)):  # 0: every bound reruns its bootstrap
                scoring._CI_CACHE.clear()
                scoring._CI_CACHE_SIZE = cache_size
                passes[0], seconds[0] = 0, 0.0
                _, out = evaluate(["comic_emotion_demo"])
                results[name] = out["results"]
                if name not in figures or seconds[0] < figures[name][0]:
                    figures[name] = (seconds[0], passes[0])
    finally:
        scoring._intervals, lmms.aggregate, scoring._CI_CACHE_SIZE = intervals, aggregate, size
    same = results["ours"] == results["reference"]
    (ours_s, ours_n), (ref_s, ref_n) = figures["ours"], figures["reference"]
    ratio = ref_s / ours_s
    return {"what": f"CI aggregation, real lmms-eval run (comic_emotion_demo, 3 x 100 samples, majority): "
                    f"{ours_n} bootstraps vs {ref_n} without the interval cache; results identical: {same}",
            "ours": ours_s, "reference": ref_s, "unit": "s", "ratio": ratio,
            "goal": "<= half the bootstraps, identical results, ratio (reference / ours) > 1",
            "passed": 2 * ours_n <= ref_n and same and ratio > 1}


def run(quick: bool) -> list[dict]:
    """The metric figures, measured in this process (the score command in a subprocess)."""
    return [_bootstrap(quick), _parsing(quick), _score(quick), _score(quick, explanations=False),
            _ci_aggregation(quick)]


if __name__ == "__main__":
    for row in run(quick="--full" not in sys.argv):
        print(json.dumps(row))
