"""The one reader of finished runs: lmms-eval's results JSON, our provenance in it, and the sample logs.

lmms-eval 0.7.3 writes ``<output_path>/<model>/<date>_results.json`` and, with ``--log_samples``,
``<date>_samples_<task>.jsonl`` beside it. A :class:`Run` is one results file with its comic_emotion
subtasks (those whose ``configs.<task>.metadata`` names a ``dataset``), their metrics and, when the
sample logs are there, the per-sample rows of :func:`comic_emotion.metrics.scoring.sample_row`. Every
consumer (the tables of ``comic-emotion run``, the reports, the leaderboard and the regression gate)
reads runs through this module, so "synthetic" (:attr:`Run.synthetic`) and "partial"
(:attr:`Run.partial`) are decided once, here and in :func:`comic_emotion.data.is_synthetic`.

Everything a leaderboard must not accept is refused here with one :class:`RunError` line naming the
file, task and field: unreadable or truncated JSON, a failed run (no results), NaN or infinite numbers,
a metric without metadata in :data:`comic_emotion.metrics.registry.METRICS`, a sample log that disagrees
with the results it sits beside.
"""

from comic_emotion.results.files import (
    CHECKPOINT_KEY,
    RunError,
    check_results,
    checkpoint_sidecar,
    metric_values,
    read_results,
    results_files,
    write_checkpoint_record,
)
from comic_emotion.results.runs import (
    Run,
    TaskResult,
    load_run,
    partial_note,
    run_limit,
    run_samples,
    task_metrics,
)

__all__ = [
    "CHECKPOINT_KEY", "Run", "RunError", "TaskResult", "check_results", "checkpoint_sidecar", "load_run",
    "metric_values", "partial_note", "read_results", "results_files", "run_limit", "run_samples", "task_metrics",
    "write_checkpoint_record",
]
