"""Running lmms-eval and reading what it wrote.

lmms-eval 0.7.3 writes ``<output_path>/<model>/<date>_results.json`` (and, with ``--log_samples``,
``<date>_samples_<task>.jsonl`` beside it) and exits 0 even when a task failed. The functions here
find the results file a run produced, check that every requested subtask has numbers, and format a
readable table that says which data the numbers were computed on.
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from comic_emotion.data import (
    DEMO_BANNER,
    DEMO_DATASETS,
    is_prepared,
    is_synthetic,
    not_prepared_message,
    resolve_split,
)
from comic_emotion.metrics import registry
from comic_emotion.results import RunError, metric_values, partial_note, results_files
from comic_emotion.storage import DataError
from comic_emotion.tasks import task_configs
from comic_emotion.tasks.suites import HEADLINE_GROUP, headline_selection

# The plugin (comic_emotion.lmms_plugin) leaves lmms-eval's table alone when this is set.
OWN_SUMMARY_ENV = "COMIC_EMOTION_OWN_SUMMARY"  # set by comic-emotion run/demo/stages, which print their own
# What lmms-eval 0.7.3 writes under --output_path (plus our checkpoint record beside the results).
LMMS_EVAL_OUTPUTS = ("*_results.json", "*_samples_*.jsonl", "*_results.checkpoint.json")


def run_lmms_eval(arguments: Sequence[str], *, output_path: str | os.PathLike[str],
                  env: Mapping[str, str] | None = None, table: bool = True) -> Path:
    """Run the real ``lmms-eval`` CLI (``python -m lmms_eval``) and return the results file it wrote.

    Output streams to the terminal. Raises :class:`RunError` when no new results file appears.

    The child runs in its own session, so a Ctrl-C at the terminal reaches only this process: the
    child is then stopped with SIGTERM (no traceback of its own), and the ``KeyboardInterrupt``
    propagates for the caller to discard what the run wrote (:func:`discard_new_files_on_interrupt`).
    ``table=False`` leaves out lmms-eval's own results table (about 56 rows per subtask, most of them
    CI bounds and N/A) for a caller that prints a compact summary; every number stays in the results
    JSON, and one line says how many rows were left out.
    """
    before = set(results_files(output_path)) if Path(output_path).exists() else set()

    command = [sys.executable, "-m", "lmms_eval", *arguments, "--output_path", str(output_path)]
    env = {**os.environ, **(env or {}), **({} if table else {OWN_SUMMARY_ENV: "1"})}  # the caller summarises
    process = subprocess.Popen(command, env=env, start_new_session=True,
                               stdout=None if table else subprocess.PIPE, text=None if table else True)
    shown = TableFilter(sys.stdout)
    try:
        for line in [] if table else process.stdout:
            shown.write(line)
        shown.close()
        returncode = process.wait()
    except BaseException:
        _stop(process)
        raise
    new = [p for p in results_files(output_path) if p not in before] if Path(output_path).exists() else []
    if shown.left_out and new:
        print(f"(lmms-eval's table, {shown.left_out} rows, left out: every number is in {new[-1]})", flush=True)
    if returncode != 0 or not new:
        raise RunError(f"lmms-eval exited with code {returncode} and wrote "
                       f"{'no' if not new else 'a'} results file under {output_path}; see its log above")
    return new[-1]


# The line lmms-eval 0.7.3's ``cli_evaluate`` prints before its banner and results table:
# f"{model} ({model_args}), gen_kwargs: ({gen_kwargs}), limit: ..., offset: ..., num_fewshot: ..., batch_size: ..."
_RESULTS_HEADER = re.compile(r"^\S+ \(.*\), gen_kwargs: \(.*\), limit: .*, offset: .*, num_fewshot: .*, batch_size: ")
_BANNER_LINES = 8  # lmms_eval.utils.get_eval_banner: blank, title, motto, blank, branch, commit, blank (+ slack)


class TableFilter:
    """A stdout stand-in that leaves out lmms-eval's printed results block and counts its table rows.

    lmms-eval 0.7.3 ends a run with one block on stdout: the model line (model, model_args, gen_kwargs,
    limit, ...), its banner (title, motto, git branch and commit; :func:`lmms_eval.utils.get_eval_banner`)
    and one or two markdown tables. All of it restates what the results JSON holds, so the whole block
    goes, not only the table rows; any other line passes through unchanged.
    """

    def __init__(self, stream: Any) -> None:
        self.stream, self.left_out, self._pending = stream, 0, ""
        self._state, self._banner_left = "text", 0  # "text" | "banner" | "table"

    def _keep(self, line: str) -> bool:
        if self._state == "banner":
            self._banner_left -= 1
            if line.startswith("commit:") or self._banner_left <= 0:
                self._state = "table"
            return False
        if line.startswith("|"):  # a row of lmms-eval's markdown table
            self.left_out += 1
            return False
        if _RESULTS_HEADER.match(line):
            self._state, self._banner_left = "banner", _BANNER_LINES
            return False
        if self._state == "table" and not line.strip():  # blank lines between and after the tables
            return False
        self._state = "text"
        return True

    def write(self, text: str) -> int:
        """Pass text through, holding back lmms-eval's results block (counted, not shown)."""
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if self._keep(line):
                self.stream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        """Write out a held partial line unless it belongs to lmms-eval's results block."""
        # A partial line waits for its end: judged half-written, a block's first line would get through cut off.
        self.stream.flush()

    def close(self) -> None:
        """Pass on a last line that lacks its newline (unless it belongs to the block), then flush."""
        if self._pending and self._keep(self._pending):
            self.stream.write(self._pending)
        self._pending = ""
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, encoding, fileno, ... of the real stream
        return getattr(self.stream, name)


def _stop(process: subprocess.Popen, *, grace_s: float = 10.0) -> None:
    """Terminate a child (and anything it started in its session), killing it after ``grace_s``."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def discard_new_files_on_interrupt(*directories: str | os.PathLike[str],
                                   names: Sequence[str] | None = None) -> Iterator[None]:
    """On Ctrl-C, remove every file and directory created under ``directories`` since entry.

    A command that promises to keep no partial output (``demo``, ``run``, ``stages``) wraps its
    work in this: results of models that finished before the interrupt go too, so what is left
    is what was there before the command started. Files that existed before are never touched;
    with ``names`` (glob patterns such as :data:`LMMS_EVAL_OUTPUTS`) only matching files are removed,
    for an output directory the user may share with other files.
    """
    roots = [Path(d) for d in directories]
    before = {root: {p for p in root.rglob("*")} if root.exists() else None for root in roots}
    try:
        yield
    except KeyboardInterrupt:
        for root, existing in before.items():
            if not root.exists():
                continue
            created = [p for p in root.rglob("*") if (existing is None or p not in existing)
                       and (names is None or p.is_dir() or any(fnmatch.fnmatch(p.name, n) for n in names))]
            if existing is None:
                created.append(root)
            for path in sorted(created, key=lambda p: len(p.parts), reverse=True):  # files before their folders
                with contextlib.suppress(OSError):
                    if path.is_dir() and not path.is_symlink():
                        path.rmdir()  # only if empty: it may hold another process's files
                    else:
                        path.unlink()
        raise


# The registry's headline and summary tiers: official scores plus the answer-protocol checks.
SUMMARY_METRICS = registry.SUMMARY_METRICS


def value_cell(value: float | None, low: float | None = None, high: float | None = None) -> str:
    """``"0.832 [0.80, 0.86]"``: a value and its 95 % CI in one short cell; ``"-"`` when undefined."""
    if value is None or math.isnan(value):
        return "-"
    if low is None or high is None:
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.2f}, {high:.2f}]"


def _cell(values: Mapping[str, float | None], metric: str) -> str:
    return value_cell(values.get(metric), values.get(f"{metric}_ci_low"), values.get(f"{metric}_ci_high"))


def format_columns(header: Sequence[str], body: Sequence[Sequence[object]]) -> list[str]:
    """Left-aligned plain-text columns under a dashed rule: the compact tables every command prints."""
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip() for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def summary_table(results: Mapping[str, Any], *, metrics: Sequence[str] = SUMMARY_METRICS,
                  skip: Iterable[str] = ()) -> str:
    """A plain-text table: one row per subtask, its data source, and the chosen metrics (with 95 % CIs).

    ``skip`` leaves out subtasks another table shows (:func:`robustness_summary`'s variants).
    """
    configs = results.get("configs") or {}
    skip = set(skip)
    rows = []
    for task, entry in sorted((results.get("results") or {}).items()):
        if task not in configs or task in skip:  # groups: their numbers are aggregates of the subtasks shown
            continue
        values = metric_values(entry)
        metadata = configs[task].get("metadata") or {}
        source = "demo" if is_synthetic(metadata) else "real"
        rows.append((task, source, values))
    if not rows:
        return "(no task results)"
    names = [m for m in metrics if any(m in values for _, _, values in rows)]
    header = ["task", "data", *names]
    body = [[task, source, *(_cell(values, m) for m in names)] for task, source, values in rows]
    lines = format_columns(header, body)
    note = partial_note(results, [task for task, _, _ in rows])
    if note:
        lines.insert(0, f"PARTIAL RUN: {note.split(': ', 1)[1]}; not a full evaluation")
    if any(source == "demo" for _, source, _ in rows):
        lines.insert(0, DEMO_BANNER)
    lines += group_lines(results)
    return "\n".join(lines)


def robustness_summary(report: Mapping[str, Any], *, detail: str) -> str:
    """The compact view of a robustness report (:func:`comic_emotion.reports.robustness.robustness_report`).

    Per (model, dataset, split): the clean row first, then one row per perturbation x severity, worst
    relative drop first, each with the headline metric and its 95 % CI in one cell. Variants whose metric
    is undefined (N/A) are hidden and counted; ``detail`` is the closing line saying where everything is.
    """
    # lazy: NumPy (comic_emotion.reports); the CLI imports this module at start-up
    from comic_emotion.reports.robustness_render import partial_banner

    metric = report["metric"]
    lines = [DEMO_BANNER] if report.get("synthetic") else []
    if report.get("partial"):
        lines.append(partial_banner(report["partial"]))
    hidden = []
    for group in report["groups"]:
        defined = [c for c in group["cells"] if c["score"] is not None]
        hidden += [f"{group['dataset']} {c['perturbation']} s{c['severity']}" for c in group["cells"]
                   if c["score"] is None]
        defined.sort(key=lambda c: (-math.inf if c["relative_drop"] is None else -c["relative_drop"],
                                    c["perturbation"], c["severity"]))
        body = [["clean", "", value_cell(group["clean_score"], *(group.get("clean_ci") or (None, None))), "", ""]]
        body += [[c["perturbation"], f"s{c['severity']}", value_cell(c["score"], *(c.get("ci") or (None, None))),
                  "-" if c["relative_drop"] is None else f"{100 * c['relative_drop'] + 0.0:+.1f} %",
                  c["category"].replace("_", " ")] for c in defined]
        direction = "higher" if report["higher_is_better"] else "lower"
        lines += ["", f"{group['model']} on {group['dataset']}/{group['split']} ({group['clean_task']} = clean; "
                  f"{metric}, {direction} is better; worst drop first)"]
        lines += format_columns(["perturbation", "severity", f"{metric} [95% CI]", "drop vs clean", "kind"], body)
    if hidden:
        named = ", ".join(hidden[:4]) + (", ..." if len(hidden) > 4 else "")
        lines.append(f"{len(hidden)} rows with {metric} undefined (N/A) hidden: {named}")
    lines.append(detail)
    return "\n".join(lines)


def group_lines(results: Mapping[str, Any]) -> list[str]:
    """One line per group: its macro_f1 and its alias, which says what the number is a mean of."""
    configs = results.get("configs") or {}
    out = []
    for name, entry in sorted((results.get("results") or {}).items()):
        if name in configs:
            continue
        value = metric_values(entry).get("macro_f1")
        alias = str(entry.get("alias") or name).strip()
        out.append(f"group {name}: macro_f1 {'-' if value is None else f'{value:.4f}'}"
                   + (f"  ({alias})" if alias != name else ""))
    return out


CPU_ARGS = (("device", "cpu"), ("device_map", "cpu"))


def cpu_model_args(model_args: str, accepted: Iterable[str]) -> tuple[str, list[str]]:
    """``model_args`` for a machine with no visible GPU, and the ``key=value`` pairs added.

    lmms-eval's VLM classes default to ``device="cuda"`` and ``device_map="cuda"`` and need both set
    to run on the CPU (``device_map=cpu`` alone dies with "Found no NVIDIA driver"). Each is added
    when the model class takes it (``accepted``: its ``__init__`` parameter names) and the user set
    neither it nor, for ``device``, lmms-eval's ``--device``, which the caller passes as accepted-less.
    """
    given = {part.split("=", 1)[0].strip() for part in model_args.split(",") if part.strip()}
    names = set(accepted)
    added = [f"{key}={value}" for key, value in CPU_ARGS if key in names and key not in given]
    return ",".join([p for p in [model_args.strip(",")] if p] + added), added


def check_limit(text: str | float, tasks: Iterable[str]) -> float:
    """Validate an lmms-eval ``--limit`` before anything runs; returns it as a number.

    lmms-eval reads a value below 1 as a fraction of each split and any other value as a sample
    count. Zero, negative, non-integer counts and a count above every requested subtask's split
    size (it would limit nothing while marking the run partial) raise ``ValueError`` naming it.
    """
    try:
        limit = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"--limit {text}: expected a number of samples per subtask, e.g. --limit 20") from None
    if not 0 < limit < math.inf:  # also refuses nan
        raise ValueError(f"--limit {text}: must be at least 1 sample per subtask (or a fraction between 0 and 1, "
                         "as lmms-eval reads it); leave --limit out for a full run")
    if limit >= 1 and not limit.is_integer():
        raise ValueError(f"--limit {text}: a sample count must be a whole number")
    if limit < 1:
        return limit

    configs, sizes = task_configs(), {}
    for task in expand_task_names(tasks):
        metadata = (configs.get(task) or {}).get("metadata") or {}
        if "dataset" in metadata:
            split = str(metadata.get("data_split", "test"))
            try:
                resolved = resolve_split(str(metadata["dataset"]), split)
                sizes[task] = int(resolved.manifest["splits"][split]["rows"])
            except (DataError, KeyError, TypeError, ValueError):
                continue  # unusable data is the run's error to report, naming the file

    if sizes and limit > max(sizes.values()):
        task, size = max(sizes.items(), key=lambda item: item[1])
        raise ValueError(f"--limit {text}: more than the {size} samples of {task}"
                         f"{' (the largest requested subtask)' if len(sizes) > 1 else ''}; use at most {size}, "
                         "or leave --limit out for a full run")
    return limit


def known_task_names() -> list[str]:
    """Names of this package's tasks and groups, sorted."""
    return sorted(task_configs())


def expand_task_names(names: Iterable[str]) -> list[str]:
    """Subtasks behind task or group names; groups of this package are expanded from their YAML.

    ``comic_emotion`` expands to the subtasks it runs now (:func:`comic_emotion.tasks.suites.headline_selection`).
    """

    groups = {name: [str(t) for t in config["task"]] for name, config in task_configs().items()
              if isinstance(config.get("task"), list)}
    groups[HEADLINE_GROUP] = list(headline_selection().subtasks)
    out: list[str] = []
    pending = list(names)
    while pending:
        name = pending.pop(0)
        if name in groups:
            pending[:0] = groups[name]
        elif name not in out:
            out.append(name)
    return out


def unprepared_subtasks(subtasks: Iterable[str]) -> list[str]:
    """One line per subtask whose real corpus is not prepared (empty when all can run).

    lmms-eval would fail on these after loading the model; ``comic-emotion run`` checks first.
    """

    datasets = {str(c["task"]): str(c["metadata"]["dataset"]) for c in task_configs().values()
                if isinstance(c.get("task"), str) and isinstance(c.get("metadata"), dict) and "dataset" in c["metadata"]}
    lines = []
    for task in subtasks:
        dataset = datasets.get(task)
        if dataset is not None and dataset not in DEMO_DATASETS and not is_prepared(dataset):
            lines.append(f"{task}: {not_prepared_message(dataset)}")
    return lines
