"""Stage sweep: score base, base+A, base+A+B, ... and a merged model, then write the stage-delta table.

Every stage runs through the real lmms-eval CLI (:func:`comic_emotion.runner.run_lmms_eval`) with
the ``comic_emotion_staged`` model; its checkpoint signature goes into ``--model_args`` (so the
results JSON's ``config.model_args`` carries it, and the model refuses any other chain) and into a
sidecar ``<date>_results.checkpoint.json`` beside the results file. The table itself is
:mod:`comic_emotion.reports.stages`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comic_emotion.baselines.staged import (
    SIGNATURE_FILE,
    Checkpoint,
    CheckpointError,
    apply_adapters,
    plan_checkpoint,
)
from comic_emotion.lmms_plugin import TASKS_ONLY_ENV
from comic_emotion.reports.stages import delta_table, markdown_table, stage_scores
from comic_emotion.results import load_run, write_checkpoint_record
from comic_emotion.runner import expand_task_names, run_lmms_eval
from comic_emotion.storage import replace_directory, staging_directory, write_json_atomic, write_text_atomic

TABLE_JSON = "stage_deltas.json"
TABLE_MD = "stage_deltas.md"


@dataclass(frozen=True)
class Stage:
    """One checkpoint of the sweep."""

    name: str
    checkpoint: Checkpoint

    def model_args(self, model_class: str, extra: str = "") -> str:
        """``--model_args`` of ``comic_emotion_staged`` for this stage, signature included."""
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
    # lazy: torch and transformers take seconds to import; only merging needs them
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

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


def run_sweep(model_class: str, stages: Sequence[Stage], tasks: Sequence[str], output: str | Path, *,
              model_args: str = "", lmms_args: Sequence[str] = ()) -> dict[str, Any]:
    """Run every stage through lmms-eval, write sidecars and the delta table (JSON + markdown) under ``output``."""
    output = Path(output)
    # Only this package's tasks: skip indexing lmms-eval's ~1,900 task files at every stage's start-up.
    env = {TASKS_ONLY_ENV: "1"} if all(t.startswith("comic_emotion") for t in tasks) else {}
    subtasks = expand_task_names(tasks)
    files, scores, demo, partial = [], [], False, None
    for i, stage in enumerate(stages):
        arguments = ["--model", "comic_emotion_staged", "--model_args", stage.model_args(model_class, model_args),
                     "--tasks", ",".join(tasks), "--log_samples", *lmms_args]
        path = run_lmms_eval(arguments, output_path=output / f"{i:02d}-{stage.name.lstrip('+')}", env=env,
                             table=False)  # the stage-delta table summarises
        run = load_run(path)
        if stage.checkpoint.signature not in run.model_args:
            raise CheckpointError(f"{path}: config.model_args does not carry signature {stage.checkpoint.signature}")
        write_checkpoint_record(path, {"stage": stage.name, **stage.checkpoint.describe()})
        demo = demo or run.synthetic
        partial = partial or run.partial_note()
        files.append(str(path))
        scores.append(stage_scores(run, subtasks))
    rows = delta_table([s.name for s in stages], scores, files)
    table = {"model_class": model_class, "tasks": list(tasks), "demo_data": demo, "partial": partial,
             "stages": [{"name": s.name, "results_file": f, **s.checkpoint.describe()} for s, f in zip(stages, files)],
             "rows": rows}
    write_json_atomic(output / TABLE_JSON, table)
    write_text_atomic(output / TABLE_MD, markdown_table(rows, demo=demo, partial=partial))
    return table
