"""The multitask CPU reference model: Manga-MMTL's M5 arm (multimodal and multitask) on our features.

One network with a shared hidden layer reads the concatenated text and image features (as the
concat model does, see :mod:`comic_emotion.baselines.models`) and predicts every target at once:
one output per emotion label (0/1 indicators), the sample intensity, and the speaker of the first
utterance as the rank of the speaker's face among the faces nearest that bubble (nearest, second
nearest, ...). The hidden layer is what the tasks share. It is scikit-learn's ``MLPRegressor``
(ReLU hidden layer, identity output, squared error), seeded; its weights are saved as arrays and
applied here with NumPy, so an artefact holds no pickle.

A target missing from a training record (no intensity, no speaker of its first bubble) is filled
with the mean of the records that have it: squared error then pulls those outputs toward the prior
instead of toward a made-up value. A target no training record has gets no output at all (the
answer says ``null`` for intensity and falls back to the nearest face for the speaker).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from comic_emotion.baselines import features as F

# Chosen by 5-fold cross-validation on the demo train splits only (macro-F1 of the label outputs):
# image block weight {0.25, 0.5} x alpha {0.1, 1} with 64 hidden units, where the same point won on
# all three; a first pass on comic (weights 0.5, 1; 64 or 128 units; alpha 1e-3..0.1) chose 64 units.
# lbfgs stops at MAX_ITER before convergence, which acts as early stopping.
HIDDEN = 64
ALPHA = 0.1
MAX_ITER = 200
SEED = 0
IMAGE_WEIGHT = 0.25  # times 1/sqrt(image columns): half the concat model's block weight
SPEAKER_RANKS = 3  # the speaker is one of the 3 faces nearest the first bubble (else no target)


def image_block_weight() -> float:
    """Scale of the standardised image block next to the TF-IDF rows in the network's input."""
    return IMAGE_WEIGHT / float(np.sqrt(F.image_feature_size()))


def targets(records: Sequence[Mapping[str, Any]], y: np.ndarray,
            intensity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The joint target matrix ``[labels..., intensity?, speaker rank 0..k-1]`` and its layout.

    Returns
    -------
    target : ndarray of shape (n, labels + intensity outputs + speaker outputs)
    layout : int64 array ``[labels, intensity outputs (0 or 1), speaker outputs (0 or SPEAKER_RANKS)]``
    """
    columns = [y.astype(np.float64)]
    known = ~np.isnan(intensity)
    has_intensity = int(known.sum() >= 2)
    if has_intensity:
        columns.append(np.where(known, intensity, intensity[known].mean())[:, None])
    ranks = np.full((len(records), SPEAKER_RANKS), np.nan)
    for i, record in enumerate(records):
        utterance = F.first_utterance(record)
        faces = F.faces_by_distance(record)[:SPEAKER_RANKS]
        if utterance is not None and utterance.get("speaker") in faces:
            ranks[i] = 0.0
            ranks[i, faces.index(utterance["speaker"])] = 1.0
    has_speaker = ~np.isnan(ranks[:, 0])
    if has_speaker.any():
        columns.append(np.where(has_speaker[:, None], ranks, ranks[has_speaker].mean(axis=0)))
    layout = np.array([y.shape[1], has_intensity, SPEAKER_RANKS * int(has_speaker.any())], dtype=np.int64)
    return np.hstack(columns), layout


def fit(x, target: np.ndarray):
    """The seeded scikit-learn network fitted on all targets jointly (the shared hidden layer)."""
    # lazy: scikit-learn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    network = MLPRegressor(hidden_layer_sizes=(HIDDEN,), alpha=ALPHA, solver="lbfgs", max_iter=MAX_ITER,
                           random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # stopping at MAX_ITER is deliberate
        return network.fit(x, target)


def fit_arrays(x, records: Sequence[Mapping[str, Any]], y: np.ndarray, intensity: np.ndarray) -> dict[str, np.ndarray]:
    """Fit the network and return its weights as the arrays an artefact stores."""
    target, layout = targets(records, y, intensity)
    network = fit(x, target)
    return {"mlp_layout": layout, "mlp_coef_0": network.coefs_[0], "mlp_intercept_0": network.intercepts_[0],
            "mlp_coef_1": network.coefs_[1], "mlp_intercept_1": network.intercepts_[1]}


def forward(arrays: Mapping[str, np.ndarray], x) -> np.ndarray:
    """The network's raw outputs: ``relu(x W0 + b0) W1 + b1`` (``MLPRegressor.predict``)."""
    hidden = np.maximum(np.asarray(x @ arrays["mlp_coef_0"]) + arrays["mlp_intercept_0"], 0.0)
    return hidden @ arrays["mlp_coef_1"] + arrays["mlp_intercept_1"]


def outputs(arrays: Mapping[str, np.ndarray], x) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Label scores clipped to [0, 1] (n, labels), intensities (n,) or ``None``, speaker-rank scores or ``None``."""
    labels, has_intensity, ranks = (int(v) for v in arrays["mlp_layout"])
    raw = forward(arrays, x)
    intensity = raw[:, labels] if has_intensity else None
    speaker = raw[:, labels + has_intensity:labels + has_intensity + ranks] if ranks else None
    return np.clip(raw[:, :labels], 0.0, 1.0), intensity, speaker


def speaker(record: Mapping[str, Any], rank_scores: np.ndarray | None) -> str | None:
    """The face the speaker output points to among those nearest the first bubble (nearest without one)."""
    faces = F.faces_by_distance(record)
    if not faces:
        return None
    if rank_scores is None:
        return faces[0]
    return faces[int(np.argmax(rank_scores[:min(len(faces), len(rank_scores))]))]
