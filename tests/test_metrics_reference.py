"""Parity of our metrics with the reference libraries on random inputs (tolerance 1e-9)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import numpy as np
import pytest
import sacrebleu
import scipy.stats
import sklearn.metrics as skm
from comic_emotion.metrics import classification as cls
from comic_emotion.metrics import regression as reg
from comic_emotion.metrics import text
from comic_emotion.metrics.bootstrap import resample_indices, resample_weights
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from rouge_score import rouge_scorer

TOL = 1e-9
N_LABELS = 8


def label_matrices():
    return st.integers(1, 40).flatmap(lambda n: st.tuples(
        arrays(bool, (n, N_LABELS)), arrays(bool, (n, N_LABELS))))


@settings(max_examples=60, deadline=None)
@given(label_matrices(), st.sampled_from(["macro", "micro", "weighted", None]), st.sampled_from([0.0, 1.0]))
# No true sample at all: sklearn drops the support weights and takes the plain mean.
@example((np.zeros((1, N_LABELS), bool), np.eye(1, N_LABELS, dtype=bool)), "weighted", 1.0)
def test_precision_recall_f1_equal_sklearn(pair, average, zero_division):
    y_true, y_pred = pair
    ours = cls.prf_from_counts(cls.confusion_counts(y_true, y_pred).sum(0), average=average,
                               zero_division=zero_division)
    # Macro averages the labels occurring in gold or prediction (scikit-learn's multiclass default);
    # undefined (NaN) when none occurs.
    occurring = [j for j in range(N_LABELS) if y_true[:, j].any() or y_pred[:, j].any()]
    if average == "macro" and not occurring:
        assert all(np.isnan(v) for v in ours)
        return
    ref = skm.precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=zero_division,
                                              labels=occurring if average == "macro" else list(range(N_LABELS)))
    for got, want in zip(ours, ref[:3]):
        np.testing.assert_allclose(got, want, atol=TOL, rtol=0)


@settings(max_examples=60, deadline=None)
@given(label_matrices())
def test_sample_outcomes_equal_sklearn(pair):
    y_true, y_pred = pair
    assert cls.exact_match(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred), abs=TOL)
    assert cls.hamming_loss(y_true, y_pred) == pytest.approx(skm.hamming_loss(y_true, y_pred), abs=TOL)
    assert cls.accuracy(y_true, y_pred) == pytest.approx(
        skm.jaccard_score(y_true, y_pred, average="samples", zero_division=1.0), abs=TOL)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 60).flatmap(lambda n: st.tuples(
    arrays(bool, (n, 3)), arrays(np.float64, (n, 3), elements=st.sampled_from([0.0, 0.1, 0.5, 0.5, 0.9, 1.0])))))
def test_roc_auc_per_class_equals_sklearn_with_ties(pair):
    y_true, scores = pair
    ours = cls.roc_auc_per_class(y_true, scores)
    for j, got in enumerate(ours):
        if y_true[:, j].all() or not y_true[:, j].any():
            assert got is None
        else:
            assert got == pytest.approx(skm.roc_auc_score(y_true[:, j], scores[:, j]), abs=TOL)


def test_weighted_auc_equals_sklearn_on_resamples():
    rng = np.random.default_rng(3)
    y_true = rng.random((200, 4)) < 0.3
    scores = np.round(rng.random((200, 4)), 1)
    idx = resample_indices(200, n_resamples=20, seed=5)
    weights = resample_weights(200, n_resamples=20, seed=5)
    got = cls.weighted_auc(y_true, scores, weights)
    for b in range(20):
        for j in range(4):
            want = skm.roc_auc_score(y_true[idx[b], j], scores[idx[b], j])
            assert got[j][b] == pytest.approx(want, abs=TOL)


unit_pairs = st.integers(3, 50).flatmap(lambda n: st.tuples(
    arrays(np.float64, n, elements=st.floats(0, 1)), arrays(np.float64, n, elements=st.floats(0, 1))))


@settings(max_examples=60, deadline=None)
@given(unit_pairs)
def test_regression_metrics_equal_sklearn_and_scipy(pair):
    gold, pred = pair
    sums = reg.moment_stats(gold, pred).sum(0)
    assert reg.mae_from_sums(sums) == pytest.approx(skm.mean_absolute_error(gold, pred), abs=TOL)
    assert reg.rmse_from_sums(sums) == pytest.approx(np.sqrt(skm.mean_squared_error(gold, pred)), abs=TOL)
    if gold.std() > 1e-6 and pred.std() > 1e-6:
        assert reg.pearson_from_sums(sums) == pytest.approx(scipy.stats.pearsonr(gold, pred)[0], abs=1e-7)
        rho = reg.weighted_spearman(gold, pred, np.ones((1, gold.size)))[0]
        assert rho == pytest.approx(scipy.stats.spearmanr(gold, pred)[0], abs=TOL)
        cov = np.mean((gold - gold.mean()) * (pred - pred.mean()))
        ccc = 2 * cov / (gold.var() + pred.var() + (gold.mean() - pred.mean()) ** 2)
        assert reg.ccc_from_sums(sums) == pytest.approx(ccc, abs=1e-9)


def test_weighted_spearman_equals_scipy_on_resamples():
    rng = np.random.default_rng(0)
    gold, pred = np.round(rng.random(80), 1), rng.random(80)
    idx = resample_indices(80, n_resamples=10, seed=1)
    got = reg.weighted_spearman(gold, pred, resample_weights(80, n_resamples=10, seed=1))
    for b in range(10):
        assert got[b] == pytest.approx(scipy.stats.spearmanr(gold[idx[b]], pred[idx[b]])[0], abs=TOL)


words = st.lists(st.sampled_from(["the", "cat", "sat", "on", "a", "mat", "she", "smiles", "won", "game", "happy", "very", "1", "2"]), max_size=12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(words, words, words), min_size=1, max_size=8))
def test_corpus_bleu_and_rouge_equal_references(samples):
    hyps = [" ".join(h) for h, _, _ in samples]
    refs = [[" ".join(r1), " ".join(r2)] for _, r1, r2 in samples]
    stats = text.bleu_stats(hyps, refs, ["13a"] * len(hyps))
    ref_bleu = sacrebleu.corpus_bleu(hyps, [[r[0] for r in refs], [r[1] for r in refs]])
    assert float(text.bleu_from_sums(stats.sum(0))) == pytest.approx(ref_bleu.score, abs=TOL)
    default = rouge_scorer.RougeScorer(list(text.ROUGE_TYPES), use_stemmer=False)
    ours = text.rouge_f(hyps, refs)
    for i, (hyp, rr) in enumerate(zip(hyps, refs)):
        want = default.score_multi(rr, hyp)
        assert ours[i].tolist() == pytest.approx([want[t].fmeasure for t in text.ROUGE_TYPES], abs=TOL)


def test_bleu_signature_matches_sacrebleu_format():
    bleu = sacrebleu.BLEU(tokenize="char")
    bleu.corpus_score(["猫が座った"], [["猫が座った"]])
    assert text.bleu_signature(["char"], [1]) == bleu.get_signature().format()


def test_japanese_reference_scores_itself_non_zero():
    ref = "彼女は試合に勝って嬉しそうに笑っている"
    assert text.rouge_f([ref], [[ref]])[0].tolist() == [1.0, 1.0, 1.0]
    default = rouge_scorer.RougeScorer(["rouge1"]).score(ref, ref)["rouge1"].fmeasure
    assert default == 0.0  # the reason for our tokenizer
    stats = text.bleu_stats([ref], [[ref]], [text.bleu_tokenizer("ja")])
    assert float(text.bleu_from_sums(stats.sum(0))) == pytest.approx(100.0)


def test_emorecom_official_metric_is_the_mean_of_sklearn_per_class_auc():
    # Moved from test_converters_errors.py with the function (converters no longer score).
    from comic_emotion.metrics.classification import mean_roc_auc

    from comic_emotion.converters.emorecom_submission import LABELS

    rng = np.random.default_rng(3)
    y_true = (rng.random((200, 8)) < 0.3).astype(int)
    y_score = rng.random((200, 8))
    result = mean_roc_auc(y_true, y_score, labels=LABELS)
    expected = np.mean([skm.roc_auc_score(y_true[:, j], y_score[:, j]) for j in range(8)])
    assert result["mean_roc_auc"] == pytest.approx(expected, abs=1e-12) and result["classes"] == list(LABELS)
    seven = mean_roc_auc(y_true, y_score, labels=LABELS, exclude=("other",))
    assert seven["mean_roc_auc"] == pytest.approx(np.mean([skm.roc_auc_score(y_true[:, j], y_score[:, j])
                                                           for j in range(7)]), abs=1e-12)
    assert seven["excluded"] == ["other"]
    y_true[:, 7] = 0
    with pytest.raises(ValueError, match="class 'other' has only one value"):
        mean_roc_auc(y_true, y_score, labels=LABELS)
    ignored = mean_roc_auc(y_true, y_score, labels=LABELS, single_class="ignore")
    assert ignored["undefined"] == ["other"] and np.isnan(ignored["per_class"]["other"])
    assert ignored["mean_roc_auc"] == pytest.approx(seven["mean_roc_auc"], abs=1e-12)


def test_converters_do_not_import_metrics():
    # Layering (issue 18): converters read and normalise files; scoring them is the metrics' job.
    import ast
    from pathlib import Path

    import comic_emotion.converters as converters

    for path in Path(converters.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("comic_emotion.metrics"), path.name
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("comic_emotion.metrics") for a in node.names), path.name
