"""``make check-real``: the oracle invariant of the scoring protocol on real release files.

Outside ``make test``: it reads ``../shared/fixtures/`` (or the folder given as the first argument),
which the package and its tests never read. Each corpus there that a converter turns into a task is
prepared into a temporary folder; every split is then scored with the oracle answer (each record's
gold in the documented answer format, :func:`comic_emotion.metrics.oracle.oracle_answer`), which
must reach the best value of every defined metric with ``utt_slot_mismatch`` 0. For the
utterance-labelled corpora it also prints the macro-F1 of the gold-as-prediction answer in the seed
project's target format (one label list per utterance) under the legacy protocol (per-utterance
labels merged with Neutral, macro over all labels) and under the current one. Exit 1 on a violation;
exit 0, saying so, when the folder does not exist.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _sources(fixtures: Path, work: Path) -> list[tuple[str, str, Path]]:
    """(name shown, converter, source folder) of every fixture corpus with a task."""
    out = []
    if (fixtures / "emocomics35").is_dir():
        out.append(("emocomics35 CSV", "emocomics35", fixtures / "emocomics35"))
    for path in sorted((fixtures / "seed-chat-format").glob("*.jsonl")):
        # One export per preparation: each file alone in a folder of its own.
        folder = work / "sources" / path.stem
        folder.mkdir(parents=True)
        shutil.copy(path, folder / path.name)
        out.append((f"seed-jsonl {path.name}", "seed-jsonl", folder))
    if (fixtures / "manga109").is_dir():
        out.append(("manga109-dialog", "manga109-dialog", fixtures / "manga109"))
    return out


def _legacy_macro_f1(records: list[dict], labels: tuple[str, ...]) -> float:
    """Gold-as-prediction under the protocol before #15: union of utterance labels with Neutral, all labels averaged."""
    from sklearn.metrics import f1_score

    gold = np.array([[label in r["emotions"] for label in labels] for r in records])
    pred = np.array([[any(label in (u.get("emotions") or ()) for u in r["text_regions"]) for label in labels]
                     for r in records])
    return float(f1_score(gold, pred, average="macro", labels=list(range(len(labels))), zero_division=0))


def check(fixtures: Path) -> int:
    from comic_emotion.metrics.oracle import oracle_answer, oracle_violations
    from comic_emotion.metrics.scoring import aggregate, sample_row, score_rows

    from comic_emotion.converters import get_converter
    from comic_emotion.converters.base import prepare
    from comic_emotion.storage import DataError, read_records
    from comic_emotion.taxonomy import label_set

    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for shown, converter, source in _sources(fixtures, work):
            data = work / "data" / shown.replace(" ", "_")
            try:
                manifest = prepare(get_converter(converter), source, data, today="2026-01-01")
            except DataError as error:
                print(f"{shown}: not prepared (the converter refuses it): {str(error)[:200]}")
                continue
            for split in sorted(manifest["splits"]):
                records = list(read_records(data / converter / f"{split}.parquet"))
                if not records:
                    continue
                name = records[0]["label_set"]
                rows = [sample_row(r, oracle_answer(r), label_set=name) for r in records]
                scores = score_rows(rows, n_resamples=50)
                bad = oracle_violations(scores)
                defined = sorted(k for k, s in scores.items() if "/" not in k and s.value is not None)
                headline = {m: scores[m].value for m in ("macro_f1", "utt_macro_f1", "utt_slot_mismatch", "speaker_accuracy",
                                                          "speaker_ari", "answer_exact_match") if scores[m].value is not None}
                status = "OK" if not bad else f"VIOLATIONS {bad}"
                print(f"{shown} [{split}, {len(records)} records]: oracle {status}; {len(defined)} metrics defined; "
                      + ", ".join(f"{k}={v:.4f}" for k, v in headline.items()))
                failures += bool(bad)
                if any(r.get("text_regions") and any(u.get("emotions") for u in r["text_regions"]) for r in records):
                    labels = label_set(name)
                    seed_answers = [repr({"emotions": [u.get("emotions") or [] for u in r["text_regions"]]})
                                    for r in records]
                    now = aggregate("macro_f1", [sample_row(r, a, label_set=name) for r, a in zip(records, seed_answers)])
                    print(f"    gold-as-prediction (seed target format) macro_f1: before {_legacy_macro_f1(records, labels):.4f}"
                          f", now {now:.4f}")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    fixtures = Path(argv[0]) if argv else ROOT.parent / "shared" / "fixtures"
    if not fixtures.is_dir():
        print(f"check-real: skipped, {fixtures} does not exist")
        return 0
    return check(fixtures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
