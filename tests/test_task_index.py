"""Our task folder's index, read with libyaml by the plugin, equals lmms-eval 0.7.3's own index of it.

``comic-emotion run`` (and any lmms-eval run with the plugin) takes the index entries of our folder
from :func:`comic_emotion.lmms_plugin.our_task_index` instead of lmms-eval's ``_get_task_and_group``
(which re-reads the shared template once per subtask with the pure-Python YAML loader); the entries
must be exactly lmms-eval's, and other paths keep precedence over ours as lmms-eval's merge gives.
"""

from __future__ import annotations

import pytest

pytest.importorskip("lmms_eval")

from comic_emotion.tasks import tasks_dir

from comic_emotion import lmms_plugin


def _lmms_eval_index(*paths: str) -> dict:
    from lmms_eval.tasks import TaskManager
    from loguru import logger

    manager = TaskManager.__new__(TaskManager)  # no indexing at construction: call lmms-eval's walk directly
    manager.logger = logger
    index: dict = {}
    for path in paths:  # as TaskManager.initialize_tasks merges: earlier paths win
        index = {**TaskManager._get_task_and_group(manager, path), **index}
    return index


def test_our_index_equals_lmms_evals_own_index_of_the_task_folder():
    ours = lmms_plugin.our_task_index()
    assert ours is not None
    assert ours == _lmms_eval_index(str(tasks_dir()))
    assert {"comic_emotion", "comic_emotion_comic", "comic_emotion_robust_comic_ocr_noise_s3"} <= set(ours)


def test_task_manager_with_the_plugin_indexes_the_same_as_lmms_eval_and_lets_other_paths_win(tmp_path):
    from lmms_eval.tasks import TaskManager

    assert lmms_plugin.install_task_path()
    other = tmp_path / "other"
    other.mkdir()
    # A user's task of the same name as ours, in an --include_path: lmms-eval lets the earlier path win.
    (other / "mine.yaml").write_text("task: comic_emotion_comic\ndataset_path: x\ntest_split: test\n")
    manager = TaskManager(include_path=str(other), include_defaults=False)
    assert manager.task_index == _lmms_eval_index(str(other), str(tasks_dir()))
    assert manager.task_index["comic_emotion_comic"]["yaml_path"] == str(other / "mine.yaml")
