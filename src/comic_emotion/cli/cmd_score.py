"""``comic-emotion score``: score a predictions file against a task's gold data, outside lmms-eval.

Each line of the predictions file is ``{"id": ..., "answer": "<raw model text>"}`` or carries
already-structured fields (``{"id": ..., "emotions": [...], "intensity": 0.6, ...}``), optionally
with ``"label_scores": {label: score}`` from a scored run. Scoring is the lmms-eval task's own code
path: :func:`comic_emotion.metrics.scoring.sample_row` then ``score_rows``.

EmoRecCom submissions (the challenge's 10-column ``results.csv``, or a ``.csv`` given as predictions)
are scored against the prepared ``emorecom`` split with the challenge's metric, the mean per-class
ROC-AUC over all 8 classes (``--exclude-other``: the 7-class variant some teams used).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from comic_emotion.cli import CliError
from comic_emotion.data import resolve_split
from comic_emotion.storage import read_records, write_json_atomic
from comic_emotion.tasks import task_configs

_EPILOG = """examples:
  comic-emotion score --task comic_emotion_comic --predictions preds.jsonl
  comic-emotion score --task comic_emotion_manga --predictions preds.jsonl --out metrics.json --n-resamples 2000
  comic-emotion score --task comic_emotion_emorecom --submission results.csv --split test
  comic-emotion score --task comic_emotion_emorecom --submission results.csv --exclude-other --json
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``score`` subcommand (see :mod:`comic_emotion.cli.main`)."""
    parser = subparsers.add_parser(
        "score", help="score a predictions JSONL file with the task's metrics (value ± 95%% CI)",
        description=__doc__.split("\n\n")[0].replace("``", ""),  # the module docstring is RST
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", required=True, help="lmms-eval task name, e.g. comic_emotion_comic")
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument("--predictions", type=Path, help="JSONL file, one prediction per line (a .csv file is read "
                       "as an EmoRecCom submission)")
    given.add_argument("--submission", type=Path, help="EmoRecCom submission CSV (row_index,image_id,8 scores)")
    parser.add_argument("--split", help="prepared split to score against (default: the task's)")
    parser.add_argument("--exclude-other", action="store_true",
                        help="EmoRecCom: average 7 classes, leaving out 'other' (not the official metric)")
    parser.add_argument("--out", "--output", dest="out", type=Path,
                        help="write every metric with its CI and signature as JSON here")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--n-resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    parser.set_defaults(func=run)


def task_metadata(task: str) -> dict[str, Any]:
    """``metadata`` of a subtask YAML (read by :func:`comic_emotion.tasks.task_configs`)."""

    configs = task_configs()
    if task not in configs:
        known = sorted(name for name, config in configs.items() if isinstance(config.get("task"), str))
        close = difflib.get_close_matches(task, known, n=1, cutoff=0.8)
        hint = f"did you mean {close[0]}? " if close else ""
        raise CliError(f"unknown task {task!r}; {hint}known: {', '.join(known)}")
    metadata = configs[task].get("metadata") or {}
    if "dataset" not in metadata:
        raise CliError(f"{configs[task]['__file__']}: task {task!r} has no metadata.dataset (a group? score one "
                       "subtask at a time)")
    return dict(metadata)


def read_predictions(path: Path) -> dict[str, Mapping[str, Any]]:
    """Predictions by id; a bad line, a missing or duplicate id is an error naming the line."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant}, which strict JSON does not allow")

    if path.is_dir():
        raise CliError(f"{path}: is a directory; pass the predictions file (JSON lines "
                       '{"id": ..., "answer": ...})')
    out: dict[str, Mapping[str, Any]] = {}
    # Undecodable bytes in a raw model answer are data (U+FFFD), not an error: the answer is parsed as given.
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line, parse_constant=refuse)
            except ValueError as exc:
                raise CliError(f"{path}: line {number}: not valid JSON ({exc.args[0][:60]})") from None
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise CliError(f"{path}: line {number}: expected an object with a string 'id'")
            if item["id"] in out:
                raise CliError(f"{path}: line {number}: duplicate id {item['id']!r}")
            out[item["id"]] = item
    return out


def score_predictions(task: str, predictions: Path, *, seed: int = 0, n_resamples: int = 1000,
                      split: str | None = None) -> dict[str, Any]:
    """Score ``predictions`` for ``task``; returns the JSON-ready report."""
    # lazy: NumPy (comic_emotion.metrics)
    from comic_emotion.metrics.scoring import sample_row, score_rows

    metadata = task_metadata(task)
    resolved = resolve_split(str(metadata["dataset"]), split or str(metadata.get("data_split", "test")))
    records = list(read_records(resolved.path))
    preds = read_predictions(predictions)
    gold_ids = {r["id"] for r in records}
    unknown = [i for i in preds if i not in gold_ids]
    if unknown:
        raise CliError(f"{predictions}: {len(unknown)} ids are not in {task} ({resolved.path}), e.g. {unknown[0]!r}")
    missing = [r["id"] for r in records if r["id"] not in preds]
    if missing:
        raise CliError(f"{predictions}: {len(preds)} predictions for {len(records)} samples of {task}; "
                       f"missing e.g. {missing[0]!r}")
    rows = []
    for record in records:
        item = preds[record["id"]]
        answer = item["answer"] if "answer" in item else {k: v for k, v in item.items()
                                                          if k not in ("id", "label_scores")}
        rows.append(sample_row(record, answer, label_set=record["label_set"], label_scores=item.get("label_scores")))
    scores = score_rows(rows, seed=seed, n_resamples=n_resamples)
    return {"task": task, "n": len(rows), "data": resolved.describe(), "seed": seed, "n_resamples": n_resamples,
            "metrics": {name: score.to_dict() for name, score in scores.items()}}


def score_submission(task: str, submission: Path, *, split: str | None = None,
                     exclude_other: bool = False, seed: int = 0, n_resamples: int = 1000) -> dict[str, Any]:
    """Score an EmoRecCom submission CSV for ``task``; returns the JSON-ready report.

    The gold labels are the prepared ``emorecom`` split's records, in their row order (that of
    ``test_transcriptions.json`` for the test split); rows are matched by image id.
    """
    # lazy: NumPy
    import numpy as np

    # lazy: NumPy (submission scoring)
    from comic_emotion.converters.emorecom_submission import LABELS, read_submission

    # lazy: NumPy (comic_emotion.metrics)
    from comic_emotion.metrics.classification import mean_roc_auc

    metadata = task_metadata(task)
    if metadata["dataset"] != "emorecom":
        raise CliError(f"{submission}: an EmoRecCom submission scores only EmoRecCom tasks; {task!r} reads "
                       f"dataset {metadata['dataset']!r}")
    resolved = resolve_split("emorecom", split or str(metadata.get("data_split", "test")))
    if resolved.synthetic:
        raise CliError("emorecom is not prepared under $COMIC_EMOTION_DATA: a submission is scored against the real "
                       "gold labels (comic-emotion data prepare emorecom --source ...)")
    records = list(read_records(resolved.path))
    notes: dict[str, int] = {}
    ids, scores = read_submission(submission, [r["source"]["original_id"] for r in records], notes=notes)
    gold = np.array([[label in r["emotions"] for label in LABELS] for r in records], dtype=int)
    exclude = ("other",) if exclude_other else ()
    result = mean_roc_auc(gold, scores, labels=LABELS, exclude=exclude, single_class="ignore")
    ci = submission_ci(gold, scores, classes=result["classes"], seed=seed, n_resamples=n_resamples)
    return {"task": task, "n": len(ids), "data": resolved.describe(), "format": "emorecom-submission",
            "metric": "mean_roc_auc", "official": not exclude_other and not result["undefined"], **result,
            "ci": ci, "normalised": notes}


def submission_ci(gold: Any, scores: Any, *, classes: list[str], seed: int, n_resamples: int,
                  level: float = 0.95) -> dict[str, Any] | None:
    """Percentile bootstrap CI of the mean ROC-AUC over ``classes``, resampling images (seeded).

    Per resample, each class's AUC is the Mann-Whitney statistic from average ranks (equal to
    scikit-learn's ``roc_auc_score``); a resample where a class has one gold value is undefined and
    dropped, and the count of kept resamples is reported.
    """
    # lazy: NumPy
    import numpy as np
    from scipy.stats import rankdata

    # lazy: NumPy (submission scoring)
    from comic_emotion.converters.emorecom_submission import LABELS
    from comic_emotion.metrics.bootstrap import percentile_interval, resample_indices

    n = gold.shape[0]
    if n < 2 or not classes:
        return None
    index = resample_indices(n, n_resamples=n_resamples, seed=seed)
    aucs = []
    for label in classes:
        j = LABELS.index(label)
        y, s = gold[index, j], scores[index, j]
        positives = y.sum(axis=1)
        negatives = n - positives
        ranks = rankdata(s, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            auc = ((ranks * y).sum(axis=1) - positives * (positives + 1) / 2) / (positives * negatives)
        aucs.append(np.where((positives > 0) & (negatives > 0), auc, np.nan))
    means = np.mean(aucs, axis=0)
    interval = percentile_interval(means, level=level)
    if interval is None:
        return None
    return {"low": interval.low, "high": interval.high, "level": level, "method": interval.method,
            "n_resamples": n_resamples, "kept": int(np.isfinite(means).sum()), "seed": seed}


def format_submission_table(report: Mapping[str, Any]) -> str:
    """Mean ROC-AUC and per-class AUC of a scored submission."""
    averaged = len(report["classes"])
    kind = "official, all 8 classes" if report["official"] else f"{averaged} classes, not the official 8-class mean"
    data = report["data"]
    ci = report.get("ci")
    interval = f"  95% CI [{ci['low']:.4f}, {ci['high']:.4f}] (bootstrap over images, {ci['kept']} of " \
        f"{ci['n_resamples']} resamples, seed {ci['seed']})" if ci else "  95% CI: N/A"
    lines = [f"{report['task']}: {report['n']} images ({data['data_source']}, split {data['data_split']})"]
    lines += [f"normalised: {what}: {count}" for what, count in (report.get("normalised") or {}).items()]
    lines += [f"{'mean_roc_auc':14} {report['mean_roc_auc']:.4f}   ({kind}){interval}"]
    for label, auc in report["per_class"].items():
        note = "undefined: one gold value only" if label in report["undefined"] else ""
        lines.append(f"  {label:12} {'N/A' if label in report['undefined'] else f'{auc:.4f}':>6}   {note}".rstrip())
    lines += [f"  {label:12} {'-':>6}   excluded" for label in report["excluded"]]
    return "\n".join(lines)


def format_table(report: Mapping[str, Any]) -> str:
    """A readable table: metric, direction, value ± CI."""
    lines = [f"{report['task']}: {report['n']} samples ({report['data']['data_source']})",
             f"{'metric':34} {'':2} {'value':>9}   95% CI"]
    for name, score in report["metrics"].items():
        arrow = {True: "↑", False: "↓"}.get(score["higher_is_better"], " ")
        value = "N/A" if score["value"] is None else f"{score['value']:.4f}"
        ci = score["ci"]
        interval = f"[{ci['low']:.4f}, {ci['high']:.4f}] {ci['method']}" if ci else ""
        if score["value"] is None and (score.get("signature") or {}).get("undefined"):
            interval = f"({score['signature']['undefined']})"  # not requested / never produced / no support
        lines.append(f"{name:34} {arrow:2} {value:>9}   {interval}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``comic-emotion score``; returns the exit code."""
    if args.out and Path(args.out).is_dir():
        raise CliError(f"{args.out}: is a directory; --out takes the JSON report's file name, "
                       f"e.g. {Path(args.out) / 'metrics.json'}", exit_code=2)

    submission = args.submission or (args.predictions if args.predictions.suffix.lower() == ".csv" else None)
    if submission is not None:
        report = score_submission(args.task, submission, split=args.split, exclude_other=args.exclude_other,
                                  seed=args.seed, n_resamples=args.n_resamples)
        table = format_submission_table
    else:
        report = score_predictions(args.task, args.predictions, seed=args.seed, n_resamples=args.n_resamples,
                                   split=args.split)
        table = format_table
    if args.out:
        write_json_atomic(args.out, report)
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else table(report), file=sys.stdout)
    return 0
