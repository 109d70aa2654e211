"""Foundation figures: package import time, demo generation, and the per-sample overhead of the
comic_emotion task over a bare minimal lmms-eval task, same tiny model, same samples, same prompts.

The bare task is the plain lmms-eval way to evaluate local data (``dataset_path: parquet`` with
``data_files``), with the prompts precomputed and a trivial metric. Both run in one process through
lmms-eval's ``simple_evaluate`` with the same model; the per-sample time of each is the slope
between two sample counts, so model loading and task building cancel out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_BARE_YAML = """\
task: bare_minimal
dataset_path: parquet
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_visual: !function bare_utils.doc_to_visual
doc_to_text: !function bare_utils.doc_to_text
doc_to_target: "target"
process_results: !function bare_utils.process_results
generation_kwargs:
  max_new_tokens: {tokens}
  do_sample: false
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1
"""
_BARE_UTILS = """\
def doc_to_visual(doc):
    return [doc["image"].convert("RGB")]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    return doc["prompt"]


def process_results(doc, results):
    return {"exact_match": float(results[0].strip() == doc["target"])}
"""


def _import_seconds() -> tuple[float, float, bool]:
    code = ("import sys, time; t = time.perf_counter(); import comic_emotion, comic_emotion.schema, "
            "comic_emotion.data; d = time.perf_counter() - t; t = time.perf_counter(); import json, pathlib; "
            "r = time.perf_counter() - t; print(d, r, 'torch' in sys.modules or 'lmms_eval' in sys.modules)")
    best = None
    for _ in range(3):
        ours, ref, heavy = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                          check=True).stdout.split()
        if best is None or float(ours) < best[0]:
            best = (float(ours), float(ref), heavy == "True")
    return best


def _bare_task(directory: Path, n: int, tokens: int) -> None:
    """Write the bare task's data (same images and prompts as comic_emotion_comic) and YAML."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from comic_emotion.data import resolve_split
    from comic_emotion.prompts import build_prompt

    table = pq.read_table(resolve_split("comic", "test").path).slice(0, n)
    prompts = [build_prompt(json.loads(s)) for s in table.column("sample").to_pylist()]
    bare = pa.table({"image": table.column("image"), "prompt": prompts, "target": ["-"] * len(prompts)})
    features = {"image": {"_type": "Image"}, "prompt": {"dtype": "string", "_type": "Value"},
                "target": {"dtype": "string", "_type": "Value"}}
    bare = bare.replace_schema_metadata({b"huggingface": json.dumps({"info": {"features": features}}).encode()})
    pq.write_table(bare, directory / "bare.parquet")
    (directory / "bare_minimal.yaml").write_text(_BARE_YAML.format(data=directory / "bare.parquet", tokens=tokens))
    (directory / "bare_utils.py").write_text(_BARE_UTILS)


def _per_sample_seconds(model_dir: Path, include: Path, sizes: tuple[int, int], repeats: int,
                        tokens: int) -> dict[str, float]:
    """Per-sample time of each task in one process, both tasks interleaved, slope between two sample
    counts (best of ``repeats``), so model loading and task building cancel out."""
    from lmms_eval import models
    from lmms_eval.evaluator import simple_evaluate
    from lmms_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(include), include_defaults=False)
    best: dict[tuple[str, int], float] = {}
    for _ in range(repeats):
        for limit in sizes:
            for task in ("bare_minimal", "comic_emotion_comic"):
                start = time.perf_counter()
                # lmms-eval frees the model after each evaluation (lmms.clean), so each run loads it;
                # that cost is the same for both tasks and both sizes, and the slope cancels it.
                lm = models.get_model("qwen2_vl").create_from_arg_string(
                    f"pretrained={model_dir},device=cpu,device_map=cpu", {"batch_size": 1})
                simple_evaluate(model=lm, tasks=[task], task_manager=manager, limit=limit, batch_size=1,
                                gen_kwargs=f"max_new_tokens={tokens}", bootstrap_iters=0, log_samples=False)
                elapsed = time.perf_counter() - start
                best[task, limit] = min(best.get((task, limit), float("inf")), elapsed)
    small, large = sizes
    return {task: (best[task, large] - best[task, small]) / (large - small)
            for task in ("bare_minimal", "comic_emotion_comic")}


def _startup_pair(tmp_path: Path, repeats: int) -> tuple[float, float, bool]:
    """Wall time of bare `lmms-eval` and of `comic-emotion run` on the same one-sample job (best of
    ``repeats``, interleaved), and whether both wrote the same metric values."""
    from comic_emotion.results import read_results, results_files

    job = ["--model", "comic_emotion_majority", "--tasks", "comic_emotion_comic", "--limit", "1"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    best = {"bare": float("inf"), "ours": float("inf")}
    outputs = {}
    for i in range(repeats):
        for name, command in (("bare", [sys.executable, "-m", "lmms_eval"]),
                              ("ours", [sys.executable, "-m", "comic_emotion", "run"])):
            out = tmp_path / f"startup-{name}-{i}"
            start = time.perf_counter()
            subprocess.run([*command, *job, "--output_path", str(out)], check=True, capture_output=True, env=env,
                           cwd=tmp_path)
            best[name] = min(best[name], time.perf_counter() - start)
            outputs[name] = read_results(results_files(out)[-1])["results"]["comic_emotion_comic"]
    same = {k: v for k, v in outputs["bare"].items() if "," in k} == {k: v for k, v in outputs["ours"].items() if "," in k}
    return best["bare"], best["ours"], same


def run(quick: bool) -> list[dict]:
    from comic_emotion.data import ensure_demo
    from comic_emotion.demo.build import build_demo
    from comic_emotion.testing.tiny_vlm import build_tiny_qwen2_vl

    rows = []
    ours, reference, heavy = _import_seconds()
    rows.append({"what": "import comic_emotion (+schema, data)", "ours": ours, "reference": reference, "unit": "s",
                 "ratio": ours / reference if reference else None, "goal": "<= 0.3 s, no torch/lmms_eval",
                 "passed": ours <= 0.3 and not heavy})
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        start = time.perf_counter()
        build_demo(tmp_path / "demo", seed=1)
        seconds = time.perf_counter() - start
        rows.append({"what": "demo set generation (3 domains)", "ours": seconds, "reference": None, "unit": "s",
                     "ratio": None, "goal": "< 15 s", "passed": seconds < 15})
        ensure_demo()
        bare, ours, same = _startup_pair(tmp_path, 2 if quick else 3)
        rows.append({"what": "start-up: comic-emotion run vs bare lmms-eval (1-sample job, same results)",
                     "ours": ours, "reference": bare, "unit": "s", "ratio": ours / bare,
                     "goal": "ours/bare <= 0.5 and identical metrics", "passed": ours / bare <= 0.5 and same})
        tokens, sizes = 8, ((5, 25) if quick else (10, 60))
        model_dir = build_tiny_qwen2_vl(tmp_path / "tiny", seed=0)
        _bare_task(tmp_path, sizes[1], tokens)
        per_sample = _per_sample_seconds(model_dir, tmp_path, sizes, 2 if quick else 3, tokens)
        ratio = per_sample["comic_emotion_comic"] / per_sample["bare_minimal"]
        rows.append({"what": f"per-sample time, tiny Qwen2-VL in one process, slope {sizes[0]}->{sizes[1]} samples",
                     "ours": per_sample["comic_emotion_comic"], "reference": per_sample["bare_minimal"],
                     "unit": "s/sample", "ratio": ratio, "goal": "ours/bare <= 1.05", "passed": ratio <= 1.05})
    return rows
