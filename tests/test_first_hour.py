"""A new user's first hour (issue 17): files others can read, Ctrl-C, honest exit codes, partial runs.

Each test names the behaviour it guards; every one failed before the change it accompanies.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from comic_emotion import storage

from test_leaderboard import write_run

CLI = str(Path(sys.executable).parent / "comic-emotion")


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- 4. files others can read -----------------------------------------------------------------


@pytest.mark.parametrize(("mask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750),
                                                              (0o077, 0o600, 0o700)])
def test_atomic_writes_and_staging_directories_follow_the_umask(tmp_path, mask, file_mode, dir_mode):
    with umask(mask):
        assert storage.current_umask() == mask
        storage.write_json_atomic(tmp_path / "a.json", {"x": 1})
        storage.write_text_atomic(tmp_path / "b.md", "# b\n")
        with storage.atomic_path(tmp_path / "c.npz") as tmp, open(tmp, "wb") as handle:
            np.savez(handle, x=np.zeros(2))
        staging = storage.staging_directory(tmp_path / "merged")
        storage.write_text_atomic(staging / "config.json", "{}")
        storage.replace_directory(staging, tmp_path / "merged")
    for name in ("a.json", "b.md", "c.npz", "merged/config.json"):
        assert _mode(tmp_path / name) == file_mode, name
    assert _mode(tmp_path / "merged") == dir_mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.md", "c.npz", "merged"]


def test_published_leaderboard_page_is_world_readable_under_umask_022(tmp_path):
    run = write_run(tmp_path / "run")
    board, site = tmp_path / "board.json", tmp_path / "site"
    with umask(0o022):
        for command in (["add", str(run), "--board", str(board), "--allow-demo"],
                        ["render", "--board", str(board), "--out", str(site), "--runs", str(run)]):
            done = subprocess.run([CLI, "leaderboard", *command], capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stderr
    written = [board, site / "index.html", *sorted((site / "samples").glob("*.html"))]
    assert len(written) >= 3
    assert {p.name: oct(_mode(p)) for p in written} == {p.name: oct(0o644) for p in written}
