"""lmms-eval task definitions (YAML) and their thin hooks.

lmms-eval finds tasks by walking directories; :func:`tasks_dir` is the directory to pass as
``--include_path`` when the automatic registration (see :mod:`comic_emotion.lmms_plugin`) is not
available. :func:`task_configs` is the one reader of those YAML files outside lmms-eval.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml


def tasks_dir() -> Path:
    """Absolute path of the directory holding this package's task YAML files."""
    return Path(__file__).resolve().parent


class _TaskLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loader (libyaml where built) that keeps lmms-eval's ``!function`` tags as their plain string."""


_TaskLoader.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))


def read_task_yaml(path: Path) -> Any:
    """One task or group YAML of this package as plain data (``!function utils.x`` stays the string)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_TaskLoader)


@functools.cache
def task_configs() -> dict[str, dict[str, Any]]:
    """Every YAML config of this package's tasks and groups, keyed by task or group name.

    Read once per process (the files are package data): ``comic-emotion run`` consults it several
    times before lmms-eval starts (task-name check, ``--limit`` check, unprepared subtasks), and
    ``comic-emotion score`` reads a subtask's metadata from it. Callers only read the mapping.
    """
    configs: dict[str, dict[str, Any]] = {}
    for path in sorted(tasks_dir().rglob("*.yaml")):
        config = read_task_yaml(path) or {}
        name = config.get("group") if isinstance(config.get("task"), list) else config.get("task")
        if isinstance(name, str):
            configs[name] = {**config, "__file__": str(path)}
    return configs
