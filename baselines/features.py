"""Input features of the CPU reference models: what a model can see, never gold labels or ``meta``.

* Text: the prompt's text channel (:func:`comic_emotion.prompts.text_channel`: bubbles, captions,
  titles in reading order, without speaker names) as hashed character 1–3-grams, so Japanese needs
  no tokenizer and nothing is fitted but an IDF vector.
* Image: hand-made features of the pixels (colour, brightness, edges) plus face geometry where the
  record has character boxes (gradient-orientation histograms of each face crop, as in HOG, and
  the face's size and place). No pretrained network.
* Speaker: the character whose face is nearest to the first text box in reading order, the
  bubble-tail heuristic (or, for the multitask model, the face its speaker output ranks first among
  the nearest); it reads boxes only.

All functions are pure and deterministic; each returns float32 arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from comic_emotion.prompts import text_channel

TEXT_FEATURES = 1 << 16
TEXT_NGRAMS = (1, 3)
_SIDE = 64  # whole-image features are computed on a 64x64 thumbnail
_FACE_SIDE = 32
_ORIENTATIONS = 8
_COLOUR_BINS = 8
_BILINEAR = 2  # PIL.Image.Resampling.BILINEAR, without importing PIL here


def text_of(record: Mapping[str, Any]) -> str:
    """The text a text-only model reads: the prompt's text channel, one line per region."""
    return "\n".join(text_channel(record))


def hashing_vectorizer():
    """Stateless char n-gram counter (``char_wb``, 1–3): works for Japanese without a tokenizer."""
    # lazy: scikit-learn
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer="char_wb", ngram_range=TEXT_NGRAMS, n_features=TEXT_FEATURES,
                             alternate_sign=False, norm=None, lowercase=True, dtype=np.float32)


def text_counts(records: Sequence[Mapping[str, Any]]):
    """Sparse (n, TEXT_FEATURES) char n-gram counts of the text channels."""
    return hashing_vectorizer().transform([text_of(r) for r in records])


def tfidf(counts, idf: np.ndarray):
    """Sublinear TF times IDF, each row L2-normalised (sklearn's ``TfidfTransformer`` formula)."""
    # lazy: scikit-learn
    from sklearn.preprocessing import normalize

    weighted = counts.copy()
    weighted.data = (1.0 + np.log(weighted.data)).astype(np.float32)
    return normalize(weighted.multiply(idf).tocsr(), norm="l2", copy=False)


def fit_idf(counts) -> np.ndarray:
    """Smoothed IDF ``ln((1 + n) / (1 + df)) + 1`` of a count matrix."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def _orientation_histogram(gray: np.ndarray, cells: int) -> np.ndarray:
    """Magnitude-weighted gradient-orientation histograms on a ``cells x cells`` grid (unsigned, HOG-like)."""
    gy, gx = np.gradient(gray)
    magnitude = np.hypot(gx, gy)
    angle = np.mod(np.arctan2(gy, gx), np.pi)
    bins = np.minimum((angle / np.pi * _ORIENTATIONS).astype(np.int64), _ORIENTATIONS - 1)
    side = gray.shape[0] // cells
    rows = np.minimum(np.arange(gray.shape[0]) // side, cells - 1)
    cols = np.minimum(np.arange(gray.shape[1]) // side, cells - 1)
    index = (rows[:, None] * cells + cols[None, :]) * _ORIENTATIONS + bins
    hist = np.bincount(index.ravel(), weights=magnitude.ravel(), minlength=cells * cells * _ORIENTATIONS)
    hist = hist.reshape(cells * cells, _ORIENTATIONS)
    return (hist / (np.linalg.norm(hist, axis=1, keepdims=True) + 1e-6)).ravel()


def _global_features(rgb: np.ndarray) -> np.ndarray:
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    gray = (red + green + blue) / 3.0
    pixels = rgb.reshape(-1, 3)
    # One bincount for the three channel histograms: channel c's bins sit at c * bins + level.
    levels = np.minimum((pixels * _COLOUR_BINS).astype(np.int64), _COLOUR_BINS - 1) + np.arange(3) * _COLOUR_BINS
    colour_hist = np.bincount(levels.ravel(), minlength=3 * _COLOUR_BINS) / gray.size
    maximum = np.maximum(np.maximum(red, green), blue)
    saturation = (maximum - np.minimum(np.minimum(red, green), blue)) / (maximum + 1e-6)
    gy, gx = np.gradient(gray)
    magnitude = np.hypot(gx, gy)
    stats = [*pixels.mean(axis=0), *pixels.std(axis=0), gray.mean(), gray.std(),
             saturation.mean(), saturation.std(), magnitude.mean(), float((magnitude > 0.1).mean())]
    return np.concatenate([stats, colour_hist, _orientation_histogram(gray, 2)])


def _face_features(image, boxes: list[Sequence[float]]) -> np.ndarray:
    width, height = image.size
    per_face = []
    for x, y, w, h in boxes:
        left, top = int(max(0, x)), int(max(0, y))
        right, bottom = int(min(width, x + w)), int(min(height, y + h))
        if right - left < 2 or bottom - top < 2:
            continue
        crop = image.resize((_FACE_SIDE, _FACE_SIDE), _BILINEAR, box=(left, top, right, bottom), reducing_gap=2.0)
        rgb = np.asarray(crop, dtype=np.float32) / 255.0
        gray = rgb.mean(axis=2)
        half = _FACE_SIDE // 2
        geometry = [w / width, h / height, (x + w / 2) / width, (y + h / 2) / height]
        shading = [gray[:half].mean(), gray[half:].mean(), gray[:half].std(), gray[half:].std(),
                   *rgb.reshape(-1, 3).mean(axis=0)]
        per_face.append(np.concatenate([geometry, shading, _orientation_histogram(gray, 4)]))
    size = 4 + 7 + 16 * _ORIENTATIONS
    if not per_face:
        return np.zeros(size + 1)
    return np.concatenate([[1.0], np.mean(per_face, axis=0)])


def image_features(image, record: Mapping[str, Any]) -> np.ndarray:
    """Hand-made features of one image (PIL) and its character boxes; zeros when there is no image.

    Returns a float32 vector of :func:`image_feature_size` values.
    """
    if image is None:
        return np.zeros(image_feature_size(), dtype=np.float32)
    if image.mode != "RGB":
        image = image.convert("RGB")
    # Bilinear with a reducing gap: a box-filter pre-shrink, then bilinear; ~3x faster than bicubic.
    rgb = np.asarray(image.resize((_SIDE, _SIDE), _BILINEAR, reducing_gap=2.0), dtype=np.float32) / 255.0
    boxes = [c["bbox"] for c in record.get("characters") or () if c.get("bbox")]
    return np.concatenate([_global_features(rgb), _face_features(image, boxes)]).astype(np.float32)


def image_feature_size() -> int:
    """Length of :func:`image_features` vectors."""
    return 12 + 3 * _COLOUR_BINS + 4 * _ORIENTATIONS + 1 + 4 + 7 + 16 * _ORIENTATIONS


def first_utterance(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The first boxed speech or thought region with text, in reading order (rows of 40 px), if any."""
    texts = [r for r in record.get("text_regions") or () if r.get("bbox") and r.get("text", "").strip()
             and r.get("kind", "speech") in ("speech", "thought")]
    if not texts:
        return None
    rtl = record.get("reading_direction") == "rtl"
    return min(texts, key=lambda r: (round(r["bbox"][1] / 40),
                                     -(r["bbox"][0] + r["bbox"][2]) if rtl else r["bbox"][0]))


def faces_by_distance(record: Mapping[str, Any]) -> list[str]:
    """Actor ids of the characters with face boxes, nearest first to the first utterance's box (ties by id)."""
    faces = [(c["actor_id"], c["bbox"]) for c in record.get("characters") or () if c.get("bbox")]
    utterance = first_utterance(record) if faces else None
    if utterance is None:
        return []
    x, y, w, h = utterance["bbox"]
    cx, cy = x + w / 2, y + h / 2
    return [f[0] for f in sorted(faces, key=lambda f: ((f[1][0] + f[1][2] / 2 - cx) ** 2
                                                       + (f[1][1] + f[1][3] / 2 - cy) ** 2, f[0]))]


def predict_speaker(record: Mapping[str, Any]) -> str | None:
    """The character whose face box centre is nearest the first text box in reading order, if any."""
    faces = faces_by_distance(record)
    return faces[0] if faces else None
