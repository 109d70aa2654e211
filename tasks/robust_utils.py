"""Hooks of the comic_emotion_robust variants (``!function robust_utils.<name>``)."""

from comic_emotion.tasks.robust import RobustComicEmotionTask  # noqa: F401  (referenced by the robust YAMLs)
from comic_emotion.tasks.hooks import mean_of_defined  # noqa: F401  (the robust group's aggregation)
