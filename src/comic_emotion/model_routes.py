"""Which lmms-eval model class and request path a ``--model`` name takes, and what to try when it fails.

lmms-eval 0.7.3 resolves a model name through its model registry (``lmms_eval.models.registry_v2``):
the *chat* class when the name has one, the *simple* class with ``--force_simple`` or when there is no
chat class. :func:`model_route` reads that resolution without importing the class (importing is what
fails when a backend such as vLLM or SGLang is not installed); :func:`failure_message` turns a failed
run into one line naming the class, the path and what to try.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SERVE_HINT = ("or serve the checkpoint with an OpenAI-compatible server (e.g. `vllm serve CKPT`) and score it with "
              "--model openai --model_args model_version=NAME,base_url=http://HOST:PORT/v1")


@dataclass(frozen=True)
class ModelRoute:
    """The resolution of one ``--model`` name: the class lmms-eval runs and the other class it could run."""

    name: str
    path: Literal["simple", "chat"]
    class_path: str
    simple_class_path: str | None
    chat_class_path: str | None

    def describe(self) -> str:
        """``model 'NAME' (chat path, class lmms_eval.models.chat.X.Y)``."""
        return f"model '{self.name}' ({self.path} path, class {self.class_path})"


def model_route(name: str, *, force_simple: bool = False) -> ModelRoute:
    """How lmms-eval resolves ``--model name`` (with or without ``--force_simple``).

    Raises
    ------
    ValueError
        If lmms-eval has no model of that name (the message lists how to see the names).
    """
    from lmms_eval.models import MODEL_REGISTRY_V2  # lazy: lmms-eval's model registry imports torch

    try:
        resolved = MODEL_REGISTRY_V2.resolve(name, force_simple=force_simple)
    except (KeyError, ValueError):
        raise ValueError(f"lmms-eval has no model named '{name}' (python -c \"from lmms_eval.models import "
                         f"MODEL_REGISTRY_V2; print(MODEL_REGISTRY_V2.list_model_names())\" lists them)") from None
    manifest = MODEL_REGISTRY_V2.get_manifest(name)
    return ModelRoute(name=name, path=resolved.model_type, class_path=resolved.class_path,
                      simple_class_path=manifest.simple_class_path, chat_class_path=manifest.chat_class_path)


def failure_message(route: ModelRoute, problem: str, error: BaseException | None = None) -> str:
    """One line: which class on which path failed, the error lmms-eval caught, and what to try.

    >>> route = ModelRoute("qwen2_5_vl", "chat", "lmms_eval.models.chat.qwen2_5_vl.Qwen2_5_VL",
    ...                    "lmms_eval.models.simple.qwen2_5_vl.Qwen2_5_VL", "lmms_eval.models.chat.qwen2_5_vl.Qwen2_5_VL")
    >>> failure_message(route, "no results").split("; try: ")[1].split(", ")[0]
    'rerun with --force_simple (its simple class lmms_eval.models.simple.qwen2_5_vl.Qwen2_5_VL)'
    """
    tries = []
    missing = re.search(r"No module named '([^']+)'", str(error or ""))
    if missing:
        tries.append(f"install the missing package ({missing.group(1).split('.')[0]})")
    if route.path == "chat" and route.simple_class_path:
        tries.append(f"rerun with --force_simple (its simple class {route.simple_class_path})")
    elif route.path == "simple" and route.chat_class_path:
        tries.append(f"rerun without --force_simple (its chat class {route.chat_class_path})")
    tries.append("check --model_args against the class's __init__")
    tries.append(SERVE_HINT)
    cause = "" if error is None else f" ({type(error).__name__}: {' '.join(str(error).split())[:300]})"
    return f"{route.describe()} {problem}{cause}; try: {', '.join(tries)}; --verbosity DEBUG shows the traceback"
