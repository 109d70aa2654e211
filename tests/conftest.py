"""Test-session environment: offline, and every generated file under one temporary directory."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="comic-emotion-tests-"))
atexit.register(shutil.rmtree, _SESSION_DIR, ignore_errors=True)
# Set before any test (and any subprocess it starts) reads them.
os.environ.update(
    {
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "COMIC_EMOTION_CACHE": str(_SESSION_DIR / "cache"),
        "HF_DATASETS_CACHE": str(_SESSION_DIR / "hf-datasets"),
        "WANDB_MODE": "disabled",
        "TOKENIZERS_PARALLELISM": "false",
    }
)
os.environ.pop("COMIC_EMOTION_DATA", None)

ARTIFACTS = Path(os.environ.get("COMIC_EMOTION_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))


@pytest.fixture(scope="session")
def session_dir() -> Path:
    """A temporary directory shared by the whole test session."""
    return _SESSION_DIR


@pytest.fixture(scope="session")
def demo_root() -> Path:
    """The demo set, generated once per session into the session cache."""
    from comic_emotion.data import ensure_demo

    return ensure_demo()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests save files for people to look at (screenshots, tables)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
