"""Staged LoRA checkpoints as an lmms-eval model: a base plus an ordered chain of PEFT adapters.

``--model comic_emotion_staged --model_args model_class=qwen2_5_vl,pretrained=BASE,adapters=A+B[,merge=true]``
builds lmms-eval's own model class (``qwen2_vl``, ``qwen2_5_vl``, ``llava_hf``, ``llama_vision``, ...),
lets it load the base, then replaces its ``_model`` with the base carrying each LoRA adapter in
order (``PeftModel``; with ``merge=true`` each adapter is merged with ``merge_and_unload`` before
the next is loaded). Adapters load once, when the model is built, never per sample.

Every adapter is checked before the base is loaded (directory, ``adapter_config.json``,
``base_model_name_or_path``, readable safetensors) and against the base's layer shapes after it;
each error names the file and the fix. The *checkpoint signature* (base id, sha256 of every adapter
file, in order, merged or not) identifies what was scored; ``signature=sha256:...`` in the model
args makes the run refuse any other chain (say, the adapters in another order).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmms_eval.api.model import lmms

from comic_emotion.storage import canonical_json, sha256_file

SIGNATURE_FILE = "comic_emotion_checkpoint.json"
_ADAPTER_SEPARATORS = re.compile(r"[+;]")
_DTYPES = ("float32", "float16", "bfloat16")


class CheckpointError(ValueError):
    """An adapter chain cannot be applied to the base; the message names the file and the fix."""


@dataclass(frozen=True)
class Adapter:
    """One LoRA adapter directory, its file hashes and the base it was trained on."""

    path: Path
    files: tuple[tuple[str, str], ...]
    base: str | None

    @property
    def name(self) -> str:
        """The directory name, shown in stage labels; the identity is :attr:`sha256`, not the name."""
        return self.path.name

    @property
    def sha256(self) -> str:
        """Hash of the adapter's files (relative names and contents), order-independent within it."""
        return hashlib.sha256("".join(f"{n}\0{h}\n" for n, h in self.files).encode()).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """A base id, an ordered adapter chain and whether it is merged."""

    base: str
    adapters: tuple[Adapter, ...] = ()
    merged: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """The signature record written beside results: base id and every adapter file's sha256, in order."""
        return {
            "base": self.base,
            "merged": self.merged,
            "adapters": [{"name": a.name, "path": str(a.path), "sha256": a.sha256,
                          "files": {n: h for n, h in a.files}} for a in self.adapters],
            "signature": self.signature,
            **self.extra,
        }

    @property
    def signature(self) -> str:
        """Short id of base + adapter hashes (in order) + merged flag, to tell checkpoints apart in tables.

        Adapter paths are left out (their file hashes identify them), so adapters copied elsewhere keep
        the signature; the order is kept, because stages applied in another order give another model.
        """
        core = {"base": self.base, "adapters": [a.sha256 for a in self.adapters], "merged": self.merged}
        return "sha256:" + hashlib.sha256(canonical_json(core).encode()).hexdigest()[:16]


def stage_name(checkpoint: Checkpoint) -> str:
    """What the stage sweep calls a checkpoint: ``base``, ``+<last adapter>`` or ``merged``."""
    if checkpoint.merged:
        return "merged"
    return f"+{checkpoint.adapters[-1].name}" if checkpoint.adapters else "base"


# Checkpoints built in this process, newest last: lmms-eval saves a run's results after scoring the model it
# built for that run, so the newest one whose base and chain match the run's model_args is the one scored.
_BUILT: list[Checkpoint] = []


def checkpoint_record(model_args: str) -> dict[str, Any] | None:
    """The stage record (stage name, base, adapters with sha256, merged, signature) of the staged model
    built in this process for ``model_args``; ``None`` when none was built for them."""
    args = dict(part.split("=", 1) for part in str(model_args).split(",") if "=" in part)
    chain = [str(Path(a)) for a in split_adapters(args.get("adapters", ""))]
    for checkpoint in reversed(_BUILT):
        if checkpoint.base == str(args.get("pretrained", "")) and [str(a.path) for a in checkpoint.adapters] == chain:
            return {"stage": stage_name(checkpoint), **checkpoint.describe()}
    return None


def split_adapters(value: Any) -> list[str]:
    """``A+B`` or ``A;B`` (as ``--model_args`` deliver them) to ``["A", "B"]``."""
    if value in (None, "", False):
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [part.strip() for part in _ADAPTER_SEPARATORS.split(str(value)) if part.strip()]


def _same_base(recorded: str, base: str) -> bool:
    if recorded == base:
        return True
    if os.path.exists(recorded) and os.path.exists(base):
        return os.path.realpath(recorded) == os.path.realpath(base)
    # A hub id and a local copy of it share the last component (Qwen/Qwen2.5-VL-7B-Instruct).
    return Path(recorded.rstrip("/")).name == Path(base.rstrip("/")).name


def read_adapter(path: str | os.PathLike[str], base: str, *, check_base: bool = True) -> Adapter:
    """Check one adapter directory (files, config, base, safetensors header) and hash its files."""
    # lazy: safetensors
    from safetensors import safe_open

    directory = Path(path)
    config_path = directory / "adapter_config.json"
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: adapter directory not found; pass existing PEFT adapter directories "
                              "(comic-emotion stages --adapters A B; in --model_args: adapters=A+B)")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{config_path}: missing; {directory} is not a PEFT adapter (save it with "
                              "PeftModel.save_pretrained)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{config_path}: not valid JSON ({exc}); re-save the adapter") from None
    recorded = config.get("base_model_name_or_path")
    if check_base and recorded and not _same_base(str(recorded), base):
        raise CheckpointError(f"{config_path}: adapter was trained on base {recorded!r}, but the base is {base!r}; "
                              "pass the adapter's base (or, if it is a renamed copy, --no-check-base with "
                              "comic-emotion stages; check_base=false in --model_args)")
    weights = directory / "adapter_model.safetensors"
    if not weights.is_file():
        raise CheckpointError(f"{weights}: missing; only safetensors adapters are read (re-save with "
                              "safe_serialization=True)")
    try:
        with safe_open(str(weights), framework="pt") as handle:
            for key in handle.keys():
                handle.get_slice(key).get_shape()
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise CheckpointError(f"{weights}: unreadable safetensors ({str(exc).splitlines()[0]}); the file is corrupt, "
                              "copy or re-save the adapter") from None
    files = tuple(sorted((p.relative_to(directory).as_posix(), sha256_file(p))
                         for p in directory.rglob("*") if p.is_file()))
    return Adapter(directory, files, str(recorded) if recorded else None)


def _check_base_exists(base: str) -> None:
    """A base written as a local path must exist: otherwise every adapter would report a base mismatch."""
    if os.path.exists(base):
        return
    if base.startswith(("/", "./", "../", "~")) or os.sep + os.sep in base or base.count("/") > 1:
        raise CheckpointError(f"{base}: base checkpoint not found; pass an existing model directory or a hub id "
                              "(e.g. Qwen/Qwen2.5-VL-7B-Instruct)")


def plan_checkpoint(base: str, adapters: Sequence[str], *, merged: bool = False, check_base: bool = True) -> Checkpoint:
    """Check every adapter of the chain before any weights load and return the checkpoint record."""
    _check_base_exists(str(base))
    return Checkpoint(str(base), tuple(read_adapter(a, str(base), check_base=check_base) for a in adapters), merged)


def check_shapes(model: Any, adapter: Adapter) -> None:
    """Every LoRA matrix must fit the base layer it targets; fail naming the adapter file and the layer."""
    # lazy: safetensors
    from safetensors.torch import load_file

    weights = adapter.path / "adapter_model.safetensors"
    try:
        tensors = load_file(str(weights))
    except Exception as exc:
        raise CheckpointError(f"{weights}: unreadable safetensors ({str(exc).splitlines()[0]}); the file is corrupt, "
                              "copy or re-save the adapter") from None
    modules = dict(model.named_modules())
    for key, tensor in tensors.items():
        match = re.match(r"^(?:base_model\.model\.)?(.*)\.lora_([AB])(?:\.[^.]+)?\.weight$", key)
        if not match:
            continue
        name, which = match.groups()
        layer = modules.get(name)
        if layer is None:
            raise CheckpointError(f"{weights}: targets layer {name!r}, which base {getattr(model, 'name_or_path', '')!r} "
                                  "does not have; the adapter is for another base")
        expected = getattr(layer, "in_features", None) if which == "A" else getattr(layer, "out_features", None)
        got = tensor.shape[1] if which == "A" else tensor.shape[0]
        if expected is not None and expected != got:
            side = "input" if which == "A" else "output"
            raise CheckpointError(f"{weights}: lora_{which} of {name!r} has {side} size {got}, the base layer has "
                                  f"{expected}; the adapter is for another base (shape mismatch)")


def apply_adapters(model: Any, adapters: Sequence[Adapter], *, merge: bool) -> Any:
    """The base with every adapter applied in order; merged into the weights one by one if ``merge``."""
    # lazy: PEFT
    from peft import PeftModel

    for adapter in adapters:
        check_shapes(model, adapter)
    if merge:
        for adapter in adapters:
            model = PeftModel.from_pretrained(model, str(adapter.path)).merge_and_unload()
        return model.eval()
    if not adapters:
        return model
    names = [f"stage{i + 1}" for i in range(len(adapters))]
    peft_model = PeftModel.from_pretrained(model, str(adapters[0].path), adapter_name=names[0])
    for name, adapter in zip(names[1:], adapters[1:]):
        peft_model.load_adapter(str(adapter.path), adapter_name=name)
    # LoRA deltas of all active adapters add up: the same function as merging them in order.
    peft_model.base_model.set_adapter(names)
    return peft_model.eval()


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "yes"):
        return True
    if str(value).lower() in ("0", "false", "no", ""):
        return False
    raise ValueError(f"comic_emotion_staged: {name} must be true or false, got {value!r}")


class _StagedMixin:
    """Put before an lmms-eval model class: loads the base through it, then applies the adapter chain."""

    def __init__(self, *, adapters: Any = "", merge: Any = False, signature: Any = "", dtype: str = "",
                 check_base: Any = True, **kwargs: Any) -> None:
        # lazy: torch
        import torch
        from loguru import logger

        base = str(kwargs.get("pretrained", ""))
        if not base:
            raise ValueError("comic_emotion_staged: pretrained=<base checkpoint> is required")
        if dtype and dtype not in _DTYPES:
            raise ValueError(f"comic_emotion_staged: dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
        merge = _bool(merge, "merge")
        checkpoint = plan_checkpoint(base, split_adapters(adapters), merged=merge,
                                     check_base=_bool(check_base, "check_base"))
        if signature and str(signature) != checkpoint.signature:
            raise CheckpointError(f"adapters {[str(a.path) for a in checkpoint.adapters]} give checkpoint signature "
                                  f"{checkpoint.signature}, not the recorded {signature}: the adapters differ from "
                                  "the recorded ones or are in another order; pass them in the recorded order")
        super().__init__(**kwargs)
        if not hasattr(self, "_model"):
            raise TypeError(f"comic_emotion_staged: {type(self).__mro__[2].__name__} keeps its model elsewhere than "
                            "_model; the adapter chain cannot be applied to it")
        model = self.model  # unwrapped from accelerate, if it wrapped it
        if dtype:
            model = model.to(getattr(torch, dtype))
        self._model = apply_adapters(model, checkpoint.adapters, merge=merge)
        self.checkpoint = checkpoint
        _BUILT.append(checkpoint)
        logger.info(f"comic_emotion_staged: base {base} + {len(checkpoint.adapters)} adapter(s) "
                    f"{[a.name for a in checkpoint.adapters]}{' merged' if merge else ''}, "
                    f"signature {checkpoint.signature}")


def staged_class(model_class: str) -> type:
    """The lmms-eval simple class of ``model_class`` with the adapter chain mixed in."""
    # lazy: lmms-eval (imports torch)
    from lmms_eval import models

    inner = models.get_model(model_class, force_simple=True)
    if issubclass(inner, _StagedMixin):
        raise ValueError("comic_emotion_staged: model_class must be an lmms-eval model, not comic_emotion_staged")
    return type(f"Staged{inner.__name__}", (_StagedMixin, inner), {"__module__": __name__})


class StagedCheckpoint(lmms):
    """lmms-eval model ``comic_emotion_staged``: ``model_class=<lmms-eval model>`` plus that class's own args.

    Built only through :meth:`create_from_arg_string` (what lmms-eval calls), which returns an
    instance of ``Staged<Class>``, a subclass of the named lmms-eval class.
    """

    is_simple = True

    @classmethod
    def create_from_arg_string(cls, arg_string: str, additional_config: dict | None = None) -> lmms:
        """Build ``Staged<model_class>`` from ``--model_args``; the only way this model is constructed.

        The class to subclass is only known from the arguments, so the instance is of a class made
        here, not of ``StagedCheckpoint`` itself. Adapter lists, signatures, dtypes and paths are kept
        as strings: lmms-eval turns numeric-looking values into numbers.
        """
        # lazy: lmms-eval (imports torch)
        from lmms_eval.utils import simple_parse_args_string

        args = simple_parse_args_string(arg_string)
        model_class = args.pop("model_class", None)
        if not model_class:
            raise ValueError("comic_emotion_staged: model_args need model_class=<lmms-eval model>, e.g. "
                             "model_class=qwen2_5_vl,pretrained=Qwen/Qwen2.5-VL-7B-Instruct,adapters=A+B")
        for key in ("adapters", "signature", "dtype", "pretrained"):
            if key in args:
                args[key] = str(args[key])  # lmms-eval turns numeric-looking strings into numbers
        extra = {k: v for k, v in (additional_config or {}).items() if v is not None}
        return staged_class(str(model_class))(**args, **extra)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("comic_emotion_staged is built with create_from_arg_string (lmms-eval's --model_args)")

    def loglikelihood(self, requests):  # pragma: no cover - never instantiated
        """Declared because ``lmms`` is abstract; the built ``Staged<Class>`` inherits the real one."""
        raise NotImplementedError

    def generate_until(self, requests):  # pragma: no cover - never instantiated
        """Declared because ``lmms`` is abstract; the built ``Staged<Class>`` inherits the real one."""
        raise NotImplementedError

    def generate_until_multi_round(self, requests):  # pragma: no cover - never instantiated
        """Declared because ``lmms`` is abstract; the built ``Staged<Class>`` inherits the real one."""
        raise NotImplementedError
