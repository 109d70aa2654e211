"""Why a metric is N/A on a set of rows because of its answer field: the "not requested" /
"never produced" rule of the scoring protocol.

A metric whose answer field no prompt asked for is N/A ("not requested"), never 0; one whose field
some prompt asked for but no answer gave is N/A ("never produced"). Coverage and slot-mismatch metrics
stay defined, since 0 % and 100 % are what they report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from comic_emotion.metrics.registry import METRICS

# The answer field each metric scores. A metric is N/A (None, with the reason) when no sample's
# prompt asked for its field ("not requested") or no answer gave it ("never produced"); coverage
# and slot-mismatch metrics stay defined, since 0 % and 100 % are what they report.
FIELD_OF_METRIC: Mapping[str, str] = {
    **{m: m.split("_")[0] for m in METRICS if m.split("_")[0] in ("intensity", "valence", "arousal")},
    "ece": "confidence", "brier": "confidence",
    **{m: "attributions" for m in METRICS if m.startswith("attribution_")},
    **{m: "explanation" for m in ("bleu", "rouge1", "rouge2", "rougeL")},
    **{m: "speakers" for m in METRICS if m.startswith("speaker_")},
    **{m: "utterances" for m in METRICS if m.startswith("utt_")},
    **{f"{f}_coverage": f for f in ("confidence", "intensity", "valence", "arousal", "attributions", "explanation",
                                    "speakers")},
}
NOT_REQUESTED, NEVER_PRODUCED = "not requested", "never produced"


def undefined_reason(metric: str, rows: Sequence[Mapping[str, Any]]) -> str | None:
    """Why ``metric`` is N/A on ``rows`` because of its answer field, or ``None`` when the field does not make it so.

    ``"not requested"``: no row's prompt asked for the field; ``"never produced"``: some did, and no
    answer gave it (not for coverage and ``utt_slot_mismatch``, which report exactly that). Rows
    written before answer fields were tracked (no ``requested`` key) give no reason.
    """
    field = FIELD_OF_METRIC.get(metric)
    tracked = [r for r in rows if "requested" in r]
    if field is None or not tracked:
        return None
    asked = [r for r in tracked if field in r["requested"]]
    if not asked:
        return NOT_REQUESTED
    if metric.endswith("_coverage") or metric == "utt_slot_mismatch":
        return None
    if not any(field in (r.get("produced") or ()) for r in asked):
        return NEVER_PRODUCED
    return None


def undefined_reasons(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """:func:`undefined_reason` of every metric, from one pass over ``rows`` (not one pass per metric)."""
    asked: set[str] = set()  # fields some tracked row's prompt asked for
    produced: set[str] = set()  # fields some answer gave where its prompt asked
    tracked = False
    for row in rows:
        if "requested" not in row:
            continue
        tracked = True
        requested = set(row["requested"])
        asked |= requested
        produced.update(f for f in row.get("produced") or () if f in requested)
    if not tracked:
        return {}
    out = {}
    for metric, answer_field in FIELD_OF_METRIC.items():
        if answer_field not in asked:
            out[metric] = NOT_REQUESTED
        elif not (metric.endswith("_coverage") or metric == "utt_slot_mismatch") and answer_field not in produced:
            out[metric] = NEVER_PRODUCED
    return out


def na_reasons(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``{metric: reason}`` for every metric N/A on ``rows`` because of its answer field (see :func:`undefined_reason`)."""
    reasons = undefined_reasons(rows)
    return {m: reasons[m] for m in METRICS if m in reasons}
