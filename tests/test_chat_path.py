"""lmms-eval's chat model classes score the comic_emotion tasks, and see the same prompt as its simple ones.

lmms-eval 0.7.3 takes a model's chat class by default (``openai``, ``qwen2_5_vl``, ``llava_hf``, ...) and
has only a chat class for others (``async_openai``, ``huggingface``, ...); ``--force_simple`` picks the
simple one. Every run here is the real CLI in a subprocess, against a loopback OpenAI-compatible stub
(``comic_emotion.testing.openai_stub``) or a tiny random model on CPU; assertions read the results JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from comic_emotion.metrics.lmms import metric_keys

from comic_emotion.prompts import build_prompt
from comic_emotion.testing.openai_stub import message_parts, serve_openai_stub

pytestmark = pytest.mark.integration
SUBTASKS = ("comic_emotion_comic", "comic_emotion_manga", "comic_emotion_art")
LIMIT = 2


def run_lmms_eval(*arguments: str, output: Path, tasks_only: bool = False) -> tuple[dict, subprocess.CompletedProcess]:
    """The real CLI; returns its results JSON (failing with the log if it wrote none) and the process.

    ``tasks_only`` skips indexing lmms-eval's built-in task tree (``COMIC_EMOTION_TASKS_ONLY``), seconds of
    start-up; the API-class runs keep the exact command a user types.
    """
    command = [sys.executable, "-m", "lmms_eval", *arguments, "--tasks", "comic_emotion", "--limit", str(LIMIT),
               "--output_path", str(output), "--log_samples"]
    env = {**os.environ, "OPENAI_API_KEY": "stub-key"}  # the openai client insists on a key; the stub ignores it
    if tasks_only:
        env["COMIC_EMOTION_TASKS_ONLY"] = "1"
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=output.parent,
                               check=False)
    found = sorted(output.rglob("*_results.json"))
    assert found, f"no results JSON; exit {completed.returncode}\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    return json.loads(found[-1].read_text()), completed


def first_prompts(demo_root: Path) -> set[str]:
    """The prompts of the first LIMIT test samples of each domain, built here from the stored records."""
    prompts = set()
    for task in SUBTASKS:
        table = pq.read_table(demo_root / task.rsplit("_", 1)[1] / "test.parquet", columns=["sample"])
        prompts |= {build_prompt(json.loads(text)) for text in table.column("sample").to_pylist()[:LIMIT]}
    return prompts


def assert_every_metric(results: dict, backend: str) -> None:
    """Each subtask has every metric key of the task template, and the run took the expected path."""
    assert results["config"]["model_backend"].endswith(f"({backend})"), results["config"]["model_backend"]
    for task in SUBTASKS:
        entry = results["results"][task]
        missing = [key for key in metric_keys() if f"{key},none" not in entry]
        assert not missing, f"{task} lacks {missing}"
        assert entry["macro_f1,none"] is not None and 0.0 <= entry["macro_f1,none"] <= 1.0
    assert results["results"]["comic_emotion"]["macro_f1,none"] is not None


@pytest.mark.parametrize(("model", "flags", "backend"), [
    ("openai", (), "chat"),
    ("openai", ("--force_simple",), "simple"),
    ("async_openai", (), "chat"),
])
def test_openai_classes_score_every_domain_against_a_loopback_server(model: str, flags: tuple[str, ...], backend: str,
                                                                     demo_root: Path, tmp_path: Path):
    with serve_openai_stub() as stub:
        results, _ = run_lmms_eval("--model", model, "--model_args", f"model_version=stub,base_url={stub.base_url}",
                                   *flags, output=tmp_path / "out")
    assert_every_metric(results, backend)
    assert len(stub.requests) == LIMIT * len(SUBTASKS)
    texts = set()
    for body in stub.requests:
        text_parts, images = message_parts(body)
        assert len(images) == 1 and images[0].startswith("data:image/"), "the panel goes as one image part"
        assert len(text_parts) == 1
        texts.add(text_parts[0])
    # The words the server saw are build_prompt's, on either path (so a simple and a chat run see the same).
    assert texts == first_prompts(demo_root)
    for task in SUBTASKS:
        # The stub answers in the requested JSON, so every answer parses: the responses came back through.
        assert results["results"][task]["parse_failure_rate,none"] == 0.0


@pytest.mark.parametrize(("model", "builder", "extra_args"), [
    ("qwen2_5_vl", "build_tiny_qwen2_5_vl", ",min_pixels=3136,max_pixels=12544"),
    ("llava_hf", "build_tiny_llava", ""),
])
def test_tiny_chat_models_score_every_domain_on_cpu(model: str, builder: str, extra_args: str, demo_root: Path,
                                                    tmp_path: Path):
    from comic_emotion.testing import tiny_vlm

    model_dir = getattr(tiny_vlm, builder)(tmp_path / model, seed=0)  # random weights: answers are noise
    results, completed = run_lmms_eval(
        "--model", model, "--model_args", f"pretrained={model_dir},device=cpu,device_map=cpu{extra_args}",
        "--batch_size", "1", "--gen_kwargs", "max_new_tokens=12", output=tmp_path / "out", tasks_only=True)
    assert_every_metric(results, "chat")
    # llava_hf's chat class logs a failed generate and answers "": the answers must be the model's own text.
    assert "in generating" not in completed.stdout + completed.stderr
    answers = [json.loads(line)["filtered_resps"] for path in (tmp_path / "out").rglob("*_samples_*.jsonl")
               for line in path.read_text().splitlines()]
    assert len(answers) == LIMIT * len(SUBTASKS) and all(isinstance(a, str) and a for a in answers), answers


def _requests(task_type: str, names: list[str]) -> dict[str, list]:
    """lmms-eval's own request instances (first LIMIT docs) of each named task, loaded for ``task_type``."""
    from lmms_eval.tasks import TaskManager, get_task_dict

    from comic_emotion.lmms_plugin import TASKS_ONLY_ENV, install_task_path

    assert install_task_path()
    os.environ[TASKS_ONLY_ENV] = "1"
    try:
        tasks = get_task_dict(names, TaskManager(), task_type)
    finally:
        os.environ.pop(TASKS_ONLY_ENV)
    out = {}
    for name in names:
        task = tasks[name]
        task.build_all_requests(limit=LIMIT, rank=0, world_size=1)
        out[name] = [(task, instance) for instance in task.instances]
    return out


def test_simple_and_chat_requests_carry_the_same_prompt_and_images(demo_root: Path):
    """One prompt builder: the chat turn's text is the simple path's prompt, for clean and perturbed variants."""
    names = ["comic_emotion_comic", "comic_emotion_robust_comic_ocr_noise_s5",
             "comic_emotion_robust_comic_occlusion_patches_s5"]
    simple, chat = _requests("simple", names), _requests("chat", names)
    for name in names:
        assert len(simple[name]) == len(chat[name]) == LIMIT
        for (simple_task, s), (chat_task, c) in zip(simple[name], chat[name]):
            # simple: (ctx, generation_kwargs, doc_to_visual, doc_id, task, split)
            # chat:   (ctx, doc_to_messages, generation_kwargs, doc_id, task, split)
            assert isinstance(s.args[1], dict) and isinstance(c.args[2], dict) and callable(c.args[1])
            doc_id, split = s.args[3], s.args[5]
            assert (doc_id, split) == (c.args[3], c.args[5])
            doc = simple_task.dataset[split][doc_id]
            prompt = s.args[0]
            assert prompt == simple_task.doc_to_text(doc) and "Which emotions are expressed?" in prompt
            [turn] = c.args[1](chat_task.dataset[split][doc_id])
            *images, text = turn["content"]
            assert turn["role"] == "user" and text == {"type": "text", "text": prompt}
            simple_images = s.args[2](doc)
            assert [part["type"] for part in images] == ["image"] * len(simple_images) == ["image"]
            assert [im.tobytes() for im in simple_images] == [part["url"].tobytes() for part in images]
    # The perturbed variants change what is shown, on both paths alike.
    def prompts(name: str) -> list[str]:
        return [instance.args[0] for _, instance in simple[name]]

    assert prompts("comic_emotion_robust_comic_ocr_noise_s5") != prompts("comic_emotion_comic")


def test_model_route_names_the_class_and_path_lmms_eval_takes():
    from comic_emotion.model_routes import model_route

    chat = model_route("qwen2_5_vl")
    assert (chat.path, chat.class_path) == ("chat", "lmms_eval.models.chat.qwen2_5_vl.Qwen2_5_VL")
    simple = model_route("qwen2_5_vl", force_simple=True)
    assert (simple.path, simple.class_path) == ("simple", "lmms_eval.models.simple.qwen2_5_vl.Qwen2_5_VL")
    assert model_route("async_openai", force_simple=True).path == "chat"  # no simple class: chat regardless
    with pytest.raises(ValueError, match="no model named 'no_such_model'"):
        model_route("no_such_model")


def test_run_fails_in_one_line_naming_class_path_and_what_to_try(tmp_path: Path):
    """A chat-only class whose backend is not installed: lmms-eval logs, exits 0, writes nothing; we exit 1."""
    completed = subprocess.run(["comic-emotion", "run", "--model", "sglang", "--model_args", "model=x", "--tasks",
                                "comic_emotion_comic", "--limit", "1", "--output_path", str(tmp_path / "out")],
                               capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False)
    assert completed.returncode == 1, completed.stderr[-2000:]
    line = completed.stderr.strip().splitlines()[-1]
    assert line.startswith("comic-emotion: error: model 'sglang' (chat path, class lmms_eval.models.chat.sglang.Sglang)")
    assert "No module named 'sglang'" in line and "install the missing package (sglang)" in line
    assert "--model openai --model_args model_version=NAME,base_url=http://HOST:PORT/v1" in line
