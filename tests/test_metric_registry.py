"""One metric registry (issue 18): every emitted key has metadata, and every consumer reads it from there."""

from __future__ import annotations

import json

import pytest
from comic_emotion.metrics import lmms, registry
from comic_emotion.metrics.oracle import best_value
from comic_emotion.metrics.registry import METRICS, metric_spec
from comic_emotion.metrics.scoring import sample_row, score_rows
from test_metrics_scoring import perfect_answer, random_records

from comic_emotion.tasks import tasks_dir


def _listed_keys() -> dict[str, bool]:
    """``{metric: higher_is_better}`` of every ``metric_list`` entry of every task YAML in the package."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)  # !function hooks
    listed: dict[str, bool] = {}
    for path in [*tasks_dir().glob("*.yaml"), *tasks_dir().glob("_*_yaml")]:
        config = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader) or {}
        for entry in config.get("metric_list") or ():
            listed[entry["metric"]] = entry["higher_is_better"]
    assert listed, "no metric_list found in the task YAMLs"
    return listed


@pytest.fixture(scope="module")
def scores():
    rows = [sample_row(r, perfect_answer(r) if i % 2 else "sad, maybe", label_set="emorecom")
            for i, r in enumerate(random_records(12, seed=3))]
    return score_rows(rows, n_resamples=5)


def test_every_key_a_task_lists_has_a_registry_entry_with_the_same_direction():
    listed = _listed_keys()
    assert set(listed) >= set(METRICS)
    for key, higher in listed.items():
        assert metric_spec(key).higher_is_better is higher, key


def test_every_key_of_the_scoring_output_has_a_registry_entry(scores):
    assert {k for k in scores if "/" not in k} == set(METRICS)
    for key, score in scores.items():
        spec = metric_spec(key)
        assert score.to_dict()["higher_is_better"] is spec.higher_is_better, key
    assert metric_spec("f1/angry").display_name == "F1 (angry)"


def test_perturbed_tasks_extra_key_is_registered():
    from comic_emotion.tasks.robust import CHANGED_KEY

    assert CHANGED_KEY == registry.PERTURBATION_CHANGED_KEY
    assert metric_spec(CHANGED_KEY).higher_is_better is False  # what the robust hook declares to lmms-eval


def test_entries_are_complete_and_well_formed():
    for key, spec in METRICS.items():
        assert spec.key == key and spec.display_name.strip() and spec.description.strip() and spec.group
        assert spec.tier in registry.TIERS and spec.unit
        assert spec.low < spec.high, key
    assert [metric_spec(m).display_name for m in ("speaker_ari", "strict_json_f1", "roc_auc_macro", "intensity_mae")] \
        == ["Speaker ARI", "Strict-JSON F1", "Macro ROC-AUC", "Intensity MAE"]
    assert metric_spec("macro_f1_ci_low").higher_is_better is True
    assert metric_spec("intensity_mae_ci_high").lower_is_better is True


def test_unknown_key_raises_with_a_suggestion():
    with pytest.raises(ValueError, match="did you mean 'macro_f1'"):
        metric_spec("macro_f11")
    with pytest.raises(ValueError, match="has no metadata"):
        metric_spec("made_up")


def test_gate_tables_lmms_and_oracle_read_the_registry():
    from comic_emotion.reports import stages
    from comic_emotion.leaderboard import regress

    from comic_emotion import runner

    headline = registry.tier_metrics("headline")
    assert set(headline) == {"macro_f1", "accuracy", "roc_auc_macro", "speaker_ari", "answer_rougeL",
                             "intensity_mae", "parse_failure_rate"}
    assert tuple(regress.GATED_BY_DEFAULT) == headline == tuple(regress.load_thresholds(None)["gate"])
    assert tuple(stages.HEADLINE_METRICS) == headline
    assert tuple(runner.SUMMARY_METRICS) == registry.tier_metrics("headline", "summary")
    assert set(headline) < set(runner.SUMMARY_METRICS)
    assert lmms.CI_METRICS == tuple(k for k, s in METRICS.items() if s.ci)
    for key in lmms.metric_keys():
        assert lmms.higher_is_better(key) is metric_spec(key).higher_is_better, key
    assert best_value("bleu") == 100.0 and best_value("intensity_mae") == 0.0 and best_value("macro_f1") == 1.0
    for key, spec in METRICS.items():
        assert best_value(key) == spec.best


def test_leaderboard_page_metadata_is_the_registry_entry(tmp_path):
    from comic_emotion.leaderboard.render import page_data

    board = {"data": "demo", "schema_version": 1, "tasks": {"t": {"official_metric": "macro_f1"}},
             "entries": [{"key": "a", "tasks": {"t": {"metrics": {"macro_f1": {"value": 0.5, "ci": None},
                                                                   "hamming_loss": {"value": 0.2, "ci": None}}}},
                          "overall": {"value": None, "ci": None}}]}
    metas = page_data(board)["metrics"]
    for key in ("macro_f1", "hamming_loss"):
        assert metas[key]["display_name"] == metric_spec(key).display_name
        assert metas[key]["lower_is_better"] is metric_spec(key).lower_is_better
    json.dumps(metas, allow_nan=False)
