"""The README's main job end to end (`comic-emotion demo`), and the regression gate on its real results.

`regress` must give 0 for a run against itself, 1 when the candidate is a much worse model (the label
prior against late fusion), and 2 for a truncated results file.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory: pytest.TempPathFactory, demo_root: Path) -> Path:
    output = tmp_path_factory.mktemp("demo-job") / "out"
    completed = subprocess.run(["comic-emotion", "demo", "--output", str(output), "--limit", "40"],
                               capture_output=True, text=True, timeout=900, cwd=output.parent)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "DEMO DATA" in completed.stdout
    return output


def _runs(output: Path) -> dict[str, Path]:
    runs = {}
    for path in sorted(output.rglob("*_results.json")):
        runs[json.loads(path.read_text())["config"]["model"]] = path
    return runs


def test_demo_writes_results_board_and_page(demo_output: Path):
    runs = _runs(demo_output)
    assert set(runs) == {"comic_emotion_majority", "comic_emotion_late_fusion"}
    board = json.loads((demo_output / "leaderboard-demo.json").read_text())
    assert len(board["entries"]) == 2
    page = (demo_output / "site" / "index.html").read_text()
    assert "comic_emotion_late_fusion" in page and "DEMO DATA" in page
    assert len(list((demo_output / "site" / "samples").glob("*.html"))) == 2


def _regress(baseline: Path, candidate: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["comic-emotion", "regress", "--baseline", str(baseline), "--candidate", str(candidate)],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


def test_regress_exit_codes_on_real_demo_results(demo_output: Path, tmp_path: Path):
    runs = _runs(demo_output)
    strong, weak = runs["comic_emotion_late_fusion"], runs["comic_emotion_majority"]
    same = _regress(strong, strong, tmp_path)
    assert same.returncode == 0, same.stdout[-2000:] + same.stderr[-2000:]
    worse = _regress(strong, weak, tmp_path)
    assert worse.returncode == 1, worse.stdout[-2000:] + worse.stderr[-2000:]
    truncated = tmp_path / "truncated_results.json"
    truncated.write_text(strong.read_text()[:500])
    broken = _regress(strong, truncated, tmp_path)
    assert broken.returncode == 2 and "truncated_results.json" in broken.stderr
