"""The sample row is composed of typed sections, one small builder each (issue 18)."""

from __future__ import annotations

import json
import typing

import pytest
from comic_emotion.metrics import samples
from comic_emotion.metrics.parsing import parse_answer
from test_metrics_scoring import perfect_answer, random_records

from comic_emotion.demo.build import sample as demo_sample
from comic_emotion.taxonomy import label_set

SECTIONS = (samples.ClassificationRow, samples.DimensionsRow, samples.AttributionRow, samples.SpeakerRow,
            samples.UtteranceRow, samples.ExplanationRow, samples.AnswerRow)


def _records():
    return [*random_records(4, seed=2), *(demo_sample(d, i, seed=0, split="test")[0]
                                          for d in ("comic", "manga", "art") for i in range(2))]


def test_sections_do_not_overlap_and_cover_the_row():
    keys = [set(typing.get_type_hints(section)) for section in SECTIONS]
    assert sum(map(len, keys)) == len(set().union(*keys))
    assert set(typing.get_type_hints(samples.SampleRow)) == set().union(*keys) | {"id", "label_set", "requested",
                                                                                   "produced"}


@pytest.mark.parametrize("answer", ["perfect", "sad, not sure", ""])
def test_sample_row_is_the_union_of_its_section_builders(answer):
    for record in _records():
        name = record["label_set"]
        labels = label_set(name)
        text = perfect_answer(record) if answer == "perfect" and name == "emorecom" else answer
        row = samples.sample_row(record, text, label_set=name)
        parsed = parse_answer(text, labels)
        resolve = samples._resolver(record)
        built = {**samples.classification_row(record, parsed, labels=labels, label_set=name),
                 **samples.dimensions_row(record, parsed),
                 **samples.attribution_row(record, parsed, labels=labels, label_set=name, resolve=resolve),
                 **samples.speaker_row(record, parsed, resolve=resolve),
                 **samples.utterance_row(record, parsed, labels=labels, label_set=name),
                 **samples.explanation_row(record, parsed), **samples.answer_row(record, parsed)}
        assert {k: v for k, v in row.items() if k not in ("id", "label_set", "requested", "produced")} == built
        for section in SECTIONS:
            assert set(typing.get_type_hints(section)) <= set(row), section.__name__
        json.dumps(row, allow_nan=False)


def test_label_scores_without_every_label_name_the_sample():
    record = random_records(1)[0]
    with pytest.raises(ValueError, match=r"label_scores lack labels"):
        samples.classification_row(record, parse_answer("", label_set("emorecom")), labels=label_set("emorecom"),
                                   label_set="emorecom", label_scores={"angry": 0.3})
