"""lmms-eval plugin: model registration and task discovery for ``lmms-eval --tasks comic_emotion``.

lmms-eval 0.7.3 loads model manifests from the ``lmms_eval.models`` entry-point group when it imports
``lmms_eval.models``, which happens before its CLI builds the ``TaskManager``; it has no entry-point
group for tasks. :func:`register` is that entry point: it returns our model manifests and, once,
wraps ``TaskManager.initialize_tasks`` so that this package's task directory is indexed next to the
built-in tasks and any ``--include_path``; it wraps ``TaskManager._get_config`` so that the
``comic_emotion`` group, read from our YAML, gets the subtasks chosen at load time by
:func:`comic_emotion.tasks.suites.apply_headline` (the prepared real corpora, or the demo set with
an alias and a log line saying so); and it wraps ``TaskManager.load_task_or_group`` so that each
comic_emotion task it builds is told lmms-eval's ``task_type`` (``simple`` or ``chat``, from the model
class's ``is_simple``), which lmms-eval passes to its own YAML tasks but not to ``class:`` tasks such
as ours (see :class:`comic_emotion.tasks.hooks.ComicEmotionTask`). It also wraps
``EvaluationTracker.save_results_aggregated`` so that a ``comic_emotion_staged`` run's results JSON carries
its stage record (:func:`install_checkpoint_record`), and ``lmms_eval.utils.make_table`` so that the
printed table shows robust variants as one compact summary (:func:`install_robust_summary`). Those are
the only changes made to lmms-eval's behaviour.

With ``COMIC_EMOTION_TASKS_ONLY=1`` (set by ``comic-emotion run`` when only this package's tasks are
requested) the built-in task tree is not indexed at all: walking its ~1,900 YAML files costs seconds
of start-up for tasks that are not used. Our own folder's index entries come from
:func:`our_task_index` (one libyaml read per file), equal to lmms-eval's walk of it (a test checks).

If lmms-eval's internals differ from 0.7.3 (a method is gone or its parameters changed), nothing
is patched and one line tells the user to pass ``--include_path $(comic-emotion tasks-dir)``, which
works on every version; the static group then lists every headline corpus, and an unprepared one
fails loudly rather than scoring the demo set.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from comic_emotion.results import CHECKPOINT_KEY
from comic_emotion.runner import OWN_SUMMARY_ENV, robustness_summary
from comic_emotion.tasks import read_task_yaml, tasks_dir
from comic_emotion.tasks.suites import HEADLINE_GROUP, apply_headline

FALLBACK_HINT = (
    "comic-emotion-bench: could not register the comic_emotion tasks with this lmms-eval version; "
    "pass --include_path $(comic-emotion tasks-dir) to lmms-eval"
)
_MARK = "_comic_emotion_tasks_dir"
TASKS_ONLY_ENV = "COMIC_EMOTION_TASKS_ONLY"


def _with_our_tasks(include_path: Any) -> list[str]:
    ours = str(tasks_dir())
    if include_path is None:
        paths: list[str] = []
    elif isinstance(include_path, (str, os.PathLike)):
        paths = [os.fspath(include_path)]
    else:
        paths = [os.fspath(p) for p in include_path]
    if not any(os.path.realpath(p) == ours for p in paths):
        paths.append(ours)
    return paths


def _is_ours(path: Any) -> bool:
    return os.path.realpath(os.fspath(path)) == str(tasks_dir())


@functools.cache
def our_task_index() -> dict[str, dict[str, Any]] | None:
    """lmms-eval 0.7.3's task-index entries of this package's task folder, read with libyaml.

    ``TaskManager._get_task_and_group`` reads every YAML with PyYAML's pure-Python loader and resolves
    each ``include:`` by reading the included file again: our ~40 subtasks parse the large shared
    template ~40 times, the bulk of ``comic-emotion run``'s task indexing. This builds the same entries
    (``python_task`` for configs with ``class:``, after includes, ``group`` for task lists) from one
    read of each file; ``tests/test_task_index.py`` checks it equals lmms-eval's own index. ``None``
    (lmms-eval indexes the folder itself) when a config needs more (a plain task with tags, an
    include outside the folder), so nothing but the speed depends on this.
    """
    root = tasks_dir()
    raw: dict[str, dict[str, Any]] = {}

    def load(name: str) -> dict[str, Any]:
        if name not in raw:
            raw[name] = read_task_yaml(root / name) or {}
            if not isinstance(raw[name], dict):
                raise yaml.YAMLError(f"{name}: not a mapping")
        return raw[name]

    def merged(name: str, depth: int = 0) -> dict[str, Any] | None:
        config = dict(load(name))
        includes = config.pop("include", None)
        if includes is None:
            return config
        out: dict[str, Any] = {}
        for include in reversed([includes] if isinstance(includes, str) else list(includes)):
            if depth > 8 or os.path.dirname(include) or not (root / include).is_file():
                return None
            part = merged(include, depth + 1)
            if part is None:
                return None
            out.update(part)
        out.update(config)
        return out

    index: dict[str, dict[str, Any]] = {}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", ".ipynb_checkpoints")]
        if os.path.realpath(dirpath) != str(root):
            if any(f.endswith(".yaml") for f in files):
                return None  # a subfolder of tasks: leave it to lmms-eval
            continue
        for name in files:
            if not name.endswith(".yaml"):
                continue
            try:
                config = merged(name)
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                return None  # lmms-eval's loader reports it, in its words
            if config is None:
                return None
            path = os.path.join(dirpath, name)
            if "class" in config:
                index[config["task"]] = {"type": "python_task", "yaml_path": path}
            elif isinstance(config.get("task"), list):
                index[config["group"]] = {"type": "group", "task": -1, "yaml_path": path}
            elif isinstance(config.get("task"), str) or "task" in config:
                return None  # plain tasks (tags, groups named in the task): lmms-eval's own logic
    return index


def install_task_path() -> bool:
    """Make lmms-eval's ``TaskManager`` index our tasks; return whether it could be done."""
    try:
        # lazy: lmms-eval (imports torch)
        from lmms_eval.tasks import TaskManager

        original = TaskManager.initialize_tasks
        parameters = inspect.signature(original).parameters
        if not {"include_path", "include_defaults"} <= set(parameters):
            raise TypeError("TaskManager.initialize_tasks has an unexpected signature")
        original_config = TaskManager._get_config
        if list(inspect.signature(original_config).parameters) != ["self", "name"]:
            raise TypeError("TaskManager._get_config has an unexpected signature")
        original_load = TaskManager.load_task_or_group
        if list(inspect.signature(original_load).parameters)[1:3] != ["task_list", "task_type"]:
            raise TypeError("TaskManager.load_task_or_group has an unexpected signature")
    except Exception:  # any mismatch: fall back to the documented --include_path route
        print(FALLBACK_HINT, file=sys.stderr)
        return False
    if getattr(original, _MARK, False):
        return True

    @functools.wraps(original_config)
    def _get_config(self: Any, name: str) -> Any:
        config = original_config(self, name)
        if _is_our_headline_group(self, name, config):
            return apply_headline(config)
        return config

    @functools.wraps(original)
    def initialize_tasks(self: Any, include_path: Any = None, include_defaults: bool = True) -> Any:
        if os.environ.get(TASKS_ONLY_ENV) == "1":
            include_defaults = False
        paths = _with_our_tasks(include_path)
        ours = our_task_index() if _is_ours(paths[-1]) and not any(_is_ours(p) for p in paths[:-1]) else None
        if ours is None:
            return original(self, include_path=paths, include_defaults=include_defaults)
        # lmms-eval merges per path with the earlier paths winning; ours is the last path, so its
        # entries come first and every other path's (built-ins, --include_path) override them.
        return {**ours, **original(self, include_path=paths[:-1] or None, include_defaults=include_defaults)}

    @functools.wraps(original_load)
    def load_task_or_group(self: Any, task_list: Any = None, task_type: str = "simple") -> Any:
        loaded = original_load(self, task_list, task_type)
        _set_request_path(loaded, task_type)
        return loaded

    setattr(initialize_tasks, _MARK, True)
    TaskManager.initialize_tasks = initialize_tasks
    TaskManager._get_config = _get_config
    TaskManager.load_task_or_group = load_task_or_group
    return True


def _is_our_headline_group(manager: Any, name: str, config: Any) -> bool:
    """Whether ``config`` is the ``comic_emotion`` group read from this package's YAML (not a namesake)."""

    if name != HEADLINE_GROUP or not isinstance(config, dict) or config.get("group") != HEADLINE_GROUP:
        return False
    path = manager.task_index.get(name, {}).get("yaml_path")
    return isinstance(path, str) and os.path.dirname(os.path.realpath(path)) == str(tasks_dir())


def _set_request_path(loaded: Any, task_type: str) -> None:
    """Tell every comic_emotion task in lmms-eval's (nested) task dict which request format to emit."""
    # lazy: lmms-eval (the task classes)
    from comic_emotion.tasks.hooks import ComicEmotionTask

    if isinstance(loaded, ComicEmotionTask):
        loaded.set_request_path(task_type)
    elif isinstance(loaded, dict):
        for value in loaded.values():
            _set_request_path(value, task_type)
    elif isinstance(loaded, (list, tuple)):
        for value in loaded:
            _set_request_path(value, task_type)


CHECKPOINT_HINT = (
    "comic-emotion-bench: could not hook this lmms-eval version's results saving; a comic_emotion_staged run's "
    "stage record (base, adapters, sha256) is kept only by comic-emotion stages"
)


def install_checkpoint_record() -> bool:
    """Make lmms-eval's results JSON carry the stage record of a ``comic_emotion_staged`` run.

    lmms-eval 0.7.3 writes the results dict in ``EvaluationTracker.save_results_aggregated``; the wrap
    adds ``comic_emotion_checkpoint`` (:func:`comic_emotion.baselines.staged.checkpoint_record`: stage name,
    base, every adapter's sha256 in order, merged or not, signature) to that dict before it is written,
    for runs started by hand as well as by ``comic-emotion stages``. Other models' results are untouched.
    """
    try:
        # lazy: lmms-eval (imports torch)
        from lmms_eval.loggers.evaluation_tracker import EvaluationTracker

        original = EvaluationTracker.save_results_aggregated
        if list(inspect.signature(original).parameters)[1:4] != ["results", "samples", "datetime_str"]:
            raise TypeError("EvaluationTracker.save_results_aggregated has an unexpected signature")
    except Exception:  # another layout: results are saved as lmms-eval does, without the record
        print(CHECKPOINT_HINT, file=sys.stderr)
        return False
    if getattr(original, _MARK, False):
        return True

    @functools.wraps(original)
    def save_results_aggregated(self: Any, results: dict, samples: Any, datetime_str: str) -> Any:
        config = results.get("config") if isinstance(results, dict) else None
        if isinstance(config, dict) and config.get("model") == "comic_emotion_staged":
            # lazy: torch and lmms-eval (the staged model class)
            from comic_emotion.baselines.staged import checkpoint_record

            record = checkpoint_record(str(config.get("model_args") or ""))
            if record is not None:
                results[CHECKPOINT_KEY] = record  # read back by comic_emotion.results.Run
        returned = original(self, results, samples, datetime_str)
        try:  # where it went, for the line under the robustness summary (install_robust_summary)
            written = Path(self.output_path) / self.general_config_tracker.model_name_sanitized / \
                f"{self.date_id}_results.json"
            _SAVED[id(results)] = written if written.is_file() else None
        except Exception:  # noqa: BLE001 - the summary then names no file; nothing else depends on it
            pass
        return returned

    setattr(save_results_aggregated, _MARK, True)
    EvaluationTracker.save_results_aggregated = save_results_aggregated
    return True


# Results files lmms-eval wrote in this process, by the id of the results dict it then prints.
_SAVED: dict[int, Path | None] = {}


def install_robust_summary() -> bool:
    """Make lmms-eval's printed results table show the robust variants as one compact summary.

    For ``comic_emotion_robust`` lmms-eval 0.7.3 prints about 70 table rows per subtask (over 2,000 in
    all). ``lmms_eval.utils.make_table`` is wrapped (before ``lmms_eval.__main__`` imports it): when the
    results hold perturbed variants of our tasks, their rows give way to
    :func:`comic_emotion.runner.robustness_summary` and a line naming the results file; every other task
    keeps lmms-eval's rows. Only the printout changes: the results JSON is written before, and complete.
    """
    try:
        # lazy: lmms-eval (imports torch)
        import lmms_eval.utils as lmms_utils

        original = lmms_utils.make_table
        if list(inspect.signature(original).parameters)[:2] != ["result_dict", "column"]:
            raise TypeError("lmms_eval.utils.make_table has an unexpected signature")
    except Exception:  # another layout: lmms-eval prints its own table, as it would without us
        return False
    if getattr(original, _MARK, False):
        return True

    @functools.wraps(original)
    def make_table(result_dict: dict, column: str = "results", *args: Any, **kwargs: Any) -> str:
        summary = None if column != "results" or os.environ.get(OWN_SUMMARY_ENV) == "1" else \
            _robust_summary(result_dict)
        if summary is None:
            return original(result_dict, column, *args, **kwargs)
        text, shown = summary
        groups = result_dict.get("groups") or {}  # lmms-eval prints those in a table of their own next
        rest = {k: v for k, v in (result_dict.get("results") or {}).items() if k not in shown and k not in groups}
        table = original({**result_dict, "results": rest}, column, *args, **kwargs) if rest else ""
        return text + ("\n\n" + table if table else "")

    setattr(make_table, _MARK, True)
    for module in list(sys.modules.values()):  # modules that imported it already (none in lmms-eval 0.7.3's order)
        if getattr(module, "make_table", None) is original and getattr(module, "__name__", "").startswith(
                ("lmms_eval", "__main__")):
            module.make_table = make_table
    return True


def _robust_summary(results: dict) -> tuple[str, set[str]] | None:
    """(summary text, subtasks it shows) for results with perturbed variants of our tasks, else ``None``."""

    configs = results.get("configs") or {}
    if not any(isinstance(c, dict) and (c.get("metadata") or {}).get("perturbation") for c in configs.values()):
        return None
    # lazy: NumPy and matplotlib (comic_emotion.reports)
    from comic_emotion.reports.robustness import robustness_report

    saved = _SAVED.get(id(results))
    try:
        with tempfile.TemporaryDirectory() as tmp:  # the report reads results files; sample logs are not needed
            path = Path(tmp) / "printed_results.json"
            path.write_text(json.dumps(results, default=str), encoding="utf-8")
            report = robustness_report([path])
    except (ValueError, OSError, TypeError):
        return None  # lmms-eval's own table then
    where = (f"every metric of every subtask: {saved}; the full robustness report: comic-emotion robustness "
             f"{saved} --out DIR" if saved else "every metric of every subtask: lmms-eval's results JSON "
             "(pass --output_path to keep it)")
    shown = {g["clean_task"] for g in report["groups"]} | {c["task"] for g in report["groups"] for c in g["cells"]}
    return robustness_summary(report, detail=where), shown


def register() -> list[Any]:
    """Entry point of the ``lmms_eval.models`` group: our model manifests (and task discovery)."""
    # lazy: lmms-eval (imports torch)
    from lmms_eval.models.registry_v2 import ModelManifest

    # lazy: scikit-learn and torch (comic_emotion.baselines)
    from comic_emotion.baselines.registry import MODEL_CLASSES

    install_task_path()
    install_checkpoint_record()
    install_robust_summary()
    return [ModelManifest(model_id=name, simple_class_path=path) for name, path in MODEL_CLASSES.items()]
