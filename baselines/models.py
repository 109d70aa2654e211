"""Training, saving and applying the CPU reference models (text, image, concat, late fusion, multitask).

The kinds are the unimodal, fusion and multitask arms of the Manga-MMTL comparison (image only,
text only, feature concatenation, late fusion of the unimodal scores, and M5's multimodal
multitask network). The first four are, per dataset and per label, a one-vs-rest logistic
regression (scikit-learn), plus a ridge regression for intensity; the multitask network is in
:mod:`comic_emotion.baselines.multitask`.

Artefacts hold no pickle: a directory with ``manifest.json`` (format version, scikit-learn and
NumPy versions, training data and hash, labels) and one ``<dataset>.npz`` of weight arrays per
dataset, read with ``allow_pickle=False`` and checked against the sha256 in the manifest. Applying
a model is a few matrix products in NumPy, so an artefact never executes code when loaded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from comic_emotion.baselines import features as F
from comic_emotion.baselines import multitask

import comic_emotion
from comic_emotion.data import cache_root, resolve_split
from comic_emotion.storage import (
    DataError,
    atomic_path,
    file_lock,
    load_split_dataset,
    sha256_file,
    write_json_atomic,
)
from comic_emotion.taxonomy import label_set

KINDS = ("text", "image", "concat", "late_fusion", "multitask")
FORMAT = "comic-emotion-baseline"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# Regularisation strengths (inverse, as sklearn's C): L2-normalised TF-IDF rows need a weak
# penalty; the standardised image block a moderate one. The concat values (C and the image block
# weight below) were picked from a 2x3 grid on the demo set; real data may want its own.
_C = {"text": 10.0, "image": 1.0, "concat": 10.0, "stack": 1.0}
_FOLDS = 5
_HEADS_OF = {"text": ("text",), "image": ("image",), "concat": ("concat",), "late_fusion": ("text", "image"),
             "multitask": ()}


class ArtifactError(DataError):
    """A baseline artefact is missing, corrupt, of another kind or of an older format."""


def retrain_hint(kind: str, where: str | os.PathLike[str]) -> str:
    """The command that rebuilds an artefact of ``kind`` at ``where``, appended to every artefact error.

    One place for the wording, so each message about a missing or stale artefact ends in a command
    that works as written.
    """
    return f"retrain with `comic-emotion baselines train {kind} --split train --out {where}`"


@dataclass
class DatasetModel:
    """The fitted weights of one kind for one dataset: arrays keyed as in the ``.npz`` file."""

    labels: tuple[str, ...]
    multi_label: bool
    arrays: dict[str, np.ndarray]

    def _logits(self, head: str, x) -> np.ndarray:
        return np.asarray(x @ self.arrays[f"{head}_coef"].T) + self.arrays[f"{head}_intercept"]

    def _intensity(self, head: str, x) -> np.ndarray | None:
        if f"{head}_ridge_coef" not in self.arrays:
            return None
        return np.asarray(x @ self.arrays[f"{head}_ridge_coef"]).ravel() + float(self.arrays[f"{head}_ridge_intercept"])

    def inputs(self, kind: str, records: Sequence[Mapping[str, Any]], images: Sequence[Any]) -> dict[str, Any]:
        """The feature matrices the kind reads (text block, standardised image block, or both)."""
        out: dict[str, Any] = {}
        if kind != "image":
            # Only n-grams seen in training have weights: the columns keep lbfgs's problem small.
            out["text"] = F.tfidf(F.text_counts(records)[:, self.arrays["text_columns"]], self.arrays["idf"])
        if kind != "text":
            raw = np.stack([F.image_features(image, record) for image, record in zip(images, records)])
            out["image"] = (raw - self.arrays["image_mean"]) / self.arrays["image_scale"]
        if kind in ("concat", "multitask"):
            # lazy: SciPy
            from scipy import sparse

            weight = _image_block_weight() if kind == "concat" else multitask.image_block_weight()
            out[kind] = sparse.hstack([out["text"], weight * out["image"]], format="csr")
        return out

    def scores(self, kind: str, x: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-label probabilities (n, labels) and intensities (n,) or ``None``."""
        return self._outputs(kind, x)[:2]

    def _outputs(self, kind: str, x: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """:meth:`scores` plus the multitask model's speaker-rank scores (``None`` for the other kinds)."""
        if kind == "multitask":
            probabilities, intensity, speaker = multitask.outputs(self.arrays, x[kind])
            return probabilities, None if intensity is None else np.clip(intensity, 0.0, 1.0), speaker
        if kind == "late_fusion":
            stacked = np.stack([self._logits("text", x["text"]), self._logits("image", x["image"])], axis=2)
            logits = (stacked * self.arrays["stack_coef"]).sum(axis=2) + self.arrays["stack_intercept"]
            parts = [self._intensity(head, x[head]) for head in ("text", "image")]
            intensity = None if parts[0] is None else (parts[0] + parts[1]) / 2
        else:
            logits, intensity = self._logits(kind, x[kind]), self._intensity(kind, x[kind])
        probabilities = 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
        return probabilities, None if intensity is None else np.clip(intensity, 0.0, 1.0), None

    def answers(self, kind: str, records: Sequence[Mapping[str, Any]], images: Sequence[Any]) -> list[dict[str, Any]]:
        """Predictions in the answer format of the task prompt, one per record."""
        probabilities, intensity, speaker = self._outputs(kind, self.inputs(kind, records, images))
        out = []
        for i, record in enumerate(records):
            p = probabilities[i]
            best = int(np.argmax(p))
            chosen = {j for j in range(len(self.labels)) if p[j] >= 0.5} if self.multi_label else set()
            chosen.add(best)
            out.append({
                "emotions": [self.labels[j] for j in sorted(chosen)],
                "confidence": {label: round(float(p[j]), 4) for j, label in enumerate(self.labels)},
                "intensity": None if intensity is None else round(float(intensity[i]), 4),
                "speaker": (None if kind == "text" else F.predict_speaker(record) if speaker is None
                            else multitask.speaker(record, speaker[i])),
            })
        return out


def _image_block_weight() -> float:
    # Standardised image features have unit variance per column; dividing by sqrt(columns) gives
    # the block about the unit norm of a TF-IDF row. Half of that keeps the many correlated image
    # columns from outvoting the text on the demo's text-decided panels.
    return 0.5 / float(np.sqrt(F.image_feature_size()))


def _label_matrix(records: Sequence[Mapping[str, Any]], labels: tuple[str, ...]) -> np.ndarray:
    index = {label: j for j, label in enumerate(labels)}
    y = np.zeros((len(records), len(labels)), dtype=np.int8)
    for i, record in enumerate(records):
        for label in record["emotions"]:
            y[i, index[label]] = 1
    return y


def _fit_heads(x, y: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest logistic regressions; a label constant in training gets a constant score."""
    # lazy: scikit-learn
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((y.shape[1], x.shape[1]), dtype=np.float32)
    intercept = np.zeros(y.shape[1], dtype=np.float32)
    for j in range(y.shape[1]):
        if y[:, j].min() == y[:, j].max():
            intercept[j] = 10.0 if y[0, j] else -10.0
            continue
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(x, y[:, j])
        coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
    return coef, intercept


def _out_of_fold_logits(x, y: np.ndarray, c: float) -> np.ndarray:
    """Logits of each training sample from heads fitted without its fold (for the late-fusion stacker)."""
    n = y.shape[0]
    folds = np.arange(n) % _FOLDS
    logits = np.zeros(y.shape, dtype=np.float64)
    for fold in range(min(_FOLDS, n)):
        train, held = folds != fold, folds == fold
        coef, intercept = _fit_heads(x[train], y[train], c)
        logits[held] = np.asarray(x[held] @ coef.T) + intercept
    return logits


def fit_dataset(kind: str, records: Sequence[Mapping[str, Any]], images: Sequence[Any],
                labels: Sequence[str]) -> DatasetModel:
    """Fit one kind on the training records (and their PIL images) of one dataset."""
    # lazy: scikit-learn
    from sklearn.linear_model import LogisticRegression, Ridge

    if kind not in KINDS:
        raise ValueError(f"unknown baseline kind {kind!r}; known: {', '.join(KINDS)}")
    if not records:
        raise ValueError("cannot fit a baseline on an empty training split")
    labels = tuple(labels)
    y = _label_matrix(records, labels)
    arrays: dict[str, np.ndarray] = {}
    counts = F.text_counts(records).tocsc()
    arrays["text_columns"] = np.flatnonzero(np.diff(counts.indptr)).astype(np.int64)
    arrays["idf"] = F.fit_idf(counts[:, arrays["text_columns"]].tocsr())
    raw = np.stack([F.image_features(image, record) for image, record in zip(images, records)])
    arrays["image_mean"] = raw.mean(axis=0).astype(np.float32)
    arrays["image_scale"] = (raw.std(axis=0) + 1e-3).astype(np.float32)
    model = DatasetModel(labels, bool((y.sum(axis=1) > 1).any()), arrays)
    x = model.inputs("concat" if kind == "late_fusion" else kind, records, images)
    intensity = np.array([r.get("intensity") if r.get("intensity") is not None else np.nan for r in records], dtype=float)
    known = ~np.isnan(intensity)
    for head in _HEADS_OF[kind]:
        arrays[f"{head}_coef"], arrays[f"{head}_intercept"] = _fit_heads(x[head], y, _C[head])
        if known.sum() >= 2:
            ridge = Ridge(alpha=1.0).fit(x[head][known], intensity[known])
            arrays[f"{head}_ridge_coef"] = ridge.coef_.astype(np.float32)
            arrays[f"{head}_ridge_intercept"] = np.float32(ridge.intercept_)
    if kind == "late_fusion":
        stack = np.stack([_out_of_fold_logits(x["text"], y, _C["text"]),
                          _out_of_fold_logits(x["image"], y, _C["image"])], axis=2)
        coef, intercept = np.zeros((len(labels), 2), np.float32), np.zeros(len(labels), np.float32)
        for j in range(len(labels)):
            if y[:, j].min() == y[:, j].max():
                coef[j], intercept[j] = (0.5, 0.5), 0.0
                continue
            stacker = LogisticRegression(C=_C["stack"], max_iter=1000, class_weight="balanced").fit(stack[:, j, :], y[:, j])
            coef[j], intercept[j] = stacker.coef_[0], stacker.intercept_[0]
        arrays["stack_coef"], arrays["stack_intercept"] = coef, intercept
    if kind == "multitask":
        arrays.update(multitask.fit_arrays(x["multitask"], records, y, intensity))
    if kind == "image":
        del arrays["idf"], arrays["text_columns"]
    if kind == "text":
        del arrays["image_mean"], arrays["image_scale"]
    return model


@dataclass
class Artifact:
    """A loaded artefact: the kind, and a fitted model per dataset key."""

    kind: str
    path: Path
    models: dict[str, DatasetModel]
    manifest: Mapping[str, Any]


def save_artifact(directory: str | os.PathLike[str], kind: str, models: Mapping[str, DatasetModel],
                  provenance: Mapping[str, Mapping[str, Any]]) -> Path:
    """Write ``models`` (dataset key -> model) and the manifest into ``directory`` (files written atomically)."""
    # lazy: scikit-learn
    import sklearn

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    datasets = {}
    for name, model in models.items():
        target = directory / f"{name}.npz"
        with atomic_path(target) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **model.arrays)
        datasets[name] = {**provenance.get(name, {}), "labels": list(model.labels), "multi_label": model.multi_label,
                          "weights": target.name, "weights_sha256": sha256_file(target)}
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind,
                "sklearn_version": sklearn.__version__, "numpy_version": np.__version__,
                "package_version": comic_emotion.__version__, "datasets": datasets}
    write_json_atomic(directory / MANIFEST, manifest)
    return directory


def load_artifact(directory: str | os.PathLike[str], *, kind: str) -> Artifact:
    """Read and verify an artefact; raise :class:`ArtifactError` naming the file and the fix."""
    directory = Path(directory)
    path = directory / MANIFEST if directory.is_dir() or not directory.suffix else directory
    directory = path.parent
    hint = retrain_hint(kind, directory)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path}: baseline artefact not found; {hint}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: not a valid artefact manifest ({exc}); {hint}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"{path}: not a comic-emotion baseline artefact; {hint}")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        age = "an older" if isinstance(version, int) and version < FORMAT_VERSION else "another"
        raise ArtifactError(f"{path}: artefact of {age} format version ({version}); this release reads version "
                            f"{FORMAT_VERSION}: {hint}")
    if manifest.get("kind") != kind:
        raise ArtifactError(f"{path}: artefact of kind {manifest.get('kind')!r}, not {kind!r}; pass an artefact "
                            f"trained for {kind} or {hint}")
    models = {}
    for name, entry in (manifest.get("datasets") or {}).items():
        weights = directory / entry["weights"]
        if not weights.is_file():
            raise ArtifactError(f"{weights}: weights file listed in {path} is missing; {hint}")
        if sha256_file(weights) != entry["weights_sha256"]:
            raise ArtifactError(f"{weights}: sha256 differs from {path} (corrupt or replaced); {hint}")
        with np.load(weights, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        models[name] = DatasetModel(tuple(entry["labels"]), bool(entry["multi_label"]), arrays)
    if not models:
        raise ArtifactError(f"{path}: artefact holds no dataset; {hint}")
    return Artifact(kind, directory, models, manifest)


def training_rows(dataset: str, split: str) -> tuple[list[dict[str, Any]], list[Any], dict[str, Any]]:
    """Records, PIL images and provenance of one split (real if prepared, else demo)."""

    resolved = resolve_split(dataset, split)
    table = load_split_dataset(resolved.path)
    records = [json.loads(text) for text in table["sample"]]
    images = [row["image"] for row in table]
    provenance = {"dataset": dataset, "split": split, "n_train": len(records), "label_set": resolved.label_set,
                  "data_hash": resolved.data_hash, "data_source": resolved.describe()["data_source"]}
    return records, images, provenance


def train(kind: str, datasets: Iterable[str], split: str, out: str | os.PathLike[str]) -> Path:
    """Fit ``kind`` on ``split`` of every dataset and save one artefact directory."""

    models, provenance = {}, {}
    for dataset in datasets:
        records, images, info = training_rows(dataset, split)
        models[dataset] = fit_dataset(kind, records, images, label_set(info["label_set"]))
        provenance[dataset] = info
    return save_artifact(out, kind, models, provenance)


def cached_model(kind: str, dataset: str, split: str) -> DatasetModel:
    """The model of ``kind`` for one dataset, trained on first use and cached in ``$COMIC_EMOTION_CACHE``."""

    resolved = resolve_split(dataset, split)
    directory = cache_root() / "baselines" / f"{kind}-f{FORMAT_VERSION}-{dataset}-{split}-{resolved.data_hash[:16]}"
    directory.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(str(directory) + ".lock"):  # parallel ranks train once
        if not (directory / MANIFEST).exists():
            train(kind, [dataset], split, directory)
    return load_artifact(directory, kind=kind).models[dataset]
