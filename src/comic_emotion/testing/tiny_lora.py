"""Tiny PEFT LoRA adapters for the tiny bases of :mod:`comic_emotion.testing.tiny_vlm`, for tests of
adapter loading, stacking and merging (random non-zero weights, so each adapter changes the logits).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from comic_emotion.testing.tiny_vlm import staged_directory


def language_model_linear_names(model) -> list[str]:
    """Qualified names of the ``nn.Linear`` modules of the text decoder (not the vision tower)."""
    # lazy: torch
    import torch

    return [
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and ".language_model." in f".{name}"
    ]


def build_tiny_lora_adapter(
    base_dir: str | Path,
    out_dir: str | Path,
    *,
    seed: int,
    rank: int = 4,
    target_modules: Sequence[str] = ("q_proj", "v_proj"),
) -> Path:
    """Save a PEFT LoRA adapter for a tiny base with random, non-zero weights.

    PEFT initialises ``lora_B`` to zeros, so a fresh adapter leaves the base unchanged; here both
    ``lora_A`` and ``lora_B`` are drawn from a generator seeded with ``seed``, so the adapter
    changes the logits.

    Parameters
    ----------
    base_dir : str or Path
        A directory saved by :func:`build_tiny_qwen2_vl`; recorded as ``base_model_name_or_path``.
    out_dir : str or Path
        Where to save ``adapter_config.json`` and ``adapter_model.safetensors``.
    seed : int
        Seeds the LoRA weights.
    rank : int, default 4
        LoRA rank ``r`` (``lora_alpha`` is set equal, so the scaling is 1).
    target_modules : sequence of str, default ("q_proj", "v_proj")
        Module name suffixes, matched against the text decoder only.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    ValueError
        If ``rank`` is not positive or a target module matches nothing in the text decoder.
    """
    # lazy: torch
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import Qwen2VLForConditionalGeneration

    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise ValueError(f"rank must be a positive int. Got {rank!r} instead.")
    base_dir, target = Path(base_dir), Path(out_dir)
    model = Qwen2VLForConditionalGeneration.from_pretrained(base_dir, dtype=torch.float32)
    text_linears = language_model_linear_names(model)
    missing = [suffix for suffix in target_modules if not any(n.endswith(f".{suffix}") for n in text_linears)]
    if missing:
        raise ValueError(f"target_modules {missing} match no linear layer of the text decoder of {base_dir}.")
    # A full-name regex keeps the vision tower's identically named layers (if any) out of the adapter.
    pattern = r".*\.language_model\..*\.(" + "|".join(map(re.escape, target_modules)) + r")$"
    config = LoraConfig(r=rank, lora_alpha=rank, lora_dropout=0.0, target_modules=pattern, bias="none")
    peft_model = get_peft_model(model, config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in sorted(peft_model.named_parameters()):
            if "lora_A" in name or "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.1)
    peft_model.peft_config["default"].base_model_name_or_path = str(base_dir)
    with staged_directory(target) as staging:
        peft_model.save_pretrained(staging)
        _check_adapter_config(staging, base_dir)
    return target


def _check_adapter_config(directory: Path, base_dir: Path) -> None:
    """PEFT writes the base path it was given; fail loudly if a later version rewrites it."""
    recorded = json.loads((directory / "adapter_config.json").read_text())["base_model_name_or_path"]
    if recorded != str(base_dir):
        raise ValueError(f"adapter_config.json records base {recorded!r}, expected {str(base_dir)!r}.")
