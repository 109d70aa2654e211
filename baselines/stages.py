"""Stage sweep: score base, base+A, base+A+B, ... and a merged model, then tabulate what each stage did.

Every stage runs through the real lmms-eval CLI (:func:`comic_emotion.runner.run_lmms_eval`) with
the ``comic_emotion_staged`` model; its checkpoint signature goes into ``--model_args`` (so the
results JSON's ``config.model_args`` carries it, and the model refuses any other chain) and into a
sidecar ``<date>_results.checkpoint.json`` beside the results file.

The stage-delta table has, per stage, domain (subtask) and metric: the score and its 95 % bootstrap
interval, the delta against the previous stage and against the base, and *forgetting*: how far the
score fell below the best earlier adapter stage, counted only on a domain an earlier stage improved
over the base (the sign follows the metric's direction).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comic_emotion.metrics import registry

from comic_emotion.baselines.staged import SIGNATURE_FILE, Checkpoint, CheckpointError, plan_checkpoint

from comic_emotion.storage import write_json_atomic, write_text_atomic

TABLE_JSON = "stage_deltas.json"
TABLE_MD = "stage_deltas.md"


@dataclass(frozen=True)
class Stage:
    """One checkpoint of the sweep."""

    name: str
    checkpoint: Checkpoint

    def model_args(self, model_class: str, extra: str = "") -> str:
        args = [f"model_class={model_class}", f"pretrained={self.checkpoint.base}"]
        if self.checkpoint.adapters:
            args.append("adapters=" + "+".join(str(a.path) for a in self.checkpoint.adapters))
        if self.checkpoint.merged:
            args.append("merge=true")
        args.append(f"signature={self.checkpoint.signature}")
        return ",".join(args + ([extra] if extra else []))


def plan_stages(base: str, adapters: Sequence[str], *, merged: str | None = None,
                check_base: bool = True) -> list[Stage]:
    """Check every adapter and the merged model before anything runs; return the stages in order."""
    full = plan_checkpoint(base, adapters, check_base=check_base)
    stages = [Stage("base", Checkpoint(full.base))]
    for i, adapter in enumerate(full.adapters):
        stages.append(Stage(f"+{adapter.name}", Checkpoint(full.base, full.adapters[: i + 1])))
    if merged:
        directory = Path(merged)
        if not directory.is_dir():
            raise CheckpointError(f"{directory}: merged model directory not found")
        record_path = directory / SIGNATURE_FILE
        if record_path.exists():
            record = json.loads(record_path.read_text(encoding="utf-8"))
            recorded = [a["sha256"] for a in record.get("adapters", [])]
            given = [a.sha256 for a in full.adapters]
            if recorded != given:
                names = [a["name"] for a in record.get("adapters", [])]
                raise CheckpointError(f"{record_path}: the merged model records adapters {names} (by content), which "
                                      f"differ from --adapters {[a.name for a in full.adapters]} or their order; pass "
                                      "the adapters in the recorded order")
        stages.append(Stage("merged", Checkpoint(str(directory), (), True, {"merged_from": full.signature})))
    return stages


def merge_checkpoint(base: str, adapters: Sequence[str], out: str | Path, *, check_base: bool = True) -> Path:
    """Merge the adapter chain into the base and save a full checkpoint with its signature record."""
    import shutil

    import torch
    from comic_emotion.baselines.staged import apply_adapters
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from comic_emotion.storage import replace_directory, staging_directory

    checkpoint = plan_checkpoint(base, adapters, merged=True, check_base=check_base)
    model = AutoModelForImageTextToText.from_pretrained(base, dtype="auto")
    model = apply_adapters(model.to(torch.float32) if model.dtype == torch.float32 else model, checkpoint.adapters,
                           merge=True)
    target = Path(out)
    staging = staging_directory(target)  # umask permissions: the merged weights are for the group too
    try:
        model.save_pretrained(staging)
        AutoProcessor.from_pretrained(base).save_pretrained(staging)
        write_json_atomic(staging / SIGNATURE_FILE, checkpoint.describe())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    replace_directory(staging, target)
    return target


def _lower_is_better(metric: str) -> bool:
    from comic_emotion.metrics.registry import metric_spec

    return metric_spec(metric).lower_is_better


def _sample_rows(results_path: Path, task: str, metric: str) -> list[dict]:
    logs = sorted(results_path.parent.glob(f"*_samples_{task}.jsonl"))
    if not logs:
        return []
    rows = []
    for line in logs[-1].read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if isinstance(entry.get(metric), dict):
            rows.append(entry[metric])
    return rows


def stage_scores(results_path: Path, tasks: Sequence[str]) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{task: {metric: {"score", "ci_low", "ci_high"}}}`` of one results file (CIs from sample logs if absent)."""
    from comic_emotion.metrics.scoring import score_metric

    from comic_emotion.runner import check_results, read_results, task_metrics

    results = read_results(results_path)
    check_results(results, tasks)
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for task in tasks:
        values = task_metrics(results["results"][task])
        entry = {}
        for metric, value in values.items():
            if metric.endswith(("_ci_low", "_ci_high")):
                continue
            low, high = values.get(f"{metric}_ci_low"), values.get(f"{metric}_ci_high")
            if low is None and high is None:
                rows = _sample_rows(results_path, task, metric)
                score = score_metric(metric, rows) if rows else None
                if score is not None and score.ci is not None:
                    low, high = score.ci.low, score.ci.high
            entry[metric] = {"score": None if math.isnan(value) else value, "ci_low": low, "ci_high": high}
        out[task] = entry
    return out


def delta_table(stages: Sequence[str], scores: Sequence[Mapping[str, Mapping[str, Mapping[str, Any]]]],
                results_files: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of the stage-delta table (see the module docstring) from per-stage scores, in stage order."""
    rows = []
    for k, (stage, per_task, path) in enumerate(zip(stages, scores, results_files)):
        for task, metrics in per_task.items():
            for metric, cell in metrics.items():
                history = [scores[j].get(task, {}).get(metric, {}).get("score") for j in range(k + 1)]
                value, base = history[-1], history[0]
                previous = history[-2] if k else None
                sign = -1.0 if _lower_is_better(metric) else 1.0
                delta = lambda a, b: None if a is None or b is None else a - b
                forgetting = None
                earlier = [s for s in history[1:-1] if s is not None]  # adapter stages before this one
                if value is not None and base is not None and earlier:
                    peak = max(earlier, key=lambda s: sign * s)
                    forgetting = max(0.0, sign * (peak - value)) if sign * (peak - base) > 0 else 0.0
                rows.append({"stage": stage, "stage_index": k, "task": task, "metric": metric, "score": value,
                             "ci_low": cell.get("ci_low"), "ci_high": cell.get("ci_high"),
                             "delta_prev": delta(value, previous), "delta_base": delta(value, base),
                             "forgetting": forgetting, "lower_is_better": sign < 0, "results_file": path})
    return rows


def _fmt(value: Any, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


# The metrics stage_deltas.md shows (the registry's headline tier); stage_deltas.json keeps every metric.
HEADLINE_METRICS = registry.HEADLINE_METRICS


def markdown_table(rows: Sequence[Mapping[str, Any]], *, demo: bool, partial: str | None = None,
                   metrics: Sequence[str] | None = HEADLINE_METRICS) -> str:
    """The stage-delta table as markdown: the headline ``metrics`` (``None``: all), defined rows only.

    ``partial`` is the note of a ``--limit`` sweep. Rows left out are counted under the table.
    """
    from comic_emotion.runner import DEMO_BANNER

    lines = [f"> {DEMO_BANNER}", ""] if demo else []
    if partial:
        lines += [f"> PARTIAL RUN: {partial.split(': ', 1)[-1]}; not a full evaluation", ""]
    shown = [r for r in rows if (metrics is None or r["metric"] in metrics) and r["score"] is not None]
    undefined = sum(1 for r in rows if (metrics is None or r["metric"] in metrics) and r["score"] is None)
    lines += ["| stage | task | metric | score | 95% CI | Δ prev | Δ base | forgetting |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in shown:
        ci = "–" if r["ci_low"] is None else f"[{r['ci_low']:.4f}, {r['ci_high']:.4f}]"
        lines.append(f"| {r['stage']} | {r['task']} | {r['metric']}{' ↓' if r['lower_is_better'] else ''} | "
                     f"{_fmt(r['score'])} | {ci} | {_fmt(r['delta_prev'], True)} | {_fmt(r['delta_base'], True)} | "
                     f"{_fmt(r['forgetting'])} |")
    hidden = len(rows) - len(shown) - undefined
    notes = [f"{undefined} undefined (N/A) rows hidden" if undefined else "",
             f"{hidden} rows of other metrics in stage_deltas.json" if hidden else ""]
    if any(notes):
        lines += ["", "; ".join(n for n in notes if n) + "."]
    return "\n".join(lines) + "\n"


def run_sweep(model_class: str, stages: Sequence[Stage], tasks: Sequence[str], output: str | Path, *,
              model_args: str = "", lmms_args: Sequence[str] = ()) -> dict[str, Any]:
    """Run every stage through lmms-eval, write sidecars and the delta table (JSON + markdown) under ``output``."""
    from comic_emotion.lmms_plugin import TASKS_ONLY_ENV
    from comic_emotion.runner import expand_task_names, read_results, run_lmms_eval

    output = Path(output)
    # Only this package's tasks: skip indexing lmms-eval's ~1,900 task files at every stage's start-up.
    env = {TASKS_ONLY_ENV: "1"} if all(t.startswith("comic_emotion") for t in tasks) else {}
    subtasks = expand_task_names(tasks)
    from comic_emotion.data import is_synthetic
    from comic_emotion.leaderboard.runs import partial_note

    files, scores, demo, partial = [], [], False, None
    for i, stage in enumerate(stages):
        arguments = ["--model", "comic_emotion_staged", "--model_args", stage.model_args(model_class, model_args),
                     "--tasks", ",".join(tasks), "--log_samples", *lmms_args]
        path = run_lmms_eval(arguments, output_path=output / f"{i:02d}-{stage.name.lstrip('+')}", env=env,
                             table=False)  # the stage-delta table summarises
        results = read_results(path)
        recorded = str((results.get("config") or {}).get("model_args", ""))
        if stage.checkpoint.signature not in recorded:
            raise CheckpointError(f"{path}: config.model_args does not carry signature {stage.checkpoint.signature}")
        write_json_atomic(path.with_name(path.name.replace("_results.json", "_results.checkpoint.json")),
                          {"stage": stage.name, **stage.checkpoint.describe()})
        demo = demo or any(is_synthetic(c.get("metadata") or {}) for c in (results.get("configs") or {}).values())
        partial = partial or partial_note(results, subtasks)
        files.append(str(path))
        scores.append(stage_scores(path, subtasks))
    rows = delta_table([s.name for s in stages], scores, files)
    table = {"model_class": model_class, "tasks": list(tasks), "demo_data": demo, "partial": partial,
             "stages": [{"name": s.name, "results_file": f, **s.checkpoint.describe()} for s, f in zip(stages, files)],
             "rows": rows}
    write_json_atomic(output / TABLE_JSON, table)
    write_text_atomic(output / TABLE_MD, markdown_table(rows, demo=demo, partial=partial))
    return table
