"""``comic-emotion run ARGS...``: lmms-eval with the same arguments, failing loudly and starting fast.

lmms-eval 0.7.3 exits 0 when a task fails; this wrapper exits 1 unless every requested subtask has
results in a newly written results file, and prints the results table with the data source. A
requested real subtask whose corpus is not prepared fails first, in one line naming
``comic-emotion data prepare NAME``, before lmms-eval loads the model.
When it fails, the one-line error names the model class lmms-eval resolved, its request path (simple or
chat: see :mod:`comic_emotion.model_routes`), the exception lmms-eval caught and logged, and what to try.
Every argument, ``--force_simple`` included, goes to lmms-eval unchanged.
When only ``comic_emotion*`` tasks are requested, lmms-eval's own task tree is not indexed, and the
process ends with ``os._exit`` after flushing, skipping the interpreter's teardown of lmms-eval's
large object graph (about a second of garbage collection); results are on disk by then.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import gc
import inspect
import os
import sys
from pathlib import Path
from types import ModuleType

from comic_emotion.cli.main import CliError
from comic_emotion.lmms_plugin import TASKS_ONLY_ENV
from comic_emotion.model_routes import failure_message, model_route
from comic_emotion.results import RunError, check_results, read_results, results_files
from comic_emotion.runner import (
    LMMS_EVAL_OUTPUTS,
    OWN_SUMMARY_ENV,
    TableFilter,
    check_limit,
    cpu_model_args,
    discard_new_files_on_interrupt,
    expand_task_names,
    known_task_names,
    robustness_summary,
    summary_table,
    unprepared_subtasks,
)

DEFAULT_OUTPUT = "results/run"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``run`` subcommand (see :mod:`comic_emotion.cli.main`)."""
    parser = subparsers.add_parser(
        "run",
        help="run lmms-eval with the same arguments; exit non-zero if any task failed (for CI)",
        description="Run lmms-eval in this process with the given arguments and the comic_emotion tasks. "
        "Exits 1 when lmms-eval wrote no results or a requested subtask has none, 0 otherwise.",
        epilog="examples:\n  comic-emotion run --model comic_emotion_majority --tasks comic_emotion --log_samples\n"
        "  comic-emotion run --model openai --model_args model_version=NAME,base_url=http://HOST:PORT/v1 "
        "--tasks comic_emotion",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=run, pass_through=True)


def _option(arguments: list[str], name: str) -> str | None:
    for index, argument in enumerate(arguments):
        if argument == name and index + 1 < len(arguments):
            return arguments[index + 1]
        if argument.startswith(name + "="):
            return argument.split("=", 1)[1]
    return None


def run(args: argparse.Namespace) -> int:
    """Run ``comic-emotion run``; returns the exit code."""
    arguments = list(args.extra)
    tasks = _option(arguments, "--tasks")
    if not tasks:
        raise CliError("pass --tasks, e.g. --tasks comic_emotion", exit_code=2)
    output = _option(arguments, "--output_path")
    if output is None:
        output = DEFAULT_OUTPUT
        arguments += ["--output_path", output]
    names = [t.strip() for t in tasks.split(",") if t.strip()]
    _check_task_names(names)
    limit = _option(arguments, "--limit")
    if limit is not None:
        try:
            check_limit(limit, [n for n in names if n.startswith("comic_emotion")])
        except ValueError as exc:
            raise CliError(str(exc), exit_code=2) from None
    missing = unprepared_subtasks(expand_task_names(names))
    if missing:  # before lmms-eval loads a model: a real subtask never scores the demo set in its place
        raise CliError(missing[0] + (f" (and {len(missing) - 1} more subtasks)" if len(missing) > 1 else ""))
    if all(name.startswith("comic_emotion") for name in names):
        os.environ[TASKS_ONLY_ENV] = "1"
    os.environ[OWN_SUMMARY_ENV] = "1"  # the summary below replaces lmms-eval's table (and the plugin's)
    before = set(results_files(output)) if Path(output).exists() else set()
    arguments = _on_cpu_without_gpu(arguments)
    model = _option(arguments, "--model")
    # Resolved before the run (without importing the class): an unknown name fails here, in one line.
    route = None if model is None else model_route(model, force_simple="--force_simple" in arguments)

    gc.freeze()  # lmms-eval allocates many long-lived objects; don't rescan them on every collection
    # lazy: lmms-eval (imports torch)
    import lmms_eval.__main__ as lmms_main

    errors = _record_errors(lmms_main)
    sys.argv = ["lmms-eval", *arguments]
    table = TableFilter(sys.stdout)  # lmms-eval's ~56 rows per subtask; the compact summary follows
    with discard_new_files_on_interrupt(output, names=LMMS_EVAL_OUTPUTS), contextlib.redirect_stdout(table):
        lmms_main.cli_evaluate()
    table.close()
    if int(os.environ.get("RANK", "0")) != 0:  # under accelerate launch only rank 0 writes results
        return _exit(0)
    new = [p for p in results_files(output) if p not in before] if Path(output).exists() else []
    problem = None
    if not new:
        problem = f"gave no results (lmms-eval wrote no results file under {output})"
    else:
        results = read_results(new[-1])
        try:
            check_results(results, expand_task_names(names))
        except RunError as exc:
            problem = f"gave {exc}"
    if problem is not None:
        error = errors[-1] if errors else None
        message = f"lmms-eval {problem}" if route is None else failure_message(route, problem, error)
        print(f"comic-emotion: error: {message}", file=sys.stderr)
        return _exit(1)
    if table.left_out:
        print(f"(lmms-eval's table, {table.left_out} rows, left out: every number is in {new[-1]})")
    shown = _print_robustness_summary(results, new[-1])
    if shown is None or set(results.get("configs") or {}) - shown:
        print(summary_table(results, skip=shown or ()))
    print(f"\nresults: {new[-1]}")
    return _exit(0)


def _print_robustness_summary(results: dict, path: Path) -> set[str] | None:
    """For a run with perturbed variants (comic_emotion_robust), print their compact summary; the tasks shown.

    ``None`` when the run has no variant. The other subtasks get the usual table.
    """
    # lazy: NumPy and matplotlib (comic_emotion.reports)
    from comic_emotion.reports.robustness import robustness_report

    configs = results.get("configs") or {}
    if not any((c.get("metadata") or {}).get("perturbation") for c in configs.values()):
        return None
    report = robustness_report([path])
    print(robustness_summary(report, detail=f"every metric of every subtask: {path}; the full robustness report "
                             f"(coverage, flip rate, mCE, cross-style): comic-emotion robustness {path} --out DIR"))
    return {g["clean_task"] for g in report["groups"]} | {c["task"] for g in report["groups"] for c in g["cells"]}


def _record_errors(lmms_main: ModuleType) -> list[BaseException]:
    """Keep the exceptions that lmms-eval's CLI catches and only logs (it then exits 0), for the error line.

    lmms-eval 0.7.3's ``cli_evaluate`` calls the module-level ``cli_evaluate_single`` per run and logs
    what it raises; wrapping that name records the exception and re-raises it, changing nothing else.
    """
    errors: list[BaseException] = []
    original = getattr(lmms_main, "cli_evaluate_single", None)
    if original is None:  # another lmms-eval layout: the error line then lacks the cause, nothing more
        return errors

    def cli_evaluate_single(*args: object, **kwargs: object) -> object:
        try:
            return original(*args, **kwargs)
        except Exception as exc:
            errors.append(exc)
            raise

    lmms_main.cli_evaluate_single = cli_evaluate_single
    return errors


def _check_task_names(names: list[str]) -> None:
    """A name that is not ours but close to one of ours is a typo: say which task was meant."""

    known = known_task_names()
    for name in names:
        close = [] if name in known else difflib.get_close_matches(name, known, n=1, cutoff=0.85)
        if close:
            raise CliError(f"--tasks: unknown task {name!r}; did you mean {close[0]}?", exit_code=2)


def _on_cpu_without_gpu(arguments: list[str]) -> list[str]:
    """With no GPU visible, add device=cpu (and device_map=cpu) to --model_args where the class takes them."""

    # lazy: torch
    import torch  # lmms-eval imports it anyway

    if torch.cuda.is_available() or _option(arguments, "--model") is None:
        return arguments
    # lazy: lmms-eval (imports torch)
    from lmms_eval.models import get_model

    model_args = _option(arguments, "--model_args") or ""
    name = _option(arguments, "--model")
    # comic_emotion_staged forwards its arguments to the class named by model_class=
    inner = dict(p.split("=", 1) for p in model_args.split(",") if "=" in p).get("model_class")
    try:
        model_class = get_model(inner or name, "--force_simple" in arguments or bool(inner))
    except Exception:  # noqa: BLE001 - an unknown model is lmms-eval's error to report, in its words
        return arguments
    accepted = set(inspect.signature(model_class.__init__).parameters)
    if _option(arguments, "--device") is not None:
        accepted.discard("device")
    new_args, added = cpu_model_args(model_args, accepted)
    if not added:
        return arguments
    print(f"comic-emotion: no GPU visible: running {name} on the CPU (added {','.join(added)} to --model_args)",
          file=sys.stderr)
    out = [a for i, a in enumerate(arguments) if not (a.startswith("--model_args=") or a == "--model_args"
                                                        or (i and arguments[i - 1] == "--model_args"))]
    return [*out, "--model_args", new_args]


def _exit(code: int) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
