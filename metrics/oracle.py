"""The oracle answer: a record's own gold written in the documented answer format.

Scoring the oracle is the suite's protocol invariant: on every task it must reach the best value of
every defined metric (F1s, accuracies, exact match, utterance and speaker metrics, coverage 1;
MAE, RMSE, ECE, Brier, error and mismatch rates 0; BLEU 100), with ``utt_slot_mismatch`` 0. A
metric that does not is a protocol bug (gold and prediction read by different rules), not a model
error. :func:`best_value` gives that value per metric and :func:`oracle_violations` lists the
metrics that miss it; tests and ``make check-real`` use both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from comic_emotion.metrics.registry import METRICS
from comic_emotion.metrics.scoring import Score

from comic_emotion.prompts import ordered_regions, requested_fields
from comic_emotion.taxonomy import label_set


def oracle_answer(record: Mapping[str, Any]) -> str:
    """The answer a perfect model gives to ``record``'s prompt, as JSON (:mod:`comic_emotion.prompts`' format).

    Only the fields the prompt asks for (:func:`comic_emotion.prompts.requested_fields`), each from
    the record's gold: page labels, one utterance entry per prompt utterance (its labels and gold
    speaker), confidence 1 for each gold label, the gold intensity/valence/arousal, attributions,
    the first reference explanation; the first reference answer for a question.
    """
    fields = requested_fields(record)
    regions = ordered_regions(record)
    if not label_set(record["label_set"]):
        if record.get("question"):
            return json.dumps({"answer": (record.get("answers") or [""])[0]}, ensure_ascii=False)
        return json.dumps({"speakers": [r.get("speaker") or "" for r in regions]}, ensure_ascii=False)
    answer: dict[str, Any] = {"emotions": list(record["emotions"])}
    if "utterances" in fields:
        answer["utterances"] = [{"emotions": list(r.get("emotions") or []),
                                 **({"speaker": r.get("speaker")} if "speakers" in fields else {})} for r in regions]
    elif "speakers" in fields:
        answer["speakers"] = [r.get("speaker") or "" for r in regions]
    if "confidence" in fields:
        answer["confidence"] = {label: 1.0 if label in record["emotions"] else 0.0
                                for label in label_set(record["label_set"])}
    for name in ("intensity", "valence", "arousal"):
        if name in fields:
            answer[name] = record[name]
    if "attributions" in fields:
        by_actor: dict[str, list[str]] = {}
        for pair in record["attributions"]:
            by_actor.setdefault(pair["actor_id"], []).append(pair["emotion"])
        answer["attributions"] = by_actor
    if "explanation" in fields:
        answer["explanation"] = next(str(x) for x in record["explanations"] if str(x).strip())
    return json.dumps(answer, ensure_ascii=False)


def best_value(metric: str) -> float:
    """The best value ``metric`` can take: the top of its registry range if higher is better, else the bottom.

    Read from :mod:`comic_emotion.metrics.registry`, so a new metric's oracle target is its range
    (BLEU's 100, an error's 0), not a rule kept here.
    """
    return METRICS[metric].best


def oracle_violations(scores: Mapping[str, Score], *, tol: float = 1e-9,
                      required: Sequence[str] = ()) -> dict[str, Any]:
    """``{metric: value}`` of every registry metric in ``scores`` that is defined and misses its best value,
    plus ``{metric: None}`` for each ``required`` metric that is undefined."""
    out: dict[str, Any] = {}
    for name, score in scores.items():
        if name not in METRICS:
            continue
        if score.value is None:
            if name in required:
                out[name] = None
            continue
        if abs(score.value - best_value(name)) > tol * max(1.0, best_value(name)):
            out[name] = score.value
    return out
