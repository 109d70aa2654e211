"""Two fresh interpreters with different hash salts produce the same bytes, step by step.

A call compared with itself in one process cannot catch what varies between processes: iteration
order of a ``set`` of strings (salted by ``PYTHONHASHSEED``), a module-global random state seeded at
import, a dict filled in such an order. So :func:`probe` runs in two subprocesses (``PYTHONHASHSEED``
1 and 2, started together, each in its own directory) and writes, per step, the bytes it produced:

- ``parser``: :func:`parse_answer` over the answer table of ``test_parsing.py`` (EN/JA, JSON,
  Python literals, truncated objects, free text, garbage, undecodable bytes), every field of each
  :class:`ParsedAnswer` as JSON *without* sorting keys, so a dict built in set order shows;
- ``perturbations``: every registered perturbation at every severity on the demo samples of
  ``test_perturbation_golden.py``, as image/text hashes plus the sha256 of the whole perturbed record
  (its ``meta.perturbation`` stamp included);
- ``demo``: a small demo build (all domains, 2 train + 4 test samples each) into ``./demo``: the
  manifest bytes, the sha256 of every parquet split and each manifest's data hash;
- ``score``: ``comic-emotion score`` (the console script's ``main``) on a saved predictions file for
  ``comic_emotion_comic`` against that build (``COMIC_EMOTION_DATA=demo``, a relative path, so the
  ``data_path`` recorded in the report is the same in both directories): the printed table and the
  ``--out`` JSON.

One subprocess per side, not the lmms-eval CLI (``test_determinism.py`` runs that, as an integration
test). Most of a side's time is nlpaug's import (it pulls in transformers).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
SALTS = ("1", "2")
N_TRAIN, N_TEST = 2, 4
# A saved predictions file for the 4 comic test samples: a strict JSON object, free text, a truncated
# object (repaired) and garbage (a parse failure).
ANSWERS = ('{"emotions": ["angry", "surprise"], "confidence": {"angry": 0.8, "surprise": 0.4}, "intensity": 0.7}',
           "The man on the left looks happy, maybe a little surprised.",
           '{"emotions": ["sad", "fear"], "explanation": "she cries while',
           "zzz qqq")


# Beyond the table: answers whose parse holds several unordered things at once (off-taxonomy words,
# confidences, attributions, per-utterance labels and speakers), where set or dict order would show.
MORE_ANSWERS = (
    '{"emotions": ["happy", "confused", "bewildered", "nostalgic", "sad"], "confidence": {"sad": 0.2, "happy": 0.9,'
    ' "fear": 0.1}, "attributions": {"B": ["sad", "angry"], "A": "happy", "C": ["wistful"]}, "speaker": "A"}',
    '{"utterances": [{"emotions": ["fear", "surprise", "puzzled"], "speaker": "B"}, {"emotions": ["angry"]},'
    ' {"emotions": ["melancholy", "sad", "happy"], "speaker": "A"}], "intensity": "high"}',
    "She is happy, thrilled, delighted and a little scared, but not angry; he is bored, confused and sad.",
    "驚きと恐怖、そして怒りと悲しみと喜び",
)


def comic_test_ids() -> list[str]:
    return [f"demo-comic-{index:06d}" for index in range(N_TRAIN, N_TRAIN + N_TEST)]


def _parser_bytes() -> str:
    from test_parsing import CASES

    from comic_emotion.metrics.parsing import parse_answer

    from comic_emotion.taxonomy import label_set

    lines = []
    more = [(answer, label_set(name)) for answer in MORE_ANSWERS for name in ("emorecom", "emoart", "kangaiset")]
    for answer, labels in [(answer, labels) for answer, labels, _, _ in CASES] + more:
        parsed = parse_answer(answer, labels)
        lines.append(json.dumps(dataclasses.asdict(parsed), ensure_ascii=False, default=repr))
    return "\n".join(lines)


def _perturbation_bytes() -> str:
    from test_perturbation_golden import compute_golden, demo_items

    from comic_emotion.perturbations import PERTURBATIONS, get_perturbation

    golden, items = compute_golden(), demo_items()
    records = {}
    for name in sorted(PERTURBATIONS):
        for severity in (1, 5):
            for item in items:
                try:
                    out = get_perturbation(name, severity, seed=golden["seed"])(item)
                except ValueError as exc:
                    records[f"{name}/{severity}/{item.record['id']}"] = f"error: {exc}"
                    continue
                text = json.dumps(out.record, ensure_ascii=False, default=repr)  # insertion order kept
                records[f"{name}/{severity}/{item.record['id']}"] = hashlib.sha256(text.encode()).hexdigest()
    return json.dumps({"golden": golden, "records": records}, indent=1, ensure_ascii=False)


def _demo_bytes() -> str:
    from comic_emotion.data import DEMO_SEED
    from comic_emotion.demo.build import DOMAINS, build_demo
    from comic_emotion.storage import data_hash, read_manifest

    build_demo(Path("demo"), seed=DEMO_SEED, n_train=N_TRAIN, n_test=N_TEST)
    out = {}
    for domain in DOMAINS:
        directory = Path("demo") / domain
        out[f"{domain}/manifest.json"] = (directory / "manifest.json").read_text(encoding="utf-8")
        out[f"{domain}/data_hash"] = data_hash(read_manifest(directory))
        for split in ("train", "test"):
            out[f"{domain}/{split}.parquet"] = hashlib.sha256((directory / f"{split}.parquet").read_bytes()).hexdigest()
    return json.dumps(out, indent=1, ensure_ascii=False)


def _score_bytes(predictions: Path) -> str:
    from comic_emotion.cli.main import main

    os.environ["COMIC_EMOTION_DATA"] = "demo"  # relative: the report's data_path is the same on both sides
    table = io.StringIO()
    with contextlib.redirect_stdout(table):
        code = main(["score", "--task", "comic_emotion_comic", "--predictions", str(predictions),
                     "--n-resamples", "200", "--out", "report.json"])
    return json.dumps({"exit": code, "table": table.getvalue(),
                       "report": Path("report.json").read_text(encoding="utf-8")}, indent=1, ensure_ascii=False)


def probe(predictions: str) -> None:
    """Run every step in the current directory and write ``<step>.out`` files there (subprocess side)."""
    steps = {"salt": lambda: str(hash("comic-emotion")), "parser": _parser_bytes,
             "perturbations": _perturbation_bytes, "demo": _demo_bytes,
             "score": lambda: _score_bytes(Path(predictions))}
    for name, step in steps.items():  # demo before score: score reads the build
        Path(f"{name}.out").write_text(step(), encoding="utf-8")


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    base = tmp_path_factory.mktemp("cross-process")
    predictions = base / "predictions.jsonl"
    predictions.write_text("".join(json.dumps({"id": i, "answer": a}) + "\n" for i, a in zip(comic_test_ids(), ANSWERS)),
                           encoding="utf-8")
    code = f"import sys; sys.path.insert(0, {str(TESTS)!r}); import {Path(__file__).stem} as t; t.probe(sys.argv[1])"
    directories, running = [], []
    for salt in SALTS:
        directory = base / f"side-{salt}"
        directory.mkdir()
        env = {**os.environ, "PYTHONHASHSEED": salt}
        env.pop("COMIC_EMOTION_DATA", None)
        running.append(subprocess.Popen([sys.executable, "-c", code, str(predictions)], cwd=directory, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        directories.append(directory)
    for process in running:
        output, _ = process.communicate(timeout=600)
        assert process.returncode == 0, output[-3000:]
    return directories


def read(sides: list[Path], step: str) -> list[str]:
    return [(side / f"{step}.out").read_text(encoding="utf-8") for side in sides]


def test_the_two_sides_really_ran_with_different_hash_salts(sides):
    a, b = read(sides, "salt")
    assert a != b, "both subprocesses hashed alike: the comparisons below would not test salted hash()"


def test_parser_gives_identical_bytes_in_two_processes(sides):
    from test_parsing import CASES

    a, b = read(sides, "parser")
    assert a == b
    parsed = [json.loads(line) for line in a.splitlines()]
    assert len(parsed) == len(CASES) + 3 * len(MORE_ANSWERS)
    assert any(len(p["off_taxonomy"]) > 1 for p in parsed) and any(len(p["attributions"]) > 1 for p in parsed)
    assert {p["status"] for p in parsed} == {"strict", "lenient", "repaired", "failed"}
    assert a == _parser_bytes(), "the subprocesses parse unlike this process"


def test_every_perturbation_gives_identical_bytes_in_two_processes(sides):
    from comic_emotion.perturbations import PERTURBATIONS

    a, b = read(sides, "perturbations")
    assert a == b
    content = json.loads(a)
    assert sorted(content["golden"]["outputs"]) == sorted(PERTURBATIONS)
    hashes = [h for h in content["records"].values() if not h.startswith("error")]
    assert len(set(hashes)) > len(PERTURBATIONS)  # distinct outputs, not one constant


def test_demo_build_gives_identical_manifests_and_data_hashes_in_two_processes(sides):
    a, b = read(sides, "demo")
    assert a == b
    content = json.loads(a)
    assert len({v for k, v in content.items() if k.endswith("data_hash")}) == 3
    assert all(json.loads(content[f"{d}/manifest.json"])["splits"]["test"]["rows"] == N_TEST
               for d in ("comic", "manga", "art"))
    assert (sides[0] / "demo" / "comic" / "test.parquet").read_bytes() == \
        (sides[1] / "demo" / "comic" / "test.parquet").read_bytes()


def test_score_command_gives_identical_output_in_two_processes(sides):
    a, b = read(sides, "score")
    assert a == b
    content = json.loads(a)
    assert content["exit"] == 0
    report = json.loads(content["report"])
    assert report["n"] == N_TEST and report["data"]["data_path"] == str(Path("demo") / "comic" / "test.parquet")
    assert report["metrics"]["parse_failure_rate"]["value"] == pytest.approx(1 / N_TEST)
    assert report["metrics"]["macro_f1"]["ci"] is not None  # the seeded bootstrap ran on both sides
    assert "macro_f1" in content["table"]
