"""The one table of metric metadata: what every metric key means and how to show it.

Every number the tasks emit and ``comic-emotion score`` reports has an entry here (HELM's
``MetricMetadata``): the key, a name in words for people, its direction, its group, its unit and
range, whether it is a headline metric, whether lmms-eval results carry its bootstrap interval, and
a one-line description. Scoring computes exactly the metrics of :data:`METRICS`; the lmms-eval
metric list, the compact tables, the regression gate, the leaderboard and the oracle check read
their direction, names and selections from here, so they cannot disagree.

Keys derived from a metric resolve through :func:`metric_spec`: ``<metric>_ci_low`` /
``<metric>_ci_high`` (the bounds of its interval, same direction), and the per-label keys of
``comic-emotion score``, ``f1/<label>`` and ``roc_auc/<label>``. :data:`TASK_KEYS` holds the keys a
task emits that are not computed from sample rows (``na_reasons``, ``perturbation_changed``).

Tiers. ``headline``: each task's official metric (macro F1, EmoRecCom's ROC-AUC, the label-free
tasks' speaker ARI and answer ROUGE-L) plus accuracy, intensity error and the parse-failure rate;
the regression gate checks these by default and every compact table shows them. ``summary``: the
answer-protocol checks a run summary shows next to the headline (per-utterance F1, slot mismatch,
coverage of speakers and explanations). ``detail``: everything else, kept in the results JSON.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

Tier = Literal["headline", "summary", "detail"]
TIERS: tuple[str, ...] = ("headline", "summary", "detail")
CI_SUFFIXES: tuple[str, str] = ("_ci_low", "_ci_high")
# Per-label keys of ``comic-emotion score`` (``f1/joy``): the family key before the slash.
PER_LABEL_SEPARATOR = "/"


@dataclass(frozen=True)
class MetricSpec:
    """Everything a table, the gate or the leaderboard needs to show or judge one metric key.

    ``low``/``high`` bound the values the metric can take (``math.inf`` where unbounded), so the
    best value is ``high`` for a higher-is-better metric and ``low`` otherwise: what a perfect
    answer scores, and what the oracle check demands.
    """

    key: str
    display_name: str
    higher_is_better: bool
    group: str
    unit: str
    low: float
    high: float
    tier: Tier
    description: str
    ci: bool = False

    @property
    def lower_is_better(self) -> bool:
        """The direction as HELM and the leaderboard page spell it."""
        return not self.higher_is_better

    @property
    def headline(self) -> bool:
        """Whether the gate checks this metric by default and compact tables show it."""
        return self.tier == "headline"

    @property
    def best(self) -> float:
        """The best value the metric can take (what the oracle answer must score)."""
        return self.high if self.higher_is_better else self.low

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metadata, with ``lower_is_better`` for the page script (HELM's spelling)."""
        return {**asdict(self), "lower_is_better": self.lower_is_better, "headline": self.headline}


_SHARE = ("share", 0.0, 1.0)
_F = ("score", 0.0, 1.0)


def _spec(key: str, name: str, hib: bool, group: str, unit: tuple[str, float, float], description: str, *,
          tier: Tier = "detail", ci: bool = False) -> MetricSpec:
    return MetricSpec(key, name, hib, group, unit[0], unit[1], unit[2], tier, description, ci)


_ENTRIES: list[MetricSpec] = [
    _spec("macro_f1", "Macro F1", True, "classification", _F,
          "F1 per label, unweighted mean over the labels occurring in gold or prediction", tier="headline", ci=True),
    _spec("micro_f1", "Micro F1", True, "classification", _F, "F1 of pooled label decisions"),
    _spec("weighted_f1", "Weighted F1", True, "classification", _F, "F1 per label, mean weighted by gold support"),
    _spec("macro_precision", "Macro Precision", True, "classification", _F,
          "precision per label, unweighted mean over the labels occurring in gold or prediction"),
    _spec("macro_recall", "Macro Recall", True, "classification", _F,
          "recall per label, unweighted mean over the labels occurring in gold or prediction"),
    _spec("micro_precision", "Micro Precision", True, "classification", _F, "precision of pooled label decisions"),
    _spec("micro_recall", "Micro Recall", True, "classification", _F, "recall of pooled label decisions"),
    _spec("strict_json_f1", "Strict-JSON F1", True, "classification", _F,
          "macro F1 (labels occurring in gold or prediction) counting only strict-JSON answers (others as empty)"),
    _spec("accuracy", "Accuracy", True, "classification", _F,
          "mean |gold ∩ pred| / |gold ∪ pred| (plain accuracy for single labels)", tier="headline", ci=True),
    _spec("exact_match", "Exact Match", True, "classification", _SHARE,
          "share of samples whose predicted label set equals the gold set"),
    _spec("hamming_loss", "Hamming Loss", False, "classification", _SHARE,
          "share of (sample, label) decisions that are wrong"),
    _spec("roc_auc_macro", "Macro ROC-AUC", True, "classification", _F,
          "ROC-AUC per label, mean over labels with both gold values (EmoRecCom metric)", tier="headline", ci=True),
    _spec("auc_fallback_rate", "AUC Fallback Rate", False, "classification", _SHARE,
          "share of samples whose AUC scores are the 0/1 fallback"),
    _spec("parse_failure_rate", "Parse Failure Rate", False, "parsing", _SHARE,
          "share of answers the parser could not read", tier="headline"),
    _spec("strict_parse_rate", "Strict Parse Rate", True, "parsing", _SHARE,
          "share of answers that are a JSON object as asked"),
    _spec("lenient_parse_rate", "Lenient Parse Rate", False, "parsing", _SHARE,
          "share of answers read leniently (object inside other text, Python literal, free text)"),
    _spec("repaired_parse_rate", "Repaired Parse Rate", False, "parsing", _SHARE,
          "share of answers that parsed only after repair (truncated object closed)"),
    _spec("off_taxonomy_rate", "Off-taxonomy Rate", False, "parsing", _SHARE,
          "share of answers naming an emotion outside the label set"),
    _spec("attribution_micro_f1", "Attribution Micro F1", True, "attribution", _F,
          "F1 over pooled (actor, emotion) pairs", ci=True),
    _spec("attribution_micro_precision", "Attribution Micro Precision", True, "attribution", _F,
          "precision over pooled (actor, emotion) pairs"),
    _spec("attribution_micro_recall", "Attribution Micro Recall", True, "attribution", _F,
          "recall over pooled (actor, emotion) pairs"),
    _spec("attribution_sample_f1", "Attribution Sample F1", True, "attribution", _F,
          "per-sample F1 over (actor, emotion) pairs, mean over samples"),
    _spec("speaker_accuracy", "Speaker Accuracy", True, "attribution", _SHARE,
          "share of utterances whose predicted speaker id equals the gold one"),
    # Chance-adjusted: ARI can fall to -0.5 on adversarial groupings, AMI below 0 too.
    _spec("speaker_ari", "Speaker ARI", True, "attribution", ("score", -0.5, 1.0),
          "adjusted Rand index of predicted vs gold speaker groups of utterances", tier="headline", ci=True),
    _spec("speaker_ami", "Speaker AMI", True, "attribution", ("score", -1.0, 1.0),
          "adjusted mutual information of speaker groups of utterances"),
    _spec("speaker_v_measure", "Speaker V-measure", True, "attribution", _F,
          "V-measure of speaker groups of utterances"),
    _spec("ece", "ECE", False, "calibration", ("error", 0.0, 1.0),
          "expected calibration error of stated per-label confidences (10 bins)", ci=True),
    _spec("brier", "Brier Score", False, "calibration", ("error", 0.0, 1.0),
          "Brier score of stated per-label confidences"),
    _spec("bleu", "BLEU", True, "explanation", ("BLEU points", 0.0, 100.0),
          "corpus BLEU (0-100) of explanations, sacrebleu", ci=True),
    _spec("rouge1", "ROUGE-1", True, "explanation", _F, "ROUGE-1 F of explanations (best reference), mean"),
    _spec("rouge2", "ROUGE-2", True, "explanation", _F, "ROUGE-2 F of explanations (best reference), mean"),
    _spec("rougeL", "ROUGE-L", True, "explanation", _F, "ROUGE-L F of explanations (best reference), mean", ci=True),
    _spec("answer_bleu", "Answer BLEU", True, "answer", ("BLEU points", 0.0, 100.0),
          "corpus BLEU (0-100) of answers to questions, sacrebleu"),
    _spec("answer_rougeL", "Answer ROUGE-L", True, "answer", _F,
          "ROUGE-L F of answers to questions (best reference), mean", tier="headline", ci=True),
    _spec("answer_exact_match", "Answer Exact Match", True, "answer", _SHARE,
          "share of questions answered exactly (normalised)"),
    _spec("utt_macro_f1", "Utterance Macro F1", True, "utterance", _F,
          "F1 per label over utterances, unweighted mean over the labels occurring in gold or prediction",
          tier="summary", ci=True),
    _spec("utt_micro_f1", "Utterance Micro F1", True, "utterance", _F, "F1 of pooled per-utterance label decisions"),
    _spec("utt_accuracy", "Utterance Accuracy", True, "utterance", _F,
          "mean over utterances of |gold ∩ pred| / |gold ∪ pred|"),
    _spec("utt_slot_mismatch", "Utterance Slot Mismatch", False, "utterance", _SHARE,
          "share of answers whose number of utterance entries differs from the prompt's", tier="summary"),
]
# The optional answer fields whose presence is counted; speakers and explanations are the ones a
# run summary shows (the prompt-following checks of the dialogue and explanation tasks).
COVERAGE_FIELDS: tuple[str, ...] = ("confidence", "intensity", "valence", "arousal", "attributions", "explanation",
                                    "speakers")
_ENTRIES += [_spec(f"{field}_coverage", f"{field.capitalize()} Coverage", True, "coverage", _SHARE,
                   f"share of answers giving {field}, over samples whose prompt asked",
                   tier="summary" if field in ("explanation", "speakers") else "detail")
             for field in COVERAGE_FIELDS]
# Intensity and arousal lie in [0, 1], valence in [-1, 1]: errors up to the width, correlations in [-1, 1].
DIMENSIONS: Mapping[str, tuple[float, float]] = {"intensity": (0.0, 1.0), "valence": (-1.0, 1.0),
                                                  "arousal": (0.0, 1.0)}
for _dim, (_low, _high) in DIMENSIONS.items():
    _width = ("error", 0.0, _high - _low)
    for _which, _name, _hib, _unit, _text in (
            ("mae", "MAE", False, _width, "mean absolute error"),
            ("rmse", "RMSE", False, _width, "root mean squared error"),
            ("pearson", "Pearson", True, ("correlation", -1.0, 1.0), "Pearson correlation"),
            ("spearman", "Spearman", True, ("correlation", -1.0, 1.0), "Spearman correlation"),
            ("ccc", "CCC", True, ("correlation", -1.0, 1.0), "concordance correlation coefficient")):
        _ENTRIES.append(_spec(f"{_dim}_{_which}", f"{_dim.capitalize()} {_name}", _hib, "dimensions", _unit,
                              f"{_dim}: {_text}", tier="headline" if f"{_dim}_{_which}" == "intensity_mae" else "detail",
                              ci=f"{_dim}_{_which}" in ("intensity_mae", "intensity_ccc")))

METRICS: Mapping[str, MetricSpec] = {spec.key: spec for spec in _ENTRIES}
"""Every metric computed from sample rows, in report order (scoring computes exactly these)."""

# Per-label families of ``comic-emotion score`` (``f1/<label>``, ``roc_auc/<label>``).
PER_LABEL: Mapping[str, MetricSpec] = {
    "f1": _spec("f1", "F1", True, "per label", _F, "F1 of one label (binary), left out when it has no support"),
    "roc_auc": _spec("roc_auc", "ROC-AUC", True, "per label", _F, "ROC-AUC of one label (one-vs-rest)"),
}
NA_REASONS_KEY = "na_reasons"
PERTURBATION_CHANGED_KEY = "perturbation_changed"
# Keys a task emits that are not computed from sample rows. lmms-eval wants a direction for every key.
TASK_KEYS: Mapping[str, MetricSpec] = {
    NA_REASONS_KEY: _spec(NA_REASONS_KEY, "N/A Reasons", False, "annotation", ("mapping", math.nan, math.nan),
                          "{metric: reason} of the metrics that are N/A because of their answer field "
                          "(not a score)"),
    PERTURBATION_CHANGED_KEY: _spec(PERTURBATION_CHANGED_KEY, "Perturbation Changed", False, "robustness", _SHARE,
                                    "share of samples whose input the perturbation changed (a check, not a score)"),
}


def base_key(key: str) -> str:
    """The metric behind a derived key: ``macro_f1_ci_low`` -> ``macro_f1``, ``f1/joy`` -> ``f1``."""
    for suffix in CI_SUFFIXES:
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key.split(PER_LABEL_SEPARATOR, 1)[0]


def metric_spec(key: str) -> MetricSpec:
    """The metadata of any key a task or ``comic-emotion score`` reports; unknown keys raise.

    A CI bound has its metric's direction and unit; a per-label key (``f1/joy``) its family's, with
    the label in its name. A number without metadata cannot be shown or gated, hence the error.
    """
    if not isinstance(key, str):
        raise TypeError(f"metric key must be a str, got {type(key).__name__}")
    if key in METRICS:
        return METRICS[key]
    if key in TASK_KEYS:
        return TASK_KEYS[key]
    base = base_key(key)
    if PER_LABEL_SEPARATOR in key and base in PER_LABEL:
        label = key.split(PER_LABEL_SEPARATOR, 1)[1]
        family = PER_LABEL[base]
        return replace(family, key=key, display_name=f"{family.display_name} ({label})")
    if base != key and base in METRICS:
        spec = METRICS[base]
        bound = "low" if key.endswith("_ci_low") else "high"
        return replace(spec, key=key, display_name=f"{spec.display_name} (95% CI {bound})", tier="detail", ci=False,
                       description=f"{bound} end of the 95 % bootstrap interval of {base}")

    close = difflib.get_close_matches(key, list(METRICS), n=1, cutoff=0.8)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ValueError(f"metric {key!r} has no metadata (display name, direction, group, description) in "
                     f"comic_emotion.metrics.registry; {hint}a number without metadata cannot be shown or gated")


def tier_metrics(*tiers: Tier) -> tuple[str, ...]:
    """The metrics of the given tiers, in registry order (e.g. ``tier_metrics("headline")`` for the gate)."""
    unknown = [t for t in tiers if t not in TIERS]
    if unknown:
        raise ValueError(f"The 'tiers' parameter must be among {set(TIERS)}. Got {unknown} instead.")
    return tuple(key for key, spec in METRICS.items() if spec.tier in tiers)


HEADLINE_METRICS: tuple[str, ...] = tier_metrics("headline")
"""Gated by default (:mod:`comic_emotion.leaderboard.regress`) and shown in every compact table."""
SUMMARY_METRICS: tuple[str, ...] = tier_metrics("headline", "summary")
"""The columns of the run summary table (:func:`comic_emotion.runner.summary_table`)."""
CI_METRICS: tuple[str, ...] = tuple(key for key, spec in METRICS.items() if spec.ci)
"""Metrics whose 95 % bootstrap interval lmms-eval results carry as ``<metric>_ci_low/high`` keys."""
