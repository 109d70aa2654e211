"""The lmms-eval plugin hook and the foundation CLI: discovery, the fallback line, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from comic_emotion.lmms_plugin import FALLBACK_HINT


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_task_index_contains_our_group_without_include_path():
    completed = run_python(
        "import lmms_eval.models\n"  # loads the entry points, as the lmms-eval CLI does
        "from lmms_eval.tasks import TaskManager\n"
        "tm = TaskManager(include_defaults=False)\n"
        "print(' '.join(sorted(tm.all_tasks)))\n"
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert {"comic_emotion", "comic_emotion_comic", "comic_emotion_manga", "comic_emotion_art"} <= set(completed.stdout.split())


def test_changed_lmms_eval_internals_print_one_line_instead_of_a_traceback():
    # Simulate a future lmms-eval whose TaskManager.initialize_tasks takes other parameters.
    completed = run_python(
        "from lmms_eval.tasks import TaskManager\n"
        "TaskManager.initialize_tasks = lambda self, paths: {}\n"
        "from comic_emotion.lmms_plugin import install_task_path\n"
        "print('patched' if install_task_path() else 'not patched')\n"
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip() == "not patched"
    assert completed.stderr.strip().splitlines()[-1] == FALLBACK_HINT
    assert "Traceback" not in completed.stderr


def test_hint_names_the_command_that_always_works():
    assert "--include_path $(comic-emotion tasks-dir)" in FALLBACK_HINT


def test_tasks_dir_prints_the_directory_with_the_group_yaml():
    completed = subprocess.run(["comic-emotion", "tasks-dir"], capture_output=True, text=True, check=True)
    assert (Path(completed.stdout.strip()) / "comic_emotion.yaml").is_file()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only directories")
def test_demo_refuses_an_unwritable_output_directory_in_one_line(tmp_path: Path):
    target = tmp_path / "ro"
    target.mkdir()
    target.chmod(0o500)
    completed = subprocess.run(["comic-emotion", "demo", "--output", str(target / "out")], capture_output=True, text=True)
    assert completed.returncode == 1
    assert completed.stderr.strip().startswith(f"comic-emotion: error: {target / 'out'}: cannot write there")
    assert len(completed.stderr.strip().splitlines()) == 1


def test_demo_refuses_an_output_path_that_is_a_file_in_one_line(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    completed = subprocess.run(["comic-emotion", "demo", "--output", str(blocker / "out")], capture_output=True, text=True)
    assert completed.returncode == 1
    assert completed.stderr.strip().startswith(f"comic-emotion: error: {blocker / 'out'}: cannot write there")
    assert len(completed.stderr.strip().splitlines()) == 1
    assert blocker.read_text() == "not a directory"


def test_unknown_option_is_a_usage_error():
    completed = subprocess.run(["comic-emotion", "tasks-dir", "--bogus"], capture_output=True, text=True)
    assert completed.returncode == 2 and "unrecognized arguments: --bogus" in completed.stderr
