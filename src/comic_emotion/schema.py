"""The canonical sample schema: one JSON-serialisable record per image (panel, page or painting).

Every part of the suite speaks this record: converters write it, the demo generator draws it, task
hooks format prompts from it, perturbations return new ones, metrics read its gold fields, baselines
train on it and the leaderboard records which data it came from.

A record is a plain ``dict`` (what lmms-eval hands to task hooks) checked in two passes:

1. structure, with the JSON Schema :data:`SAMPLE_SCHEMA` (types, required fields, ranges);
2. meaning, in :func:`validate_sample` (labels belong to the label set, boxes lie inside the
   image, attribution actors exist, intensities are finite).

Errors are :class:`SampleError` and always name the sample id and the field path, e.g.
``sample 'demo-comic-000003': field 'characters[1].intensity': 1.4 is greater than the maximum of 1``.

Versioning: :data:`SCHEMA_VERSION` is stored in every record and in every prepared split's
manifest; a reader refuses records of another major version.

Image bytes are not part of the record: prepared splits keep them in a separate ``image`` column
(HF ``datasets.Image``), so the record stays small and JSON-clean. ``image`` in the record
describes the picture (size, original path, sha256) and is ``null`` when a corpus ships none.
"""

from __future__ import annotations

import copy
import math
from functools import lru_cache
from typing import Any, Iterable, Mapping

from comic_emotion.taxonomy import LABEL_SETS

SCHEMA_VERSION = "1.0"
DOMAINS = ("comic", "manga", "art", "aux")
TEXT_KINDS = ("speech", "thought", "caption", "narration", "sfx", "title", "ocr")

_BBOX = {
    "description": "[x, y, width, height] in pixels of the image, origin top-left",
    "type": "array",
    "items": {"type": "number", "minimum": 0},
    "minItems": 4,
    "maxItems": 4,
}
_LABELS = {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True}
_UNIT = {"type": "number", "minimum": 0, "maximum": 1}
_OPT_UNIT = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_OPT_STR = {"type": ["string", "null"]}
# BCP-47 tags such as en, ja, zh-Hans, pt-BR (simplified: language, optional script/region).
_LANG = {"type": "string", "pattern": "^[a-z]{2,3}(-[A-Za-z]{4})?(-([A-Z]{2}|[0-9]{3}))?$"}

SAMPLE_SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"https://comic-emotion-bench/schema/sample-{SCHEMA_VERSION}.json",
    "title": "comic-emotion-bench canonical sample",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema_version", "id", "domain", "source", "label_set", "emotions"],
    "properties": {
        "schema_version": {"type": "string", "pattern": r"^\d+\.\d+$"},
        "id": {"type": "string", "minLength": 1, "pattern": r"^\S+$"},
        "domain": {"enum": list(DOMAINS)},
        "source": {
            "type": "object",
            "additionalProperties": False,
            "required": ["dataset", "licence", "synthetic"],
            "properties": {
                "dataset": {"type": "string", "minLength": 1},
                "licence": {"type": "string", "minLength": 1},
                "synthetic": {"type": "boolean"},
                "split": _OPT_STR,
                "original_id": _OPT_STR,
                "url": _OPT_STR,
            },
        },
        "image": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "required": ["width", "height"],
            "properties": {
                "width": {"type": "integer", "minimum": 1},
                "height": {"type": "integer", "minimum": 1},
                "path": _OPT_STR,
                "sha256": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"},
            },
        },
        "reading_direction": {"enum": ["ltr", "rtl"]},
        "label_set": {"type": "string"},
        "emotions": _LABELS,
        "canonical_emotions": _LABELS,
        "intensity": _OPT_UNIT,
        "valence": {"type": ["number", "null"], "minimum": -1, "maximum": 1},
        "arousal": _OPT_UNIT,
        "text_regions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "text", "lang"],
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "kind": {"enum": list(TEXT_KINDS)},
                    "bbox": {"oneOf": [_BBOX, {"type": "null"}]},
                    "text": {"type": "string"},
                    "lang": _LANG,
                    "speaker": _OPT_STR,
                    "emotions": {"oneOf": [_LABELS, {"type": "null"}]},
                    "intensity": _OPT_UNIT,
                    "translations": {"type": "object", "propertyNames": _LANG,
                                     "additionalProperties": {"type": "string"}},
                },
            },
        },
        "characters": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["actor_id"],
                "properties": {
                    "actor_id": {"type": "string", "minLength": 1},
                    "name": _OPT_STR,
                    "aliases": {"type": "array", "items": {"type": "string"}},
                    "bbox": {"oneOf": [_BBOX, {"type": "null"}]},
                    "emotions": {"oneOf": [_LABELS, {"type": "null"}]},
                    "intensity": _OPT_UNIT,
                },
            },
        },
        "attributions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["actor_id", "emotion"],
                "properties": {"actor_id": {"type": "string"}, "emotion": {"type": "string"}},
            },
        },
        "explanations": {"type": "array", "items": {"type": "string"}},
        "question": _OPT_STR,
        "answers": {"type": "array", "items": {"type": "string"}},
        "confidence": _OPT_UNIT,
        "meta": {"type": "object"},
    },
}


class SampleError(ValueError):
    """A record violates the schema; the message names the sample id and the field."""

    def __init__(self, sample_id: str, field: str, problem: str, *, where: str | None = None) -> None:
        self.sample_id, self.field, self.problem, self.where = sample_id, field, problem, where
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}sample {sample_id!r}: field {field!r}: {problem}")


@lru_cache(maxsize=1)
def _validator():
    # Imported lazily: jsonschema costs ~0.1 s and `import comic_emotion` must stay cheap.
    # lazy: jsonschema
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(SAMPLE_SCHEMA)
    return Draft202012Validator(SAMPLE_SCHEMA)


@lru_cache(maxsize=1)
def _fast_validator():
    """The schema compiled to Python by fastjsonschema (about 12x faster than jsonschema).

    It is the fast path for valid records; a record it rejects goes through jsonschema, the
    reference, for the error message. The schema uses only draft-07 keywords, so it compiles as one.
    """

    # lazy: fastjsonschema
    import fastjsonschema

    schema = copy.deepcopy(dict(SAMPLE_SCHEMA))
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema.pop("$id", None)
    return fastjsonschema.compile(schema)


def _path_str(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<record>"


def validate_sample(sample: Mapping[str, Any], *, where: str | None = None) -> None:
    """Check one record against the schema and its semantic rules.

    Parameters
    ----------
    sample
        The record.
    where
        Optional location for the message (file name, line number).

    Raises
    ------
    SampleError
        On the first problem found (structural problems first, the shallowest path first).
    """
    sample_id = str(sample.get("id", "<no id>")) if isinstance(sample, Mapping) else "<not an object>"
    if not isinstance(sample, Mapping):
        raise SampleError(sample_id, "<record>", f"expected a JSON object, got {type(sample).__name__}", where=where)
    # lazy: fastjsonschema
    from fastjsonschema import JsonSchemaValueException

    try:
        _fast_validator()(sample)
    except JsonSchemaValueException:
        _raise_structural_error(sample, sample_id, where)
    _check_semantics(sample, sample_id, where)


def _raise_structural_error(sample: Mapping[str, Any], sample_id: str, where: str | None) -> None:
    """Report the first structural problem as jsonschema (the reference validator) words it."""
    errors = sorted(_validator().iter_errors(sample), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        error = errors[0]
        path = _path_str(error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else error.message
            path = f"{path}.{missing}" if error.absolute_path else missing
            raise SampleError(sample_id, path, "required field is missing", where=where)
        raise SampleError(sample_id, path, error.message, where=where)


def _check_semantics(sample: Mapping[str, Any], sample_id: str, where: str | None) -> None:
    major = sample["schema_version"].split(".")[0]
    if major != SCHEMA_VERSION.split(".")[0]:
        raise SampleError(sample_id, "schema_version",
                          f"version {sample['schema_version']} is not readable by schema {SCHEMA_VERSION}; "
                          "re-run the converter of this release", where=where)
    name = sample["label_set"]
    if name not in LABEL_SETS:
        raise SampleError(sample_id, "label_set", f"unknown label set {name!r}; known: {', '.join(sorted(LABEL_SETS))}",
                          where=where)
    allowed = set(LABEL_SETS[name])

    def check_labels(labels: Any, field: str) -> None:
        for label in labels or ():
            if label not in allowed:
                raise SampleError(sample_id, field, f"label {label!r} is not in label set {name!r} "
                                  f"({', '.join(LABEL_SETS[name])})", where=where)

    check_labels(sample["emotions"], "emotions")
    for i, label in enumerate(sample.get("canonical_emotions") or ()):
        if label not in LABEL_SETS["canonical"]:
            raise SampleError(sample_id, f"canonical_emotions[{i}]", f"{label!r} is not a canonical label", where=where)
    image = sample.get("image")
    actors = {c["actor_id"] for c in sample.get("characters") or ()}
    for group in ("text_regions", "characters"):
        for i, region in enumerate(sample.get(group) or ()):
            check_labels(region.get("emotions"), f"{group}[{i}].emotions")
            bbox = region.get("bbox")
            if bbox is not None and image is not None:
                x, y, w, h = bbox
                if w <= 0 or h <= 0 or x + w > image["width"] + 1 or y + h > image["height"] + 1:
                    raise SampleError(sample_id, f"{group}[{i}].bbox",
                                      f"box {list(bbox)} is empty or outside the {image['width']}x{image['height']} image",
                                      where=where)
    for i, pair in enumerate(sample.get("attributions") or ()):
        check_labels([pair["emotion"]], f"attributions[{i}].emotion")
        if actors and pair["actor_id"] not in actors:
            raise SampleError(sample_id, f"attributions[{i}].actor_id",
                              f"actor {pair['actor_id']!r} is not among the characters ({', '.join(sorted(actors))})",
                              where=where)
    for field in ("intensity", "valence", "arousal", "confidence"):
        value = sample.get(field)
        if isinstance(value, float) and not math.isfinite(value):
            raise SampleError(sample_id, field, f"{value} is not a finite number", where=where)
    ids = [r["id"] for r in sample.get("text_regions") or ()]
    if len(ids) != len(set(ids)):
        raise SampleError(sample_id, "text_regions", "text region ids are not unique", where=where)


def validate_samples(samples: Iterable[Mapping[str, Any]], *, where: str | None = None) -> int:
    """Validate many records, also checking that ids are unique. Returns the count."""
    seen: set[str] = set()
    count = 0
    for sample in samples:
        validate_sample(sample, where=where)
        if sample["id"] in seen:
            raise SampleError(sample["id"], "id", "duplicate sample id", where=where)
        seen.add(sample["id"])
        count += 1
    return count
