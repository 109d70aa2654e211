"""The tiny random Qwen2-VL fixture loads offline, generates, runs through lmms-eval, and takes LoRA adapters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from comic_emotion.testing.tiny_lora import build_tiny_lora_adapter
from comic_emotion.testing.tiny_vlm import SPECIAL_TOKENS, build_tiny_qwen2_vl

# A task written for this test only: two generated images, exact match against a fixed word.
_TASK_YAML = """\
task: tiny_vlm_smoke
class: !function utils.TinyTask
dataset_path: tiny_vlm_smoke
test_split: test
output_type: generate_until
doc_to_visual: !function utils.doc_to_visual
doc_to_text: !function utils.doc_to_text
doc_to_target: answer
process_results: !function utils.process_results
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
generation_kwargs:
  max_new_tokens: 4
  temperature: 0
  do_sample: false
metadata:
  version: 1
"""
_TASK_UTILS = """\
import datasets
from PIL import Image
from lmms_eval.api.task import ConfigurableTask


class TinyTask(ConfigurableTask):
    def __init__(self, *args, config=None, **kwargs):
        if config is not None:
            config = dict(config)
            config.pop("class", None)
        super().__init__(*args, config=config, **kwargs)

    def download(self, dataset_kwargs=None):
        images = [Image.new("RGB", (64, 48), (200, 40, 40)), Image.new("RGB", (40, 72), (40, 40, 200))]
        rows = {"id": ["p1", "p2"], "image": images, "question": ["Which emotion?", "Is the face happy?"],
                "answer": ["joy", "yes"]}
        self.dataset = datasets.DatasetDict({"test": datasets.Dataset.from_dict(rows)})
        self.dataset_no_image = self.dataset.copy()


def doc_to_visual(doc):
    return [doc["image"].convert("RGB")]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    return doc["question"]


def process_results(doc, results):
    return {"exact_match": float(results[0].strip() == doc["answer"])}
"""


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_qwen2_vl(tmp_path_factory.mktemp("tiny") / "qwen2-vl", seed=0)


def _chat_inputs(processor, image: Image.Image, question: str):
    messages = [
        {"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": question}]}
    ]
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return processor(text=[text], images=[image], return_tensors="pt")


def test_saved_model_loads_offline_and_generates_from_chat_prompt_with_image(tiny_dir: Path):
    from transformers import AutoProcessor, Qwen2VLForConditionalGeneration

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    model = Qwen2VLForConditionalGeneration.from_pretrained(tiny_dir, dtype="auto", device_map="cpu").eval()
    processor = AutoProcessor.from_pretrained(tiny_dir)
    assert 100_000 < sum(p.numel() for p in model.parameters()) < 500_000
    vocabulary = processor.tokenizer.get_vocab()
    assert all(token in vocabulary for token in SPECIAL_TOKENS)
    assert model.config.image_token_id == vocabulary["<|image_pad|>"]
    assert (
        processor.tokenizer.eos_token_id == model.config.text_config.eos_token_id == vocabulary["<|im_end|>"]
    )
    inputs = _chat_inputs(
        processor, Image.new("RGB", (80, 60), (200, 30, 30)), "Which emotion does she show?"
    )
    # 80x60 is resized to 84x56: 6x4 patches of 14 px, merged 2x2 into 6 image tokens.
    assert inputs["image_grid_thw"].tolist() == [[1, 4, 6]]
    assert int((inputs["input_ids"] == model.config.image_token_id).sum()) == 6
    prompt_text = processor.batch_decode(inputs["input_ids"])[0]
    assert prompt_text.startswith(
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
    )
    assert prompt_text.endswith("Which emotion does she show?<|im_end|>\n<|im_start|>assistant\n")
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=4, do_sample=False)
    new_tokens = output[0, inputs["input_ids"].shape[1] :]
    assert 1 <= new_tokens.numel() <= 4 and int(new_tokens.max()) < len(processor.tokenizer)
    assert isinstance(processor.batch_decode(new_tokens[None], skip_special_tokens=True)[0], str)


def test_weights_are_a_function_of_the_seed(tiny_dir: Path, tmp_path: Path):
    same = load_file(build_tiny_qwen2_vl(tmp_path / "same", seed=0) / "model.safetensors")
    other = load_file(build_tiny_qwen2_vl(tmp_path / "other", seed=1) / "model.safetensors")
    reference = load_file(tiny_dir / "model.safetensors")
    assert same.keys() == reference.keys() and all(torch.equal(same[k], reference[k]) for k in reference)
    assert not torch.equal(other["lm_head.weight"], reference["lm_head.weight"])
    assert (tmp_path / "same" / "tokenizer.json").read_bytes() == (tiny_dir / "tokenizer.json").read_bytes()


def _logits(model, inputs) -> torch.Tensor:
    with torch.no_grad():
        return model(**inputs).logits


def test_lora_adapter_changes_logits_and_merges_to_the_same_logits(tiny_dir: Path, tmp_path: Path):
    from peft import PeftModel
    from transformers import AutoProcessor, Qwen2VLForConditionalGeneration

    adapter_dir = build_tiny_lora_adapter(tiny_dir, tmp_path / "lora", seed=3, rank=4)
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(tiny_dir) and config["r"] == 4
    weights = load_file(adapter_dir / "adapter_model.safetensors")
    assert len(weights) == 2 * 2 * 2  # (q_proj, v_proj) x 2 layers x (lora_A, lora_B)
    assert all(".language_model." in name and "visual" not in name for name in weights)
    assert all(bool(tensor.abs().sum() > 0) for tensor in weights.values())

    processor = AutoProcessor.from_pretrained(tiny_dir)
    inputs = _chat_inputs(processor, Image.new("RGB", (56, 56), (10, 200, 10)), "How does he feel?")
    base = Qwen2VLForConditionalGeneration.from_pretrained(tiny_dir, dtype=torch.float32).eval()
    base_logits = _logits(base, inputs)
    adapted = PeftModel.from_pretrained(base, adapter_dir).eval()
    adapted_logits = _logits(adapted, inputs)
    assert (adapted_logits - base_logits).abs().max() > 1e-3
    merged = adapted.merge_and_unload()
    torch.testing.assert_close(_logits(merged, inputs), adapted_logits, rtol=0, atol=1e-5)


def test_adapter_target_outside_text_decoder_is_rejected(tiny_dir: Path, tmp_path: Path):
    # "qkv" is the vision tower's fused attention projection: not a text-decoder module.
    with pytest.raises(
        ValueError, match=r"target_modules \['qkv'\] match no linear layer of the text decoder"
    ):
        build_tiny_lora_adapter(tiny_dir, tmp_path / "lora", seed=0, target_modules=("q_proj", "qkv"))
    assert not (tmp_path / "lora").exists()


@pytest.mark.integration
def test_lmms_eval_qwen2_vl_class_runs_the_tiny_model(tiny_dir: Path, tmp_path: Path):
    task_dir = tmp_path / "task"
    task_dir.mkdir()
    (task_dir / "tiny_vlm_smoke.yaml").write_text(_TASK_YAML)
    (task_dir / "utils.py").write_text(textwrap.dedent(_TASK_UTILS))
    output = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "lmms_eval",
        "--model",
        "qwen2_vl",
        "--model_args",
        f"pretrained={tiny_dir},device=cpu,device_map=cpu",
        "--tasks",
        "tiny_vlm_smoke",
        "--include_path",
        str(task_dir),
        "--limit",
        "2",
        "--batch_size",
        "1",
        "--output_path",
        str(output),
        "--log_samples",
    ]
    # Only the include_path task is needed: skip indexing lmms-eval's ~1,900 built-in task files.
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", COMIC_EMOTION_TASKS_ONLY="1")
    completed = subprocess.run(
        command, check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    found = sorted(output.rglob("*_results.json"))
    # lmms-eval exits 0 even when a task fails, so the results file is the evidence.
    assert found, (
        f"no results JSON; exit {completed.returncode}\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    )
    results = json.loads(found[-1].read_text())
    assert {"results", "configs", "versions", "n-samples", "higher_is_better", "config"} <= set(results)
    assert results["config"]["limit"] == 2
    assert results["versions"]["tiny_vlm_smoke"] == results["configs"]["tiny_vlm_smoke"]["metadata"]["version"] == 1
    assert results["n-samples"]["tiny_vlm_smoke"] == {"original": 2, "effective": 2}
    assert results["higher_is_better"]["tiny_vlm_smoke"] == {"exact_match": True}
    entry = results["results"]["tiny_vlm_smoke"]
    (samples,) = output.rglob("*_samples_tiny_vlm_smoke.jsonl")
    logged = {row["doc_id"]: row for row in map(json.loads, samples.read_text().splitlines())}
    assert sorted(logged) == [0, 1]
    # process_results saw each answer: its per-doc score is the exact match of the logged answer, and the
    # aggregate and lmms-eval's stderr (sample sd / sqrt(n), its built-in `mean`) come from those scores.
    scores = [logged[i]["exact_match"] for i in (0, 1)]
    assert scores == [float(logged[i]["filtered_resps"].strip() == logged[i]["target"]) for i in (0, 1)]
    assert entry["exact_match,none"] == pytest.approx(sum(scores) / 2)
    assert entry["exact_match_stderr,none"] == pytest.approx(abs(scores[0] - scores[1]) / 2)
    # The same greedy answer in-process, from the messages lmms-eval builds: the CLI used our
    # processor, chat template and weights, not some default.
    assert logged[0]["filtered_resps"] == _answer_as_lmms_eval_does(
        tiny_dir, Image.new("RGB", (64, 48), (200, 40, 40)), "Which emotion?"
    )


def _answer_as_lmms_eval_does(model_dir: Path, image: Image.Image, question: str) -> str:
    from lmms_eval.models.model_utils.media_encoder import encode_image_to_data_url
    from qwen_vl_utils import process_vision_info
    from transformers import AutoProcessor, Qwen2VLForConditionalGeneration

    # lmms_eval/models/simple/qwen2_vl.py: a JPEG data URL, its default pixel bounds and system prompt.
    url = encode_image_to_data_url(
        image, image_format="JPEG", mime_type="image/jpeg", convert_rgb=True, quality=85
    )
    visual = {"type": "image", "image": url, "max_pixels": 602112, "min_pixels": 3136}
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": [visual, {"type": "text", "text": question}]},
    ]
    processor = AutoProcessor.from_pretrained(model_dir, max_pixels=602112, min_pixels=3136)
    model = Qwen2VLForConditionalGeneration.from_pretrained(model_dir, dtype="auto", device_map="cpu").eval()
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    images, _ = process_vision_info([messages])
    inputs = processor(text=[text], images=images, padding=True, return_tensors="pt")
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=4, do_sample=False)
    answer = output[0, inputs["input_ids"].shape[1] :]
    eos = (answer == processor.tokenizer.eos_token_id).nonzero()
    answer = answer[: int(eos[0])] if len(eos) else answer
    return processor.batch_decode(answer[None], skip_special_tokens=True)[0].strip()
