"""lmms-eval task definitions (YAML) and their thin hooks.

lmms-eval finds tasks by walking directories; :func:`tasks_dir` is the directory to pass as
``--include_path`` when the automatic registration (see :mod:`comic_emotion.lmms_plugin`) is not
available.
"""

from pathlib import Path


def tasks_dir() -> Path:
    """Absolute path of the directory holding this package's task YAML files."""
    return Path(__file__).resolve().parent
