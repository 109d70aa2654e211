"""The leaderboard file: entries built from lmms-eval runs, validated, de-duplicated, written atomically.

A board holds one kind of data (``"real"`` or ``"demo"``, never both) and one version and data
manifest hash per task (``tasks``); a run computed with another task version or data manifest is
refused, so every number on a board compares with every other. An entry is keyed by (model,
checkpoint, task versions, data hashes); adding an existing key fails unless ``replace`` is set.

Writers take a file lock (``<board>.lock``, removed afterwards), re-read the board inside it, and replace the file
with :func:`comic_emotion.storage.write_json_atomic`, so concurrent ``add`` commands never lose an
entry and readers never see half a file. A failed ``add`` leaves the board byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from comic_emotion.leaderboard.ranking import OVERALL_DOMAINS, overall_score, task_score
from comic_emotion.metrics.registry import metric_spec

from comic_emotion.data import domain_of
from comic_emotion.results import Run, RunError, TaskResult, load_run
from comic_emotion.storage import file_lock, write_json_atomic

SCHEMA_VERSION = "1.1"
OFFICIAL_METRIC = "macro_f1"


class BoardError(ValueError):
    """A board or a run that cannot go on it; the board file is left unchanged."""


@lru_cache(maxsize=1)
def board_schema() -> dict[str, Any]:
    """The JSON Schema of a board file (shipped in the package)."""
    text = resources.files("comic_emotion.leaderboard").joinpath("leaderboard.schema.json").read_text("utf-8")
    return json.loads(text)


def _inline_refs(node: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline_refs(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


@lru_cache(maxsize=1)
def _validator() -> Any:
    # lazy: jsonschema
    import jsonschema

    schema = board_schema()
    # The schema has no recursive references; inlining them halves jsonschema's time on large boards.
    return jsonschema.Draft202012Validator(_inline_refs(schema, schema["$defs"]))


def validate_board(board: Any, *, where: str = "board") -> None:
    """Raise :class:`BoardError` naming the first schema violation (path and message)."""
    validator = _validator()
    error = next(iter(sorted(validator.iter_errors(board), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        location = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise BoardError(f"{where}: schema {SCHEMA_VERSION} violation at {location}: {error.message}")
    for entry in board["entries"]:
        for task in entry["tasks"]:
            if task not in board["tasks"]:
                raise BoardError(f"{where}: entry {entry['key']} has task {task!r} missing from the board's tasks")
            for metric in entry["tasks"][task]["metrics"]:
                metric_spec(metric)  # a number without metadata cannot be shown


def empty_board(data: str) -> dict[str, Any]:
    """A board with no entries for ``data`` (demo or real): boards never mix the two."""
    return {"schema_version": SCHEMA_VERSION, "data": data, "tasks": {}, "entries": []}


# Digests of board texts this process has validated (read, or written by ``add_results``): the same
# text is not validated again, e.g. by ``render`` right after ``add``. Validation depends only on the text.
_VALIDATED: set[str] = set()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_board(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The board at ``path`` (validated), or ``None`` when the file does not exist."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise BoardError(f"{path}: not a leaderboard file ({exc})") from None
    try:
        board = json.loads(text, parse_constant=lambda c: _reject_constant(path, c))
    except json.JSONDecodeError as exc:
        raise BoardError(f"{path}: board is not valid JSON (line {exc.lineno}: {exc.msg}); restore it from "
                         "version control, it was not modified") from None
    digest = _digest(text)
    if digest not in _VALIDATED:
        validate_board(board, where=str(path))
        _VALIDATED.add(digest)
    return board


def _reject_constant(path: Path, constant: str) -> None:
    raise BoardError(f"{path}: board contains {constant}, which strict JSON does not allow")


def _domain(result: TaskResult) -> str:
    return domain_of(str(result.metadata["dataset"]))


def task_header(result: TaskResult) -> dict[str, str]:
    """What every entry of a task must share (version, data hash, split): the board refuses others."""
    return {"version": result.version, "data_hash": result.data_hash, "dataset": str(result.metadata["dataset"]),
            "split": str(result.metadata.get("data_split", "test")), "domain": _domain(result),
            "official_metric": str(result.metadata.get("official_metric", OFFICIAL_METRIC))}


def entry_key(model: str, checkpoint: str, tasks: Mapping[str, Mapping[str, Any]], *,
              partial: Mapping[str, Any] | None = None) -> str:
    """Stable 16-hex key of (model, checkpoint, task versions, data hashes[, partial limit])."""
    identity = [model, checkpoint, sorted((t, v["version"], v["data_hash"]) for t, v in tasks.items())]
    if partial is not None:  # a partial run never replaces (or is replaced by) the full run's entry
        identity.append(["partial", partial.get("limit")])
    return hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]


STAGED_MODEL = "comic_emotion_staged"


def recorded_stage(run: Run) -> tuple[str, dict[str, Any]] | None:
    """(model name, stage) of a ``comic_emotion_staged`` run, from its checkpoint record or model_args.

    ``comic-emotion stages`` writes ``<date>_results.checkpoint.json`` beside the results with the
    stage's name; any run of it through lmms-eval with this package installed carries the same record
    in the results JSON (``comic_emotion_checkpoint``); a run without either has only ``model_args`` (``model_class``, ``pretrained``, ``adapters``
    in order, ``merge``), from which the stage is named as the sweep names it: ``base``, ``+<last
    adapter>``, ``merged``. Other models give ``None``.
    """
    if run.model != STAGED_MODEL:
        return None
    args = dict(part.split("=", 1) for part in run.model_args.split(",") if "=" in part)
    record = run.checkpoint_record
    adapters = [a.strip() for a in re.split(r"[+;]", args.get("adapters", "")) if a.strip()]
    merged = str(args.get("merge", "")).lower() in ("1", "true", "yes") or bool(record.get("merged"))
    name = str(record.get("stage") or ("merged" if merged else f"+{Path(adapters[-1]).name}" if adapters else "base"))
    chain = record.get("adapters") if isinstance(record.get("adapters"), list) else adapters
    stage = {"name": name, "index": len(chain) + (1 if merged else 0),
             "base": str(record.get("base") or args.get("pretrained") or run.model)}
    return f"{args.get('model_class', run.model)} [{name}]", stage


def build_entry(run: Run, *, stage: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One board entry from a run: per-task metrics with CIs, overall score, licences, provenance."""
    model = run.model
    derived = recorded_stage(run)
    if derived is not None:  # a staged entry is named by its stage, not comic_emotion_staged
        model, recorded = derived
        stage = stage if stage is not None else recorded
    clean = run.clean_tasks()
    if not clean:
        raise BoardError(f"{run.path}: only perturbed variants; add the run that includes the clean subtasks")
    tasks = {}
    for name, result in clean.items():
        metrics = {}
        for metric in result.metrics:
            if metric.endswith(("_ci_low", "_ci_high")):
                continue
            metric_spec(metric)
            metrics[metric] = task_score(result, metric)
        header = task_header(result)
        if header["official_metric"] not in metrics:
            raise BoardError(f"{run.path}: results.{name}: official metric {header['official_metric']!r} missing")
        tasks[name] = {"version": result.version, "data_hash": result.data_hash,
                       "n": len(result.rows) if result.rows is not None else None, "metrics": metrics,
                       "licence": str(result.metadata.get("data_licence", "unknown")),
                       "non_commercial": bool(result.metadata.get("data_non_commercial", False))}
    headers = {name: task_header(result) for name, result in clean.items()}
    partial = None
    if run.partial:
        partial = {"limit": run.limit, "note": run.partial_note(),
                   "samples": {t: list(n) for t, n in sorted(run.samples.items()) if t in clean}}
    entry: dict[str, Any] = {
        "key": entry_key(model, run.checkpoint, tasks, partial=partial),
        "model": model,
        "checkpoint": run.checkpoint,
        "tasks": tasks,
        "overall": overall_score(clean, headers),
        "licence": {"names": sorted({t["licence"] for t in tasks.values()}),
                    "non_commercial": any(t["non_commercial"] for t in tasks.values())},
        "lmms_eval_version": None if run.lmms_eval_version is None else str(run.lmms_eval_version),
        "date": run.date,
        "source": {"results_file": run.path.name, "sample_logs": all(r.rows is not None for r in clean.values())},
    }
    if partial is not None:
        entry["partial"] = partial
    robustness = _robustness(run)
    if robustness:
        entry["robustness"] = robustness
    if stage is not None:
        entry["stage"] = {"name": str(stage["name"]), "index": int(stage["index"]),
                          "base": str(stage.get("base") or run.model)}
    return entry


def _robustness(run: Run) -> dict[str, Any] | None:
    if not any(t.variant for t in run.tasks.values()):
        return None
    # lazy: NumPy and matplotlib (comic_emotion.reports)
    from comic_emotion.reports.robustness import robustness_report

    report = robustness_report([run.path])
    return {group["dataset"]: {"mce": group.get("mce"), "relative_mce": group.get("relative_mce"),
                               "worst_case": group.get("worst_case")} for group in report["groups"]}


def merge_entry(board: dict[str, Any], entry: dict[str, Any], headers: Mapping[str, Mapping[str, str]], *,
                source: str, replace: bool) -> str:
    """Put ``entry`` on ``board`` (in place); returns ``"added"`` or ``"replaced"``.

    Raises :class:`BoardError` when a task's version, data hash or official metric differs from the
    board's, or when the key exists and ``replace`` is false.
    """
    for task, header in headers.items():
        known = board["tasks"].get(task)
        if known is None:
            continue
        for field in ("version", "data_hash", "dataset", "split", "official_metric"):
            if known[field] != header[field]:
                raise BoardError(f"{source}: task {task}: {field} is {header[field]!r} but the board has "
                                 f"{known[field]!r}; results of different task versions or data manifests do not "
                                 "compare: use another board")
    position = next((i for i, e in enumerate(board["entries"]) if e["key"] == entry["key"]), None)
    if position is not None and not replace:
        raise BoardError(f"{source}: the board already has {entry['model']} [{entry['checkpoint']}] on these task "
                         f"versions and data (key {entry['key']}); pass --replace to overwrite it")
    for task, header in headers.items():
        board["tasks"].setdefault(task, dict(header))
    if position is None:
        board["entries"].append(entry)
        return "added"
    board["entries"][position] = entry
    return "replaced"


def add_results(board_path: str | os.PathLike[str], results_paths: Sequence[str | os.PathLike[str]], *,
                allow_demo: bool = False, replace: bool = False, allow_partial: bool = False,
                sample_logs: Sequence[str | os.PathLike[str]] | bool | None = None,
                stage: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """Add lmms-eval runs to the board at ``board_path`` (created if missing), atomically, under a lock.

    Parameters
    ----------
    board_path
        Leaderboard JSON file.
    results_paths
        ``<date>_results.json`` files written by lmms-eval.
    allow_demo
        Accept synthetic-demo results (only on a demo board: real and demo never share a board).
    replace
        Replace an entry with the same key instead of failing.
    allow_partial
        Accept runs that scored only part of the data (lmms-eval ``--limit``); their entries carry
        ``partial`` and are marked on the page. Refused by default: a partial run is not a result.
    sample_logs
        ``None`` (default) reads the ``<date>_samples_<task>.jsonl`` beside each results file where
        present (CIs come from them); ``False`` reads none; a list names the logs (one results file only).
    stage
        ``{"name", "index", "base"}`` of a staged fine-tune, for the stage-delta view.

    Returns
    -------
    list of (entry key, "added" | "replaced"), one per results file. Nothing is written unless all succeed.
    """

    if isinstance(sample_logs, (list, tuple)) and len(results_paths) != 1:
        raise BoardError("explicit sample logs need exactly one results file")
    logs = True if sample_logs is None else sample_logs
    try:
        runs = [load_run(p, sample_logs=logs) for p in results_paths]
    except RunError as exc:
        raise BoardError(str(exc)) from None
    board_path = Path(board_path)
    board_path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(str(board_path) + ".lock"):
        board = read_board(board_path)
        outcome = []
        for run in runs:
            data = "demo" if run.synthetic else "real"
            if data == "demo" and not allow_demo:
                raise BoardError(f"{run.path}: computed on the synthetic demo set; demo results go on a separate "
                                 "board, pass --allow-demo to write one")
            if run.partial and not allow_partial:
                raise BoardError(f"{run.path}: {run.partial_note()}; pass --allow-partial to add it "
                                 "(its entry is marked partial)")
            if run.synthetic and not all(t.synthetic for t in run.tasks.values()):
                raise BoardError(f"{run.path}: mixes demo and real data across tasks; score them separately")
            if board is None:
                board = empty_board(data)
            if board["data"] != data:
                raise BoardError(f"{run.path}: {data} results cannot go on the {board['data']} board {board_path}")
            entry = build_entry(run, stage=stage)
            headers = {name: task_header(result) for name, result in run.clean_tasks().items()}
            outcome.append((entry["key"], merge_entry(board, entry, headers, source=str(run.path),
                                                      replace=replace)))
        board["entries"].sort(key=lambda e: (e["model"], e["checkpoint"], e["key"]))
        new_rows = {key: {t: r.rows for t, r in run.clean_tasks().items() if r.rows}
                    for (key, _), run in zip(outcome, runs)}
        board["schema_version"] = SCHEMA_VERSION
        board["rank_intervals"] = _rank_intervals(board, board_path, new_rows)
        # Entries already on the board were validated when it was read; check the header and the new ones.
        new_keys = {key for key, _ in outcome}
        validate_board({**board, "entries": [e for e in board["entries"] if e["key"] in new_keys]},
                       where=str(board_path))
        # lazy: NumPy (rank intervals)
        from comic_emotion.leaderboard.rank_intervals import samples_dir, write_entry_rows

        for key, rows in new_rows.items():
            if rows:
                write_entry_rows(board_path, key, rows)
            else:  # replaced by a run without sample logs: the old rows no longer belong to this entry
                (samples_dir(board_path) / f"{key}.json").unlink(missing_ok=True)
        write_json_atomic(board_path, board)
        _VALIDATED.add(_digest(board_path.read_text(encoding="utf-8")))
    return outcome


def _rank_intervals(board: Mapping[str, Any], board_path: Path,
                    new_rows: Mapping[str, Mapping[str, list[dict]]]) -> dict[str, Any]:
    # lazy: NumPy (rank intervals)
    from comic_emotion.leaderboard.rank_intervals import compute_rank_intervals, read_entry_rows

    rows = {e["key"]: new_rows[e["key"]] if e["key"] in new_rows else read_entry_rows(board_path, e["key"])
            for e in board["entries"]}
    return compute_rank_intervals(board, rows)


__all__ = [
    "OVERALL_DOMAINS",
    "SCHEMA_VERSION",
    "BoardError",
    "add_results",
    "board_schema",
    "build_entry",
    "read_board",
    "validate_board",
]
