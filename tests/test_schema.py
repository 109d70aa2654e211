"""The canonical sample schema: good records pass, each kind of bad field is named with the sample id."""

from __future__ import annotations

import copy
import math

import pytest

from comic_emotion.schema import SampleError, validate_sample, validate_samples


def good_record() -> dict:
    return {
        "schema_version": "1.0",
        "id": "test-0001",
        "domain": "comic",
        "source": {"dataset": "unit-test", "licence": "CC0-1.0", "synthetic": True, "split": "test"},
        "image": {"width": 100, "height": 80, "path": None, "sha256": None},
        "reading_direction": "ltr",
        "label_set": "demo",
        "emotions": ["happy", "sad"],
        "canonical_emotions": ["happy", "sad"],
        "intensity": 0.5,
        "text_regions": [
            {"id": "t0", "kind": "speech", "bbox": [1, 2, 30, 20], "text": "Yay!", "lang": "en", "speaker": "A",
             "emotions": ["happy"], "translations": {"ja": "やった!"}},
        ],
        "characters": [
            {"actor_id": "A", "name": "A", "aliases": [], "bbox": [10, 10, 20, 20], "emotions": ["happy"], "intensity": 0.5},
            {"actor_id": "B", "bbox": [50, 10, 20, 20], "emotions": ["sad"]},
        ],
        "attributions": [{"actor_id": "A", "emotion": "happy"}, {"actor_id": "B", "emotion": "sad"}],
        "explanations": ["A cheers while B sulks."],
        "confidence": None,
        "meta": {"anything": [1, 2]},
    }


def test_good_record_passes():
    validate_sample(good_record())
    assert validate_samples([good_record()]) == 1


def _mutate(path: str, value):
    record = good_record()
    target = record
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if value is KeyError:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return record


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        ("domain", KeyError, "domain", "required field is missing"),
        ("source.licence", KeyError, "source.licence", "required field is missing"),
        ("domain", "film", "domain", "is not one of"),
        ("intensity", 1.4, "intensity", "greater than the maximum"),
        ("intensity", math.nan, "intensity", "not a finite number"),
        ("emotions", ["happy", "elated"], "emotions", "'elated' is not in label set"),
        ("label_set", "nope", "label_set", "unknown label set"),
        ("text_regions.0.lang", "english", "text_regions[0].lang", "does not match"),
        ("text_regions.0.bbox", [90, 70, 30, 20], "text_regions[0].bbox", "outside the 100x80 image"),
        ("characters.1.emotions", ["furious"], "characters[1].emotions", "'furious' is not in label set"),
        ("attributions.0.actor_id", "Z", "attributions[0].actor_id", "actor 'Z' is not among the characters"),
        ("schema_version", "2.0", "schema_version", "not readable by schema 1.0"),
        ("unexpected", 1, "<record>", "Additional properties are not allowed"),
        ("id", "has space", "id", "does not match"),
    ],
)
def test_each_bad_field_is_named_with_sample_id(path, value, field, words):
    with pytest.raises(SampleError) as info:
        validate_sample(_mutate(path, value), where="file.parquet")
    message = str(info.value)
    assert info.value.field == field, message
    assert words in message
    sample_id = value if path == "id" else "test-0001"
    assert message.startswith(f"file.parquet: sample {sample_id!r}: field {field!r}: ")


def test_duplicate_ids_are_reported():
    with pytest.raises(SampleError, match="duplicate sample id"):
        validate_samples([good_record(), copy.deepcopy(good_record())])


def test_non_object_record_is_reported():
    with pytest.raises(SampleError, match="expected a JSON object"):
        validate_sample(["not", "a", "record"])  # type: ignore[arg-type]
