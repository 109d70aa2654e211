"""Staged LoRA checkpoints: adapters change the model, merging is exact, bad chains fail before anything runs,
and `comic-emotion stages` writes a delta table equal to the differences of the per-stage results files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from comic_emotion.baselines.staged import CheckpointError, StagedCheckpoint, plan_checkpoint
from comic_emotion.sweeps import merge_checkpoint, plan_stages
from safetensors.torch import load_file, save_file

from comic_emotion.testing.tiny_lora import build_tiny_lora_adapter
from comic_emotion.testing.tiny_vlm import build_tiny_qwen2_vl

CPU = "device=cpu,device_map=cpu"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("staged")
    base = build_tiny_qwen2_vl(root / "base", seed=0)
    return {"root": root, "base": base, "A": build_tiny_lora_adapter(base, root / "stage-art", seed=1),
            "B": build_tiny_lora_adapter(base, root / "stage-manga", seed=2)}


def staged(base: Path, extra: str = ""):
    import lmms_eval.models  # noqa: F401  (loads the plugin registry, as the CLI does)

    return StagedCheckpoint.create_from_arg_string(f"model_class=qwen2_vl,pretrained={base},{CPU}{extra}")


def logits(model, ids=((1, 20, 30, 40, 50, 60),)) -> torch.Tensor:
    with torch.no_grad():
        return model.model(input_ids=torch.tensor(ids)).logits


def test_adapters_change_logits_and_merged_equals_unmerged(tiny):
    base = logits(staged(tiny["base"]))
    one = logits(staged(tiny["base"], f",adapters={tiny['A']}"))
    chain = staged(tiny["base"], f",adapters={tiny['A']}+{tiny['B']}")
    merged = staged(tiny["base"], f",adapters={tiny['A']};{tiny['B']},merge=true")
    assert type(chain).__name__ == "StagedQwen2_VL" and type(chain).__mro__[2].__name__ == "Qwen2_VL"
    assert (one - base).abs().max() > 1e-3 and (logits(chain) - one).abs().max() > 1e-3
    torch.testing.assert_close(logits(merged), logits(chain), atol=1e-5, rtol=1e-5)
    # merge_and_unload leaves no LoRA layer behind; the unmerged chain keeps both adapters active
    assert not any("lora_" in name for name, _ in merged.model.named_parameters())
    assert chain.model.active_adapters == ["stage1", "stage2"]
    assert chain.checkpoint.signature != merged.checkpoint.signature != staged(tiny["base"]).checkpoint.signature


def test_signature_is_base_plus_adapter_hashes_in_order(tiny):
    ab = plan_checkpoint(str(tiny["base"]), [tiny["A"], tiny["B"]])
    ba = plan_checkpoint(str(tiny["base"]), [tiny["B"], tiny["A"]])
    assert ab.signature != ba.signature
    record = ab.describe()
    assert [a["name"] for a in record["adapters"]] == ["stage-art", "stage-manga"]
    import hashlib

    weights = tiny["A"] / "adapter_model.safetensors"
    assert record["adapters"][0]["files"]["adapter_model.safetensors"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    with pytest.raises(CheckpointError, match="another order"):
        staged(tiny["base"], f",adapters={tiny['B']}+{tiny['A']},signature={ab.signature}")


def _copy_adapter(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for path in source.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


@pytest.mark.parametrize("problem", ["missing", "other_base", "shape", "corrupt"])
def test_bad_adapter_fails_naming_file_and_fix(tiny, tmp_path: Path, problem: str):
    adapter = _copy_adapter(tiny["A"], tmp_path / "bad")
    config = adapter / "adapter_config.json"
    weights = adapter / "adapter_model.safetensors"
    if problem == "missing":
        adapter, expected = tmp_path / "nope", "adapter directory not found"
    elif problem == "other_base":
        config.write_text(json.dumps({**json.loads(config.read_text()), "base_model_name_or_path": "org/Other-VL"}))
        expected = "trained on base 'org/Other-VL'"
    elif problem == "shape":
        tensors = {k: (v[:, :32].contiguous() if ".lora_A." in k else v) for k, v in load_file(weights).items()}
        save_file(tensors, weights)
        expected = "shape mismatch"
    else:
        weights.write_bytes(weights.read_bytes()[:100])
        expected = "unreadable safetensors"
    with pytest.raises(CheckpointError, match=expected) as error:
        staged(tiny["base"], f",adapters={tiny['B']}+{adapter}")
    assert str(adapter) in str(error.value)


def test_merged_model_in_other_order_than_recorded_is_refused(tiny, tmp_path: Path):
    merged = merge_checkpoint(str(tiny["base"]), [tiny["A"], tiny["B"]], tmp_path / "merged")
    assert [s.name for s in plan_stages(str(tiny["base"]), [tiny["A"], tiny["B"]], merged=str(merged))] == [
        "base", "+stage-art", "+stage-manga", "merged"]
    with pytest.raises(CheckpointError, match="recorded order"):
        plan_stages(str(tiny["base"]), [tiny["B"], tiny["A"]], merged=str(merged))


def cli(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "comic_emotion", *arguments], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env=os.environ.copy(), check=False)


def test_stages_cli_bad_adapter_exits_nonzero_without_results(tiny, tmp_path: Path):
    done = cli("stages", "--model", "qwen2_vl", "--base", str(tiny["base"]), "--adapters", str(tiny["A"]),
               str(tmp_path / "missing"), "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        (f"comic-emotion: error: {tmp_path / 'missing'}: adapter directory not found; pass existing PEFT adapter "
         "directories (comic-emotion stages --adapters A B; in --model_args: adapters=A+B)")]
    assert not (tmp_path / "out").exists()


@pytest.mark.integration
def test_stage_sweep_through_lmms_eval_writes_deltas_of_results_files(tiny, demo_root: Path, tmp_path: Path):
    out = tmp_path / "stages"
    done = cli("stages", "--model", "qwen2_vl", "--base", str(tiny["base"]), "--adapters", str(tiny["A"]),
               str(tiny["B"]), "--save-merged", str(tmp_path / "merged"), "--model-args", CPU, "--limit", "2",
               "--gen-kwargs", "max_new_tokens=16", "--tasks", "comic_emotion_comic", "--output", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    table = json.loads((out / "stage_deltas.json").read_text())
    assert [s["name"] for s in table["stages"]] == ["base", "+stage-art", "+stage-manga", "merged"]
    per_stage = []
    for stage in table["stages"]:
        results = json.loads(Path(stage["results_file"]).read_text())
        assert stage["signature"] in results["config"]["model_args"]
        sidecar = json.loads(Path(stage["results_file"].replace("_results.json", "_results.checkpoint.json")).read_text())
        assert sidecar["signature"] == stage["signature"] and sidecar["adapters"] == stage["adapters"]
        per_stage.append(results["results"]["comic_emotion_comic"])
    rows = [r for r in table["rows"] if r["metric"] == "macro_f1"]
    assert len(rows) == 4
    scores = [entry["macro_f1,none"] for entry in per_stage]
    for k, row in enumerate(rows):
        assert row["score"] == pytest.approx(scores[k], abs=1e-12)
        assert row["delta_base"] == pytest.approx(scores[k] - scores[0], abs=1e-12)
        if k:
            assert row["delta_prev"] == pytest.approx(scores[k] - scores[k - 1], abs=1e-12)
        assert row["ci_low"] is None or row["ci_low"] <= row["score"] + 1e-12 <= row["ci_high"] + 2e-12
    markdown = (out / "stage_deltas.md").read_text()
    assert "| merged | comic_emotion_comic | macro_f1 |" in markdown and "DEMO DATA" in markdown
