"""A run as typed objects: :class:`Run` and :class:`TaskResult`, read and validated by :func:`load_run`."""


from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comic_emotion.data import is_synthetic
from comic_emotion.metrics.registry import CI_SUFFIXES, METRICS, NA_REASONS_KEY
from comic_emotion.metrics.registry import PERTURBATION_CHANGED_KEY as CHANGED_KEY
from comic_emotion.results.files import CHECKPOINT_KEY, RunError, checkpoint_sidecar, load_json

# Keys of a task entry that are not metrics; "<metric>_stderr,<filter>" is lmms-eval's own stderr.
_NON_METRIC_KEYS = {"alias", "samples", "name", "sample_len", "sample_count"}
# model_args that change where a model runs, not what it answers.
_RUNTIME_ARGS = {"device", "device_map", "batch_size", "max_batch_size", "parallelize"}


@dataclass
class TaskResult:
    """One comic_emotion subtask of a run."""

    task: str
    version: str
    metadata: dict[str, Any]
    metrics: dict[str, float | None]
    rows: list[dict[str, Any]] | None = field(default=None, repr=False)
    # Per sample (same order as rows): raw answer, lmms-eval doc_id; for the per-sample viewer.
    answers: list[str] | None = field(default=None, repr=False)
    # Per sample (same order as rows), robustness variants only: whether the perturbation changed it.
    changed: list[float] | None = field(default=None, repr=False)

    @property
    def dataset(self) -> str:
        """The dataset key the subtask ran on (``metadata.dataset``)."""
        return str(self.metadata["dataset"])

    @property
    def split(self) -> str:
        """The split the subtask ran on (``metadata.data_split``, ``test`` when unset)."""
        return str(self.metadata.get("data_split", "test"))

    @property
    def perturbation(self) -> str | None:
        """The perturbation of a robustness variant; ``None`` for a clean subtask."""
        value = self.metadata.get("perturbation")
        return None if value is None else str(value)

    @property
    def severity(self) -> int | None:
        """The severity of a robustness variant; ``None`` for a clean subtask or an ablation without one."""
        value = self.metadata.get("severity")
        return None if value is None else int(value)

    @property
    def data_hash(self) -> str:
        """Hash of the prepared split's manifest: runs compare only on equal hashes."""
        return str(self.metadata.get("data_hash", ""))

    @property
    def synthetic(self) -> bool:
        """Computed on the synthetic demo set (the typed ``data_synthetic`` flag of our provenance)."""
        return is_synthetic(self.metadata)

    @property
    def variant(self) -> bool:
        """Whether this is a perturbed (robustness) variant of a clean subtask."""
        return self.metadata.get("perturbation") is not None


@dataclass
class Run:
    """One lmms-eval results file with its comic_emotion subtasks."""

    path: Path
    model: str
    model_args: str
    lmms_eval_version: str | None
    date: str
    tasks: dict[str, TaskResult]
    raw: dict[str, Any] = field(repr=False)

    @property
    def checkpoint(self) -> str:
        """What identifies the weights: model_args without runtime-only keys (device, batch size).

        For a staged fine-tune this is the base plus the adapter chain in order, as passed to the model, and
        the signature (the adapters' sha256) of its stage record when the results JSON carries one.
        """
        parts = [p for p in self.model_args.split(",") if p.strip()]
        kept = [p.strip() for p in parts if p.split("=", 1)[0].strip() not in _RUNTIME_ARGS]
        record = self.raw.get(CHECKPOINT_KEY)
        signature = record.get("signature") if isinstance(record, Mapping) else None
        if signature and not any(p.startswith("signature=") for p in kept):  # adapter contents, not only paths
            kept.append(f"signature={signature}")
        return ",".join(sorted(kept)) or "-"

    @property
    def checkpoint_record(self) -> dict[str, Any]:
        """The stage record of a ``comic_emotion_staged`` run: the sweep's sidecar, else the copy in the
        results JSON (any run with this package installed); ``{}`` for other runs."""
        sidecar = checkpoint_sidecar(self.path)
        try:
            record = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else None
        except (OSError, ValueError):
            record = None
        if isinstance(record, dict) and record:
            return record
        raw = self.raw.get(CHECKPOINT_KEY)
        return dict(raw) if isinstance(raw, dict) else {}

    @property
    def label(self) -> str:
        """The model as reports show it: ``class(model_args)``."""
        return f"{self.model}({self.model_args})" if self.model_args else self.model

    @property
    def synthetic(self) -> bool:
        """Whether any subtask was computed on the synthetic demo set."""
        return any(t.synthetic for t in self.tasks.values())

    @property
    def limit(self) -> float | None:
        """lmms-eval's ``--limit`` for this run (``config.limit``), ``None`` for a full run."""
        return run_limit(self.raw)

    @property
    def samples(self) -> dict[str, tuple[int, int]]:
        """Per subtask, (samples scored, samples in the split), from lmms-eval's ``n-samples``."""
        return run_samples(self.raw, self.tasks)

    @property
    def partial(self) -> bool:
        """Whether the run scored only part of its splits (``--limit``): never a result to rank."""
        return partial_note(self.raw, self.tasks) is not None

    def partial_note(self) -> str | None:
        """``"partial run: --limit 5, 5 of 100 samples per subtask"``; ``None`` for a full run."""
        return partial_note(self.raw, self.tasks)

    def clean_tasks(self) -> dict[str, TaskResult]:
        """The subtasks that are not perturbed variants (what the board and the gate rank)."""
        return {name: t for name, t in self.tasks.items() if not t.variant}


def run_limit(raw: Mapping[str, Any]) -> float | None:
    """lmms-eval's ``--limit`` recorded in a results object (``config.limit``); ``None`` without one."""
    config = raw.get("config") if isinstance(raw.get("config"), Mapping) else {}
    value = config.get("limit")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def run_samples(raw: Mapping[str, Any], tasks: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Per task, (samples scored, samples in the split), from a results object's ``n-samples``."""
    counts = raw.get("n-samples") if isinstance(raw.get("n-samples"), Mapping) else {}
    out = {}
    for task in tasks:
        entry = counts.get(task) if isinstance(counts.get(task), Mapping) else {}
        effective, original = entry.get("effective"), entry.get("original")
        if isinstance(effective, int) and isinstance(original, int):
            out[task] = (effective, original)
    return out


def partial_note(raw: Mapping[str, Any], tasks: Iterable[str]) -> str | None:
    """``"partial run: --limit 5, 5 of 100 samples per subtask"`` for a ``--limit`` run, else ``None``.

    The one place that decides whether a run is partial: tables, the board, the page and the gate
    all call this (through :class:`Run` or directly on a results object).
    """
    limit, samples = run_limit(raw), run_samples(raw, tasks)
    if limit is None and all(e >= o for e, o in samples.values()):
        return None
    counts = sorted({f"{e} of {o}" for e, o in samples.values()})
    head = "" if limit is None else f"--limit {limit:g}" + (", " if counts else "")
    what = (f"{counts[0]} samples per subtask" if len(counts) == 1
            else ", ".join(f"{t} {e} of {o}" for t, (e, o) in sorted(samples.items())))
    return f"partial run: {head}{what}"


def _finite(path: Path, where: str, value: Any) -> float | None:
    if value is None:
        return None  # an undefined metric (see comic_emotion.metrics.scoring): kept as null
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RunError(f"{path}: {where}: expected a number or null, got {value!r}")
    if not math.isfinite(value):
        token = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")  # as written in the JSON
        raise RunError(f"{path}: {where}: {token} is not a finite number; the run is broken, rerun it")
    return float(value)


def task_metrics(path: Path, task: str, entry: Mapping[str, Any], *, shown: bool = True) -> dict[str, float | None]:
    """Metric values of one task entry (``"<metric>,none"`` keys).

    ``shown``: the numbers go on a table, so every metric must be in the registry; perturbed
    variants (summarised by the robustness report, which also reads e.g. ``perturbation_changed``)
    are not shown and skip that check.
    """

    metrics: dict[str, float | None] = {}
    for key, value in entry.items():
        name = key.split(",", 1)[0]
        if key in _NON_METRIC_KEYS or "_stderr" in key or name == NA_REASONS_KEY:
            continue  # na_reasons: {metric: why it is N/A}, not a number
        base = next((name[: -len(s)] for s in CI_SUFFIXES if name.endswith(s)), name)
        if shown and base not in METRICS and base != CHANGED_KEY:  # coverage of a robust variant
            raise RunError(f"{path}: results.{task}.{key}: metric {base!r} has no metadata in "
                           "comic_emotion.metrics.registry; it cannot be shown")
        metrics[name] = _finite(path, f"results.{task}.{key}", value)
    if not any(k in METRICS for k in metrics):
        raise RunError(f"{path}: results.{task}: no metrics; lmms-eval logged a failure for this task")
    return metrics


def _read_log(path: Path, log: Path, task: str, metric: str) -> tuple[list[dict], list[str], list[float] | None]:
    """Rows under ``metric``, raw answers and (robustness variants) ``perturbation_changed`` per sample."""
    rows, answers, changed = [], [], []
    try:
        handle = log.open(encoding="utf-8")
    except OSError as exc:
        raise RunError(f"{log}: cannot read sample log ({exc.strerror})") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                sample = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RunError(f"{log}: line {number}: not valid JSON ({exc.msg}); truncated sample log?") from None
            row = sample.get(metric) if isinstance(sample, dict) else None
            if not isinstance(row, dict) or "id" not in row:
                raise RunError(f"{log}: line {number}: no per-sample row under {metric!r}; "
                               "not a comic_emotion sample log")
            rows.append(row)
            resps = sample.get("filtered_resps", sample.get("resps"))
            while isinstance(resps, list) and resps:
                resps = resps[0]
            answers.append("" if resps is None else str(resps))
            if isinstance(sample.get(CHANGED_KEY), (int, float)):
                changed.append(float(sample[CHANGED_KEY]))
    if not rows:
        raise RunError(f"{log}: empty sample log for task {task}")
    return rows, answers, changed if len(changed) == len(rows) else None


def load_run(path: str | os.PathLike[str], *, sample_logs: Sequence[str | os.PathLike[str]] | bool = True) -> Run:
    """Read a results file and (optionally) its sample logs.

    Parameters
    ----------
    path
        ``<date>_results.json`` written by lmms-eval.
    sample_logs
        ``True``: read ``<date>_samples_<task>.jsonl`` beside the results file where present;
        ``False``: read none; a list: exactly these logs (``*_samples_<task>.jsonl`` names their task).
    """
    path = Path(path)
    raw = load_json(path)
    if not isinstance(raw, dict):
        raise RunError(f"{path}: top level is {type(raw).__name__}, expected the results object of lmms-eval")
    results, configs = raw.get("results"), raw.get("configs")
    if not isinstance(results, dict) or not results or not isinstance(configs, dict):
        raise RunError(f"{path}: no 'results'/'configs'; lmms-eval wrote this for a failed run (see its log)")
    config = raw.get("config") if isinstance(raw.get("config"), dict) else {}
    args = config.get("model_args") or ""
    if isinstance(args, dict):
        args = ",".join(f"{k}={v}" for k, v in sorted(args.items()))
    tasks: dict[str, TaskResult] = {}
    for task, entry in sorted(results.items()):
        metadata = (configs.get(task) or {}).get("metadata") if isinstance(configs.get(task), dict) else None
        if not isinstance(metadata, dict) or "dataset" not in metadata:
            continue  # a group row (its numbers aggregate the subtasks) or another suite's task
        if not isinstance(entry, dict):
            raise RunError(f"{path}: results.{task}: expected an object, got {type(entry).__name__}")
        for needed in ("version", "data_hash", "data_source"):
            if metadata.get(needed) in (None, ""):
                raise RunError(f"{path}: configs.{task}.metadata.{needed} is missing; not a comic_emotion run "
                               "that resolved its data")
        shown = metadata.get("perturbation") is None
        tasks[task] = TaskResult(task, str(metadata["version"]), dict(metadata),
                                 task_metrics(path, task, entry, shown=shown))
    if not tasks:
        raise RunError(f"{path}: no comic_emotion subtask with results (tasks: {', '.join(sorted(results))})")
    # lmms-eval 0.7.3 fills `lmms_eval_version` from the git checkout of the working directory
    # ("main@<hash>" of whatever repository the run started in); our tasks record the installed package.
    packages = {str(t.metadata["lmms_eval_package"]) for t in tasks.values() if t.metadata.get("lmms_eval_package")}
    version = packages.pop() if len(packages) == 1 else raw.get("lmms_eval_version")
    run = Run(path, str(config.get("model") or "unknown"), str(args), version, str(raw.get("date") or ""), tasks, raw)
    _attach_logs(run, sample_logs)
    return run


def _attach_logs(run: Run, sample_logs: Sequence[str | os.PathLike[str]] | bool) -> None:
    if sample_logs is False:
        return
    if sample_logs is True:
        prefix = run.path.name[: -len("results.json")] if run.path.name.endswith("_results.json") else None
        logs = {t: run.path.parent / f"{prefix}samples_{t}.jsonl" for t in run.tasks} if prefix else {}
        logs = {t: p for t, p in logs.items() if p.is_file()}
    else:
        logs = {}
        for log in map(Path, sample_logs):
            task = log.name.rsplit("_samples_", 1)[-1].removesuffix(".jsonl") if "_samples_" in log.name else None
            if task not in run.tasks:
                raise RunError(f"{log}: not a sample log of a task in {run.path} "
                               f"(expected <date>_samples_<task>.jsonl with task in {', '.join(run.tasks)})")
            logs[task] = log
    for task, log in logs.items():
        result = run.tasks[task]
        metric = next((m for m in ("macro_f1", "accuracy") if m in result.metrics), next(iter(result.metrics)))
        result.rows, result.answers, result.changed = _read_log(run.path, log, task, metric)
        _check_log_matches(run.path, log, result, metric)


def _check_log_matches(path: Path, log: Path, result: TaskResult, metric: str) -> None:
    from comic_emotion.metrics.scoring import aggregate  # lazy: NumPy (see task_metrics)

    stated = result.metrics.get(metric)
    try:
        recomputed = aggregate(metric, result.rows)
    except ValueError as exc:
        raise RunError(f"{log}: rows cannot be scored ({exc})") from None
    if (stated is None) != (recomputed is None) or (stated is not None and abs(stated - recomputed) > 1e-9):
        raise RunError(f"{log}: {metric} recomputed from the sample log is {recomputed!r}, but {path} says "
                       f"{stated!r}; the log belongs to another run")
