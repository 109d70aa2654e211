"""Helpers for benchmarks that run the real lmms-eval evaluator in this process (not a bench module).

:func:`evaluate` runs ``simple_evaluate`` on our tasks only (the task index holds only our task folder,
as ``comic-emotion run`` does), with a CPU baseline model, and returns its wall time and results.
"""

from __future__ import annotations

import time
from typing import Any

_MANAGER: Any = None


def evaluate(tasks: list[str], *, model: str = "comic_emotion_majority", limit: int | None = None) -> tuple[float, dict]:
    """Seconds of one ``simple_evaluate`` (model built inside, as the CLI does) and its results dict."""
    global _MANAGER
    from comic_emotion.tasks import tasks_dir
    from lmms_eval.evaluator import simple_evaluate
    from lmms_eval.tasks import TaskManager

    if _MANAGER is None:
        _MANAGER = TaskManager(include_path=str(tasks_dir()), include_defaults=False)
    start = time.perf_counter()
    results = simple_evaluate(model=model, model_args="", tasks=tasks, task_manager=_MANAGER, limit=limit,
                              batch_size=1, bootstrap_iters=0, log_samples=False)
    return time.perf_counter() - start, results
