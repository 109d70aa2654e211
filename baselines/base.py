"""Shared plumbing of the CPU reference models: an lmms-eval model that answers like a VLM.

A baseline sees the same document a VLM sees (lmms-eval hands models ``task_dict[task][split][doc_id]``),
computes a structured prediction from the canonical record and writes it as the JSON answer the task
prompt asks for, so one parser and one scorer serve VLMs and baselines alike.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from lmms_eval.api.instance import Instance
from lmms_eval.api.model import lmms
from tqdm import tqdm


def answer_json(prediction: Mapping[str, Any]) -> str:
    """Serialise a prediction as the compact JSON answer format of the task prompt."""
    return json.dumps(prediction, ensure_ascii=False, sort_keys=True)


class CpuBaseline(lmms):
    """Base class: resolves the document of each request and delegates to :meth:`predict`.

    ``--model_args`` arrive as strings; subclasses declare theirs as keyword parameters and pass
    the rest here, where unknown keys are rejected (a typo must not silently change a run).
    """

    is_simple = True

    def __init__(self, batch_size: int | str = 1, device: str = "cpu", **unknown: Any) -> None:
        super().__init__()
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown model_args {sorted(unknown)}")
        if str(device) != "cpu" and not str(device).startswith("cuda"):
            raise ValueError(f"{type(self).__name__}: device must be cpu or cuda[:N], got {device!r}")
        self.batch_size_per_gpu = int(batch_size)
        # lazy: torch
        import torch
        import torch.distributed as dist

        self._device = torch.device(device)
        # Under `accelerate launch` lmms-eval has initialised the process group before building the
        # model; each rank answers its own shard of the requests. lmms-eval gathers per-rank counts
        # as tensors on `lm.device`, which must live where the backend can reduce them (NCCL: GPU).
        if dist.is_available() and dist.is_initialized():
            self._rank, self._world_size = dist.get_rank(), dist.get_world_size()
            if dist.get_backend() == "nccl":
                self._device = torch.device("cuda", torch.cuda.current_device())

    @property
    def device(self) -> "torch.device":  # noqa: F821  (torch is imported lazily)
        """Where lmms-eval puts the per-rank tensors it reduces (a GPU under NCCL, else the CPU)."""
        return self._device

    @property
    def rank(self) -> int:
        """This process's rank: lmms-eval shards requests by it (0 when not distributed)."""
        return self._rank

    @property
    def world_size(self) -> int:
        """Number of ranks sharing the requests (1 when not distributed)."""
        return self._world_size

    def doc_of(self, request: Instance) -> dict[str, Any]:
        """The document behind a request, as its task presents it to models.

        The request carries the task's bound ``doc_to_visual``; through its task a perturbed variant
        (``comic_emotion_robust``) hands over the perturbed record, so baselines see what a VLM sees.
        """
        _context, _gen_kwargs, doc_to_visual, doc_id, task, split = request.args
        doc = self.task_dict[task][split][doc_id]
        presented = getattr(getattr(doc_to_visual, "__self__", None), "presented_doc", None)
        return doc if presented is None else presented(doc)

    def image_of(self, request: Instance) -> Any:
        """The image the task shows (after any image perturbation), or ``None``."""
        _context, _gen_kwargs, doc_to_visual, doc_id, task, split = request.args
        visuals = doc_to_visual(self.task_dict[task][split][doc_id])
        return visuals[0] if visuals else None

    def record_of(self, request: Instance) -> dict[str, Any]:
        """The canonical record behind a ``generate_until`` request, as presented."""
        return json.loads(self.doc_of(request)["sample"])

    def predict(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The structured prediction for one record (subclasses implement it)."""
        raise NotImplementedError

    def generate_until(self, requests: list[Instance]) -> list[str]:
        """Answer each request with :meth:`predict` rendered as the JSON a VLM is asked for.

        Answering in the model's text format, rather than handing scores over, sends baselines through
        the same parser and metrics as every VLM.
        """
        answers = []
        for request in tqdm(requests, disable=self.rank != 0, desc=f"{type(self).__name__}"):
            answers.append(answer_json(self.predict(self.record_of(request))))
        return answers

    def loglikelihood(self, requests: list[Instance]) -> list[tuple[float, bool]]:
        """Not available: a CPU baseline has no tokens to score; the error says so instead of lmms-eval's."""
        raise NotImplementedError(f"{type(self).__name__} answers in JSON with per-label confidences; "
                                  "it has no token log-likelihoods")

    def generate_until_multi_round(self, requests: list[Instance]) -> list[str]:
        """Not available: the benchmark's tasks are single-turn, so no baseline keeps a dialogue state."""
        raise NotImplementedError(f"{type(self).__name__} answers single-turn tasks only")
