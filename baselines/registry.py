"""lmms-eval model names of this package and the classes behind them (imported only when used)."""

from types import MappingProxyType

MODEL_CLASSES = MappingProxyType(
    {
        "comic_emotion_majority": "comic_emotion.baselines.majority.MajorityBaseline",
    }
)
