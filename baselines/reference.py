"""lmms-eval models of the CPU reference baselines: text only, image only, concat, late fusion, multitask.

``--model_args artifact=PATH`` loads a trained artefact (``comic-emotion baselines train``); without
it each dataset's model is trained on first use from the ``train_split`` of the task's data (real if
prepared, else demo) and cached in ``$COMIC_EMOTION_CACHE``, so
``lmms-eval --tasks comic_emotion --model comic_emotion_text`` works with no arguments.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from comic_emotion.baselines.base import CpuBaseline, answer_json
from comic_emotion.baselines.models import (
    ArtifactError,
    DatasetModel,
    cached_model,
    load_artifact,
    retrain_hint,
)
from lmms_eval.api.instance import Instance
from tqdm import tqdm

from comic_emotion.data import dataset_key_of, resolve_split
from comic_emotion.taxonomy import label_set

_CHUNK = 256


class FeatureBaseline(CpuBaseline):
    """Shared lmms-eval model of the feature baselines; subclasses set :attr:`kind`."""

    kind = ""

    def __init__(self, artifact: str = "", train_split: str = "train", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.train_split = train_split
        self.artifact = load_artifact(str(artifact), kind=self.kind) if artifact else None
        self._models: dict[str, DatasetModel] = {}

    def model_for(self, dataset: str, label_set_name: str, eval_split: str = "test") -> DatasetModel:
        """The fitted model of one dataset (from the artefact, or trained and cached on first use)."""
        if dataset not in self._models:
            if self.artifact is None:
                self._check_trainable(dataset, label_set_name, eval_split)
                model = cached_model(self.kind, dataset, self.train_split)
            elif dataset in self.artifact.models:
                model = self.artifact.models[dataset]
            else:
                raise ArtifactError(f"{self.artifact.path}: artefact has no model for dataset {dataset!r} (has: "
                                    f"{', '.join(sorted(self.artifact.models))}); "
                                    f"{retrain_hint(self.kind, self.artifact.path)} --dataset {dataset}")
            expected = label_set(label_set_name)
            if model.labels != expected:
                raise ArtifactError(f"model for dataset {dataset!r} predicts labels {list(model.labels)}, but the task "
                                    f"uses label set {label_set_name!r} {list(expected)}; retrain on this data")
            self._models[dataset] = model
        return self._models[dataset]

    def _check_trainable(self, dataset: str, label_set_name: str, eval_split: str) -> None:
        """One clear error where a dataset cannot train a feature model (before lmms-eval's traceback)."""
        name = type(self).__name__
        if not label_set(label_set_name):
            raise ArtifactError(f"{name}: dataset {dataset!r} has no emotion labels (label set {label_set_name!r}); "
                                "the feature baselines predict emotions: run comic_emotion_majority on it")
        splits = sorted(resolve_split(dataset, eval_split).manifest.get("splits", {}))
        if self.train_split not in splits:
            raise ArtifactError(f"{name}: dataset {dataset!r} has no {self.train_split!r} split to train on (has: "
                                f"{', '.join(splits)}); pass --model_args train_split=<split> or artifact=<path>, "
                                "or use comic_emotion_majority (test-set prior)")

    def generate_until(self, requests: list[Instance]) -> list[str]:
        """Answer requests grouped by (dataset, label set, split), in request order.

        Grouping loads or fits each dataset's model once and predicts its samples in chunks, instead
        of once per request.
        """
        answers: list[str | None] = [None] * len(requests)
        groups: dict[tuple[str, str, str], list[tuple[int, dict, Any]]] = defaultdict(list)
        for i, request in enumerate(requests):
            record = self.record_of(request)
            image = None if self.kind == "text" else self.image_of(request)
            key = (dataset_key_of(record), record["label_set"], str(record["source"].get("split") or "test"))
            groups[key].append((i, record, image))
        progress = tqdm(total=len(requests), disable=self.rank != 0, desc=type(self).__name__)
        for (dataset, label_set_name, eval_split), items in groups.items():
            model = self.model_for(dataset, label_set_name, eval_split)
            for start in range(0, len(items), _CHUNK):
                chunk = items[start:start + _CHUNK]
                predictions = model.answers(self.kind, [r for _, r, _ in chunk], [im for _, _, im in chunk])
                for (i, _, _), prediction in zip(chunk, predictions):
                    answers[i] = answer_json(prediction)
                progress.update(len(chunk))
        progress.close()
        return [answer for answer in answers if answer is not None]


class TextBaseline(FeatureBaseline):
    """``comic_emotion_text``: char 1–3-gram TF-IDF of the text channel, logistic regression per label."""

    kind = "text"


class ImageBaseline(FeatureBaseline):
    """``comic_emotion_image``: hand-made pixel and face-box features, logistic regression per label."""

    kind = "image"


class ConcatBaseline(FeatureBaseline):
    """``comic_emotion_concat``: text and image features concatenated (early fusion)."""

    kind = "concat"


class LateFusionBaseline(FeatureBaseline):
    """``comic_emotion_late_fusion``: per-label stacking of the text and image models' out-of-fold scores."""

    kind = "late_fusion"


class MultitaskBaseline(FeatureBaseline):
    """``comic_emotion_multitask``: one network with a shared hidden layer over the concatenated features,
    predicting labels, intensity and speaker jointly (Manga-MMTL's M5)."""

    kind = "multitask"
