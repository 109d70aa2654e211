"""Task hooks referenced by the YAML files (``!function utils.<name>``); see :mod:`comic_emotion.tasks.hooks`."""

from comic_emotion.tasks.hooks import *  # noqa: F401,F403  (lmms-eval resolves names in this file)
