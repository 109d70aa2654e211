"""lmms-eval model names of this package and the classes behind them (imported only when used)."""

from types import MappingProxyType

MODEL_CLASSES = MappingProxyType(
    {
        "comic_emotion_majority": "comic_emotion.baselines.majority.MajorityBaseline",
        "comic_emotion_text": "comic_emotion.baselines.reference.TextBaseline",
        "comic_emotion_image": "comic_emotion.baselines.reference.ImageBaseline",
        "comic_emotion_concat": "comic_emotion.baselines.reference.ConcatBaseline",
        "comic_emotion_late_fusion": "comic_emotion.baselines.reference.LateFusionBaseline",
        "comic_emotion_multitask": "comic_emotion.baselines.reference.MultitaskBaseline",
        "comic_emotion_staged": "comic_emotion.baselines.staged.StagedCheckpoint",
    }
)
