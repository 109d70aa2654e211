"""Task class of the comic_emotion_robust variants (``!function robust_utils.RobustComicEmotionTask``)."""

from comic_emotion.perturbations.hooks import RobustComicEmotionTask  # noqa: F401  (referenced by the robust YAMLs)
