"""What `lmms-eval --tasks comic_emotion` measures, through the real CLI: real corpora first, the demo only on purpose.

- with corpora prepared (from small files in the real formats, built here) the group scores them, each on
  its native label set, and not the demo; its macro_f1 is their mean and its alias says so;
- with none prepared it runs the demo subtasks and says so (log line, group alias);
- a real subtask asked for by name without prepared data fails in one line naming the prepare command
  (lmms-eval: no results file; `comic-emotion run`: exit 1 before any model loads);
- `regress` refuses a demo run against a real one (exit 2).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from converter_fixtures import write_emocomics35_csv, write_emorecom_release
from test_leaderboard import write_run

from comic_emotion.converters import get_converter
from comic_emotion.converters.base import prepare
from comic_emotion.storage import data_hash

pytestmark = pytest.mark.integration
DEMO_SUBTASKS = ["comic_emotion_comic", "comic_emotion_manga", "comic_emotion_art"]
SCRIPTS = Path(sys.executable).parent


def _lmms_eval(tmp_path: Path, tasks: str, env: dict[str, str], *extra: str) -> tuple[subprocess.CompletedProcess, list[Path]]:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "lmms_eval", "--model", "comic_emotion_majority", "--tasks", tasks,
               "--output_path", str(out), *extra]
    completed = subprocess.run(command, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=600,
                               env=env)
    return completed, sorted(out.rglob("*_results.json"))


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "COMIC_EMOTION_DATA"}
    return {**env, **values}


def test_comic_emotion_scores_the_prepared_real_corpora_and_not_the_demo(tmp_path: Path):
    root = tmp_path / "data"
    write_emorecom_release(tmp_path / "emorecom", n_train=12, test_labels=False)
    write_emocomics35_csv(tmp_path / "emocomics35" / "emocomics35_pg_images_original.csv")
    manifests = {name: prepare(get_converter(name), tmp_path / name, root, today="2026-01-01")
                 for name in ("emorecom", "emocomics35")}
    completed, found = _lmms_eval(tmp_path, "comic_emotion", _env(COMIC_EMOTION_DATA=str(root)))
    log = completed.stdout + completed.stderr
    assert found, f"no results JSON; exit {completed.returncode}\n{log[-4000:]}"
    results = json.loads(found[-1].read_text())
    expected = ["comic_emotion_emorecom", "comic_emotion_emocomics35"]
    assert sorted(results["group_subtasks"]["comic_emotion"]) == sorted(expected)
    assert not set(DEMO_SUBTASKS) & set(results["results"]), "the demo was scored although real corpora are prepared"
    for task, dataset in zip(expected, ("emorecom", "emocomics35")):
        metadata = results["configs"][task]["metadata"]
        assert metadata["data_source"] == "real" and metadata["data_hash"] == data_hash(manifests[dataset])
    group = results["results"]["comic_emotion"]
    mean = sum(results["results"][t]["macro_f1,none"] for t in expected) / 2
    assert group["macro_f1,none"] == pytest.approx(mean, abs=1e-12)
    assert "real" in group["alias"] and "mean over 2 prepared corpora" in group["alias"]
    assert "scoring 2 prepared real corpora" in log and "not prepared, so not scored: manga109-emotion" in log
    assert "DEMO" not in group["alias"]


def test_comic_emotion_without_prepared_corpora_runs_the_demo_and_says_so(tmp_path: Path, demo_root: Path):
    completed, found = _lmms_eval(tmp_path, "comic_emotion", _env(), "--limit", "4")
    log = completed.stdout + completed.stderr
    assert found, f"no results JSON; exit {completed.returncode}\n{log[-4000:]}"
    results = json.loads(found[-1].read_text())
    assert results["group_subtasks"]["comic_emotion"] == DEMO_SUBTASKS
    assert results["results"]["comic_emotion"]["alias"].startswith("comic_emotion [DEMO: no real corpus prepared")
    assert "no real corpus is prepared under $COMIC_EMOTION_DATA (not set); running the synthetic DEMO set" in log
    for task in DEMO_SUBTASKS:
        assert results["configs"][task]["metadata"]["data_source"].startswith("demo")


def test_real_subtask_without_data_fails_naming_the_prepare_command_and_writes_no_results(tmp_path: Path):
    completed, found = _lmms_eval(tmp_path, "comic_emotion_emorecom", _env(), "--limit", "2")
    assert not found, "lmms-eval wrote results for a subtask whose corpus is not prepared"
    line = ("comic_emotion_emorecom: dataset 'emorecom' is not prepared under $COMIC_EMOTION_DATA (not set); "
            "run `comic-emotion data prepare emorecom --source PATH`")
    assert line in completed.stdout + completed.stderr


def test_comic_emotion_run_refuses_an_unprepared_real_subtask_before_loading_a_model(tmp_path: Path):
    done = subprocess.run([str(SCRIPTS / "comic-emotion"), "run", "--model", "comic_emotion_majority",
                           "--tasks", "comic_emotion_emocomics35", "--output_path", str(tmp_path / "out")],
                          capture_output=True, text=True, check=False, cwd=tmp_path, timeout=300,
                          env=_env(COMIC_EMOTION_DATA=str(tmp_path / "empty")))
    assert done.returncode == 1
    line = (f"comic-emotion: error: comic_emotion_emocomics35: dataset 'emocomics35' is not prepared under "
            f"$COMIC_EMOTION_DATA ({tmp_path / 'empty'}); run `comic-emotion data prepare emocomics35 --source PATH` "
            "(a real subtask never falls back to the demo set)")
    assert done.stderr.strip().splitlines() == [line]
    assert not (tmp_path / "out").exists()


def test_regress_refuses_demo_against_real_with_exit_2(tmp_path: Path):
    demo = write_run(tmp_path / "demo", n=30, demo=True)
    real = write_run(tmp_path / "real", n=30, demo=False)
    for baseline, candidate in ((demo, real), (real, demo)):
        done = subprocess.run([str(SCRIPTS / "comic-emotion"), "regress", "--baseline", str(baseline),
                               "--candidate", str(candidate)], capture_output=True, text=True, check=False)
        assert done.returncode == 2, done.stdout
        assert len(done.stderr.strip().splitlines()) == 1 and "demo and real runs never gate each other" in done.stderr


def test_regress_refuses_runs_on_other_data_with_exit_2(tmp_path: Path):
    first = write_run(tmp_path / "a", n=30, demo=False, data_tag="v1")
    second = write_run(tmp_path / "b", n=30, demo=False, data_tag="v2")
    done = subprocess.run([str(SCRIPTS / "comic-emotion"), "regress", "--baseline", str(first),
                           "--candidate", str(second)], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "data_hash differs" in done.stderr


def test_selection_says_what_the_group_measures(tmp_path: Path, monkeypatch):
    from comic_emotion.tasks.suites import HEADLINE_CORPORA, headline_selection

    monkeypatch.delenv("COMIC_EMOTION_DATA", raising=False)
    selection = headline_selection()
    assert selection.demo and list(selection.subtasks) == DEMO_SUBTASKS
    assert set(selection.not_prepared) == set(HEADLINE_CORPORA.values())
    (tmp_path / "emoart").mkdir()
    (tmp_path / "emoart" / "manifest.json").write_text("{}")
    monkeypatch.setenv("COMIC_EMOTION_DATA", str(tmp_path))
    selection = headline_selection()
    assert not selection.demo and selection.subtasks == ("comic_emotion_emoart",)
    assert "mean over 1 prepared corpora: emoart" in selection.alias


def test_run_summary_names_what_the_group_number_is_a_mean_of():
    from comic_emotion.runner import summary_table

    alias = "comic_emotion [real: macro_f1 = unweighted mean over 1 prepared corpora: emoart]"
    results = {"results": {"comic_emotion_emoart": {"alias": " - comic_emotion_emoart", "macro_f1,none": 0.25},
                           "comic_emotion": {"alias": alias, "macro_f1,none": 0.25}},
               "configs": {"comic_emotion_emoart": {"metadata": {"data_source": "real"}}}}
    table = summary_table(results)
    assert table.splitlines()[-1] == f"group comic_emotion: macro_f1 0.2500  ({alias})"
    assert "DEMO DATA" not in table
