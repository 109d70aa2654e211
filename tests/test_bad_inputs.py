"""Bad-input matrix: every public entry point, fed broken input, fails in one line or degrades as documented.

Each case runs the real console script (``comic-emotion ...``) in a subprocess and checks the exit
code, a message fragment naming the file, sample or field, that no traceback was printed, and that
nothing corrupt was left: the previous good output is byte-identical and no temporary file remains.
Two cases are data, not errors: a 100 kB and an empty model answer score with exit 0 and count as
parse failures. The lmms-eval runs (``comic-emotion run``, which exits non-zero where bare
``lmms-eval`` exits 0) read a bad prepared dataset through ``COMIC_EMOTION_DATA``.

Simulations: the machine runs tests as root, which ignores permission bits, so a read-only output
directory is simulated by an output path below a regular file (``ENOTDIR``/``EEXIST``); a full disk by
``RLIMIT_FSIZE`` with ``SIGXFSZ`` ignored, so writes fail with ``EFBIG``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from converter_fixtures import jpeg, write_emorecom_release

pytestmark = pytest.mark.integration
TASK = "comic_emotion_emorecom"  # reads the prepared emorecom train split


def cli(*arguments: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["comic-emotion", *arguments], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def assert_error(completed: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    """Exit ``code``, no traceback, and a last stderr line ``comic-emotion: error: ...`` with the fragments."""
    stderr = completed.stderr.strip()
    assert completed.returncode == code, (completed.returncode, stderr[-2000:])
    assert "Traceback" not in stderr, stderr[-2000:]
    last = stderr.splitlines()[-1]
    assert last.startswith("comic-emotion: error: "), last
    for fragment in fragments:
        assert fragment in last, (fragment, last)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones included) with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_no_temporaries(root: Path) -> None:
    leftovers = [p.name for p in root.rglob("*") if p.name.endswith(".tmp") or ".staging-" in p.name
                 or ".old-" in p.name]
    assert not leftovers, leftovers


def png_of_size(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of any size, built row by row (no pixel buffer: a 20,000² image is ~50 kB)."""
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def noise_jpeg(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), bytes(range(256)) * (width * height * 3 // 256)).save(buffer, "JPEG")
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------
# Module fixtures: one release, one prepared data root, one lmms-eval results file.


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bad-inputs")


@pytest.fixture(scope="module")
def release(base: Path) -> Path:
    root = base / "release"
    write_emorecom_release(root)
    return root


@pytest.fixture(scope="module")
def data_root(base: Path, release: Path) -> Path:
    root = base / "data"
    completed = cli("data", "prepare", "emorecom", "--source", str(release), "--data-root", str(root))
    assert completed.returncode == 0, completed.stderr
    return root


@pytest.fixture(scope="module")
def good_run(base: Path, data_root: Path) -> Path:
    """A real-data lmms-eval results file (majority baseline on the prepared emorecom split)."""
    output = base / "good-run"
    completed = cli("run", "--model", "comic_emotion_majority", "--tasks", TASK, "--log_samples",
                    "--output_path", str(output), env={"COMIC_EMOTION_DATA": str(data_root)}, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    (results,) = output.rglob("*_results.json")
    return results


def bad_copy(data_root: Path, target: Path, mutate) -> Path:
    """A copy of the prepared data root with ``mutate(emorecom_dir)`` applied."""
    shutil.copytree(data_root, target)
    mutate(target / "emorecom")
    return target


# --------------------------------------------------------------------------------------------------
# data prepare: the previous prepared copy survives byte-identical, no staging directory remains.


def _zero(release: Path) -> None:
    next(iter(sorted((release / "images").iterdir()))).write_bytes(b"")


def _corrupt(release: Path) -> None:
    next(iter(sorted((release / "images").iterdir()))).write_bytes(b"\xff\xd8 not a jpeg " * 20)


def _truncated(release: Path) -> None:
    data = noise_jpeg(320, 240)  # header intact, scan data cut: only a full decode notices
    next(iter(sorted((release / "images").iterdir()))).write_bytes(data[: len(data) * 2 // 3])


def _bomb(release: Path) -> None:
    next(iter(sorted((release / "images").iterdir()))).write_bytes(png_of_size(20_000, 20_000))


def _symlink_out(release: Path) -> None:
    image = next(iter(sorted((release / "images").iterdir())))
    outside = release.parent / "outside-the-release.jpg"
    outside.write_bytes(image.read_bytes())
    image.unlink()
    image.symlink_to(outside)


def _latin1(release: Path) -> None:
    path = release / "train_emotion_labels.csv"
    path.write_bytes(path.read_bytes().replace(b"image_id", "imagé_id".encode("latin-1")))


def _missing(release: Path) -> None:
    (release / "train_emotion_labels.csv").unlink()


PREPARE_CASES = {
    "zero-byte image": (_zero, "1000_0_0.jpg: not a readable image (cannot identify image file)"),
    "corrupt image": (_corrupt, "1000_0_0.jpg: not a readable image"),
    "truncated image": (_truncated, "1000_0_0.jpg: not a readable image"),
    "20000x20000 image": (_bomb, "1000_0_0.jpg: refused as a possible decompression bomb"),
    "symlink out of the release": (_symlink_out, "outside the release"),
    "non-UTF-8 annotations": (_latin1, "train_emotion_labels.csv: not UTF-8 text"),
    "missing annotation file": (_missing, "'train_emotion_labels.csv' not found"),
}


@pytest.mark.parametrize("case", list(PREPARE_CASES))
def test_prepare_refuses_bad_release_and_keeps_previous_copy(case, tmp_path, release, data_root):
    mutate, fragment = PREPARE_CASES[case]
    bad = tmp_path / "release"
    shutil.copytree(release, bad, symlinks=True)
    mutate(bad)
    root = tmp_path / "data"
    shutil.copytree(data_root, root)
    before = snapshot(root)
    started = time.monotonic()
    completed = cli("data", "prepare", "emorecom", "--source", str(bad), "--data-root", str(root))
    assert_error(completed, 1, fragment)
    assert time.monotonic() - started < 60  # the bomb is refused at its header, not decoded
    assert snapshot(root) == before
    assert_no_temporaries(root)


def test_prepare_refuses_archive_member_with_dotdot(tmp_path, data_root):
    archive = tmp_path / "emorecom.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("emorecom/train_emotion_labels.csv", ",image_id,angry\n")
        handle.writestr("../escaped.txt", "outside")
    root = tmp_path / "data"
    shutil.copytree(data_root, root)
    before = snapshot(root)
    assert_error(cli("data", "prepare", "emorecom", "--source", str(archive), "--data-root", str(root)), 1,
                 "member '../escaped.txt': path contains '..'")
    assert not (tmp_path / "escaped.txt").exists() and snapshot(root) == before


def test_prepare_missing_source_and_unwritable_root(tmp_path, release):
    assert_error(cli("data", "prepare", "emorecom", "--source", str(tmp_path / "nowhere"),
                     "--data-root", str(tmp_path / "d")), 1, "nowhere: source not found")
    (tmp_path / "file").write_text("a regular file")  # root ignores permission bits: a file as parent instead
    assert_error(cli("data", "prepare", "emorecom", "--source", str(release),
                     "--data-root", str(tmp_path / "file" / "data")), 1, str(tmp_path / "file"))
    assert (tmp_path / "file").read_text() == "a regular file"


# --------------------------------------------------------------------------------------------------
# score


def _predictions(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def _ids(data_root: Path) -> list[str]:
    return pq.read_table(data_root / "emorecom" / "train.parquet", columns=["id"]).column("id").to_pylist()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_score_refuses_non_finite_json(constant, tmp_path, data_root):
    lines = [b'{"id": "%s", "emotions": ["happy"], "intensity": %s}' % (i.encode(), constant.encode())
             for i in _ids(data_root)]
    out = tmp_path / "metrics.json"
    completed = cli("score", "--task", TASK, "--predictions", str(_predictions(tmp_path / "p.jsonl", lines)),
                    "--out", str(out), env={"COMIC_EMOTION_DATA": str(data_root)})
    assert_error(completed, 1, "p.jsonl: line 1", constant.lstrip("-"))
    assert not out.exists()


def test_huge_empty_and_undecodable_answers_are_parse_failures_not_errors(tmp_path, data_root):
    ids = _ids(data_root)
    answers = [json.dumps({"id": ids[0], "answer": "hmm, " * 20_000}).encode(),  # 100 kB naming no emotion
               json.dumps({"id": ids[1], "answer": ""}).encode(),
               json.dumps({"id": ids[2], "answer": "@@"}).encode().replace(b"@@", b"caf\xe9 \xff"),  # not UTF-8
               json.dumps({"id": ids[3], "answer": json.dumps({"emotions": ["happy"]})}).encode()]
    out = tmp_path / "metrics.json"
    completed = cli("score", "--task", TASK, "--predictions", str(_predictions(tmp_path / "p.jsonl", answers)),
                    "--n-resamples", "20", "--out", str(out), env={"COMIC_EMOTION_DATA": str(data_root)})
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["n"] == 4
    assert report["metrics"]["parse_failure_rate"]["value"] == pytest.approx(0.75)


def test_score_missing_predictions_unwritable_out_bad_data(tmp_path, data_root):
    env = {"COMIC_EMOTION_DATA": str(data_root)}
    assert_error(cli("score", "--task", TASK, "--predictions", str(tmp_path / "absent.jsonl"), env=env), 1,
                 "absent.jsonl")
    good = _predictions(tmp_path / "p.jsonl", [json.dumps({"id": i, "answer": "happy"}).encode()
                                               for i in _ids(data_root)])
    (tmp_path / "file").write_text("x")
    assert_error(cli("score", "--task", TASK, "--predictions", str(good), "--out",
                     str(tmp_path / "file" / "m.json"), env=env), 1, str(tmp_path / "file"))
    truncated = bad_copy(data_root, tmp_path / "truncated", lambda d: (d / "train.parquet").write_bytes(
        (d / "train.parquet").read_bytes()[:300]))
    assert_error(cli("score", "--task", TASK, "--predictions", str(good),
                     env={"COMIC_EMOTION_DATA": str(truncated)}), 1, "train.parquet: not a readable parquet split")


def _schema_v2(directory: Path) -> None:
    manifest = json.loads((directory / "manifest.json").read_text())
    (directory / "manifest.json").write_text(json.dumps({**manifest, "schema_version": "2.0"}))


def test_score_refuses_another_schema_version(tmp_path, data_root):
    root = bad_copy(data_root, tmp_path / "v2", _schema_v2)
    good = _predictions(tmp_path / "p.jsonl", [json.dumps({"id": i, "answer": "happy"}).encode()
                                               for i in _ids(data_root)])
    assert_error(cli("score", "--task", TASK, "--predictions", str(good), env={"COMIC_EMOTION_DATA": str(root)}),
                 1, "manifest.json: field 'schema_version': 2.0 is not readable")


# --------------------------------------------------------------------------------------------------
# perturb: a failing run leaves the previous output byte-identical


@pytest.fixture(scope="module")
def perturb_output(base: Path, data_root: Path) -> Path:
    output = base / "perturbed"
    completed = cli("perturb", "--perturbation", "occlusion_patches", "--severity", "3", "--split", "train",
                    "--input", str(data_root / "emorecom"), "--output", str(output))
    assert completed.returncode == 0, completed.stderr
    return output


def _split_with_image(path: Path, data_root: Path, image: bytes) -> Path:
    from comic_emotion.storage import read_records, write_split

    records = list(read_records(data_root / "emorecom" / "train.parquet"))
    write_split(path, [(records[0], image), *((r, jpeg(40, 30)) for r in records[1:])])
    return path


@pytest.mark.parametrize("image, fragment", [
    (b"GIF89a broken", "image not usable (cannot identify image file)"),
    (png_of_size(20_000, 20_000), "image not usable (Image size (400000000 pixels) exceeds limit"),
    (noise_jpeg(320, 240)[:3000], "image not usable"),
], ids=["corrupt", "20000x20000", "truncated"])
def test_perturb_bad_image_names_the_sample(image, fragment, tmp_path, data_root, perturb_output):
    source = _split_with_image(tmp_path / "train.parquet", data_root, image)
    before = snapshot(perturb_output)
    completed = cli("perturb", "--perturbation", "occlusion_patches", "--severity", "3", "--split", "train",
                    "--input", str(source), "--output", str(perturb_output))
    assert_error(completed, 1, "sample 'emorecom-1000_0_0'", fragment)
    assert snapshot(perturb_output) == before
    assert_no_temporaries(perturb_output)


def test_perturb_truncated_parquet_input(tmp_path, data_root, perturb_output):
    source = tmp_path / "train.parquet"
    source.write_bytes((data_root / "emorecom" / "train.parquet").read_bytes()[:-100])
    before = snapshot(perturb_output)
    assert_error(cli("perturb", "--perturbation", "ocr_noise", "--severity", "1", "--split", "train",
                     "--input", str(source), "--output", str(perturb_output)), 1,
                 "train.parquet: not a readable parquet split")
    assert snapshot(perturb_output) == before


_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
from comic_emotion.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def test_disk_full_during_write_keeps_the_old_file(perturb_output, data_root):
    before = snapshot(perturb_output)
    limit = len(before["train.parquet"]) // 2
    # severity 5: different pixels, so the new file would be rewritten (and is as large)
    command = [sys.executable, "-c", _LIMITED, str(limit), "perturb", "--perturbation", "occlusion_patches",
               "--severity", "5", "--split", "train", "--input", str(data_root / "emorecom"),
               "--output", str(perturb_output)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert_error(completed, 1, "File too large")
    assert snapshot(perturb_output) == before
    assert_no_temporaries(perturb_output)


def test_sigint_mid_write_keeps_the_old_file(tmp_path, data_root, perturb_output):
    from comic_emotion.storage import read_records, write_split

    # A split slow enough to interrupt: 1,500 rows of incompressible pixels, occluded and re-encoded.
    record = next(read_records(data_root / "emorecom" / "train.parquet"))
    picture = noise_jpeg(480, 360)
    source = tmp_path / "train.parquet"
    write_split(source, (({**record, "id": f"emorecom-slow-{i}"}, picture) for i in range(1500)))
    before = snapshot(perturb_output)
    process = subprocess.Popen(["comic-emotion", "perturb", "--perturbation", "occlusion_patches", "--severity",
                                "3", "--split", "train", "--input", str(source), "--output", str(perturb_output)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               # A suite started in the background inherits an ignored SIGINT (POSIX shells):
                               # give the child the default, as a terminal's Ctrl-C would find it.
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not list(perturb_output.glob(".train.parquet.*.tmp")):
        assert process.poll() is None and time.monotonic() < deadline, "the write never started"
        time.sleep(0.02)
    time.sleep(0.05)  # mid-write: rows are being written into the temporary file
    assert process.poll() is None, "the write finished before the interrupt; make the split larger"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr[-2000:]
    assert "interrupted; no partial output was kept" in stderr and "Traceback" not in stderr
    assert snapshot(perturb_output) == before
    assert_no_temporaries(perturb_output)


# --------------------------------------------------------------------------------------------------
# lmms-eval (through `comic-emotion run`, since bare lmms-eval exits 0 on a task failure)


@pytest.mark.parametrize("mutate, fragment", [
    (lambda d: (d / "train.parquet").write_bytes((d / "train.parquet").read_bytes()[:400]),
     "train.parquet: not a readable parquet split"),
    (_schema_v2, "field 'schema_version': 2.0 is not readable"),
], ids=["truncated parquet", "schema version 2.0"])
def test_run_on_bad_prepared_data_fails_and_claims_nothing(mutate, fragment, tmp_path, data_root):
    root = bad_copy(data_root, tmp_path / "data", mutate)
    output = tmp_path / "out"
    completed = cli("run", "--model", "comic_emotion_majority", "--tasks", TASK, "--limit", "2", "--log_samples",
                    "--output_path", str(output), env={"COMIC_EMOTION_DATA": str(root)}, timeout=300)
    assert completed.returncode == 1, completed.stderr[-3000:]
    assert fragment in completed.stdout + completed.stderr  # lmms-eval logs the DataError naming the file
    assert completed.stderr.strip().splitlines()[-1].startswith("comic-emotion: error: ")
    for results in output.rglob("*_results.json") if output.exists() else ():
        assert not json.loads(results.read_text()).get("results", {}).get(TASK), results


# --------------------------------------------------------------------------------------------------
# results files: robustness, leaderboard, regress


def _with_metric(good_run: Path, target: Path, value: float) -> Path:
    results = json.loads(good_run.read_text())
    results["results"][TASK]["macro_f1,none"] = value
    target.write_text(json.dumps(results))  # Python writes NaN / Infinity tokens, as a broken run would
    return target


@pytest.mark.parametrize("value", [float("nan"), float("inf")], ids=["NaN", "Infinity"])
def test_non_finite_results_are_refused_everywhere(value, tmp_path, good_run):
    bad = _with_metric(good_run, tmp_path / "bad_results.json", value)
    token = "NaN" if value != value else "Infinity"
    assert_error(cli("robustness", str(bad), "--out", str(tmp_path / "report")), 1, "bad_results.json", token)
    assert not (tmp_path / "report").exists()
    board = tmp_path / "board.json"
    assert cli("leaderboard", "add", str(good_run), "--board", str(board)).returncode == 0
    before = board.read_bytes()
    assert_error(cli("leaderboard", "add", str(bad), "--board", str(board), "--replace", "--no-samples"), 1,
                 "bad_results.json", "is not a finite number")
    assert board.read_bytes() == before
    assert_error(cli("regress", "--baseline", str(good_run), "--candidate", str(bad)), 2, "is not a finite number")


def test_truncated_results_are_refused_everywhere(tmp_path, good_run):
    bad = tmp_path / "cut_results.json"
    bad.write_text(good_run.read_text()[:700])
    # One reader of runs: the same message from every command.
    assert_error(cli("robustness", str(bad)), 1, "cut_results.json: not valid JSON")
    board = tmp_path / "board.json"
    assert_error(cli("leaderboard", "add", str(bad), "--board", str(board), "--no-samples"), 1,
                 "cut_results.json: not valid JSON")
    assert not board.exists()
    assert_error(cli("regress", "--baseline", str(good_run), "--candidate", str(bad)), 2, "cut_results.json")


def test_concurrent_leaderboard_writers_lose_nothing(tmp_path, good_run):
    results = json.loads(good_run.read_text())
    paths = []
    for k in range(4):  # four checkpoints: distinct entry keys
        copy = tmp_path / f"run{k}" / good_run.name
        copy.parent.mkdir()
        copy.write_text(json.dumps({**results, "config": {**results["config"], "model_args": f"seed={k}"}}))
        paths.append(copy)
    board = tmp_path / "board.json"
    processes = [subprocess.Popen(["comic-emotion", "leaderboard", "add", str(p), "--board", str(board),
                                   "--no-samples"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for p in paths]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr[-2000:]
    entries = json.loads(board.read_text())["entries"]
    assert sorted(e["checkpoint"] for e in entries) == [f"seed={k}" for k in range(4)]
    assert_no_temporaries(tmp_path)


def test_leaderboard_unwritable_paths_and_bad_board(tmp_path, good_run):
    (tmp_path / "file").write_text("x")
    assert_error(cli("leaderboard", "add", str(good_run), "--board", str(tmp_path / "file" / "b.json")), 1,
                 str(tmp_path / "file"))
    board = tmp_path / "board.json"
    assert cli("leaderboard", "add", str(good_run), "--board", str(board)).returncode == 0
    assert_error(cli("leaderboard", "render", "--board", str(board), "--out", str(tmp_path / "file" / "site")), 1,
                 "Not a directory")
    nan_board = tmp_path / "nan-board.json"
    nan_board.write_text(board.read_text().replace('"value": ', '"value": NaN, "was": ', 1))
    assert_error(cli("leaderboard", "render", "--board", str(nan_board), "--out", str(tmp_path / "site")), 1,
                 "nan-board.json: board contains NaN")
    assert not (tmp_path / "site").exists()


def test_regress_thresholds_are_loaded_safely(tmp_path, good_run):
    marker = tmp_path / "constructed"
    evil = tmp_path / "thresholds.yaml"
    evil.write_text(f"alpha: !!python/object/apply:os.system ['touch {marker}']\n")
    gate = tmp_path / "gate.json"
    assert_error(cli("regress", "--baseline", str(good_run), "--candidate", str(good_run), "--thresholds", str(evil),
                     "--json", str(gate)), 2, "thresholds.yaml: not valid YAML", "python/object/apply")
    assert not marker.exists() and not gate.exists()
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"alpha: 0.05  # r\xe9gression\n")
    assert_error(cli("regress", "--baseline", str(good_run), "--candidate", str(good_run), "--thresholds",
                     str(latin)), 2, "latin.yaml: thresholds are not UTF-8 text")


# --------------------------------------------------------------------------------------------------
# stages: adapters are checked before anything runs


def test_stages_refuses_missing_and_corrupt_adapters(tmp_path):
    output = tmp_path / "stages"
    assert_error(cli("stages", "--model", "qwen2_vl", "--base", "tiny", "--adapters", str(tmp_path / "absent"),
                     "--output", str(output)), 1, "absent: adapter directory not found")
    corrupt = tmp_path / "adapter"
    corrupt.mkdir()
    (corrupt / "adapter_config.json").write_text('{"r": 8, "lora_alpha": ')
    assert_error(cli("stages", "--model", "qwen2_vl", "--base", "tiny", "--adapters", str(corrupt),
                     "--output", str(output)), 1, "adapter_config.json: not valid JSON")
    assert not output.exists()
