"""What the leaderboard shows and in which order: metric metadata, CIs, the overall score, ties.

Overall score (also in the README): the unweighted mean, over the three domains comic, manga and
art, of each domain's official metric (macro F1 over the task's label set, or EmoRecCom's mean
ROC-AUC; the mean over the domain's emotion subtasks when an entry has several). Label-free
subtasks (MangaVQA answers, Manga109Dialog speaker links) have other official metrics on other
scales (ROUGE-L, ARI) and are shown in their own columns but left out of the overall score. It is the ``comic_emotion`` group number of
lmms-eval (``aggregate_metric_list: mean, weight_by_size: false``) and is undefined (``null``,
ranked last) for an entry without all three domains. Its 95 % CI is the percentile interval of
the same mean over per-task bootstrap resamples (each task resampled independently, seeded by its
position), available when the entry was added with sample logs.

Ranks are competition ranks ("1, 2, 2, 4"). Entries are sorted by score; an entry whose CI
overlaps the CI of the first entry of the current tie group shares that group's rank, so rank
differences shown are differences the data can tell apart. Without CIs only equal scores tie.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from comic_emotion.results import TaskResult

OVERALL_DOMAINS = ("comic", "manga", "art")
# Official metrics of the emotion-recognition subtasks, the only ones the overall score averages.
EMOTION_OFFICIAL_METRICS = frozenset({"macro_f1", "roc_auc_macro"})
N_RESAMPLES = 1000
SEED = 0
def task_score(result: TaskResult, metric: str) -> dict[str, Any]:
    """``{"value", "ci"}`` of one metric: the results value, its CI from the results or the sample rows."""
    value = result.metrics.get(metric)
    low, high = result.metrics.get(f"{metric}_ci_low"), result.metrics.get(f"{metric}_ci_high")
    if value is not None and low is not None and high is not None:
        return {"value": value, "ci": [low, high]}
    if value is not None and result.rows:
        # lazy: NumPy (comic_emotion.metrics)
        from comic_emotion.metrics.scoring import score_metric

        score = score_metric(metric, result.rows, seed=SEED, n_resamples=N_RESAMPLES)
        return {"value": value, "ci": [score.ci.low, score.ci.high] if score.ci else None}
    return {"value": value, "ci": None}


def _resampled(result: TaskResult, metric: str, seed: int):
    # lazy: NumPy
    import numpy as np
    from comic_emotion.metrics.bootstrap import resample_weights
    from comic_emotion.metrics.scoring import prepare

    prepared = prepare(metric, result.rows)
    if prepared is None or prepared.stats.shape[0] < 2:
        return None
    weights = resample_weights(prepared.stats.shape[0], n_resamples=N_RESAMPLES, seed=seed)
    if prepared.from_sums is not None:
        return np.asarray(prepared.from_sums(weights @ prepared.stats), dtype=float)
    return np.asarray(prepared.from_weights(weights), dtype=float)


def overall_score(tasks: Mapping[str, TaskResult], headers: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """The overall score (see the module docstring) of one run's clean tasks."""
    by_domain: dict[str, list[str]] = {}
    for name, header in sorted(headers.items()):
        if header["official_metric"] in EMOTION_OFFICIAL_METRICS:
            by_domain.setdefault(header["domain"], []).append(name)
    values = []
    for domain in OVERALL_DOMAINS:
        names = by_domain.get(domain, [])
        scores = [tasks[n].metrics.get(headers[n]["official_metric"]) for n in names]
        if not names or any(s is None for s in scores):
            return {"value": None, "ci": None}
        values.append(sum(scores) / len(scores))
    value = sum(values) / len(values)
    names = [n for d in OVERALL_DOMAINS for n in by_domain[d]]
    if not all(tasks[n].rows for n in names):
        return {"value": value, "ci": None}
    # lazy: NumPy
    import numpy as np

    per_domain = []
    for domain in OVERALL_DOMAINS:
        draws = [_resampled(tasks[n], headers[n]["official_metric"], SEED + names.index(n))
                 for n in by_domain[domain]]
        if any(d is None for d in draws):
            return {"value": value, "ci": None}
        per_domain.append(np.mean(draws, axis=0))
    means = np.mean(per_domain, axis=0)
    means = means[np.isfinite(means)]
    low, high = np.quantile(means, [0.025, 0.975])
    return {"value": value, "ci": [float(low), float(high)]}


def _overlap(a: Sequence[float] | None, b: Sequence[float] | None) -> bool:
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


def rank_with_ties(scores: Sequence[Mapping[str, Any]], *, lower_is_better: bool = False) -> list[dict[str, Any]]:
    """Competition ranks with CI-overlap ties, for ``{"value", "ci"}`` scores (``None`` values last).

    Returns, in input order, ``{"rank": int | None, "tied": bool}``; ``tied`` is true when another
    entry shares the rank.
    """
    order = sorted((i for i, s in enumerate(scores) if s.get("value") is not None),
                   key=lambda i: (scores[i]["value"] if lower_is_better else -scores[i]["value"], i))
    ranks: dict[int, int] = {}
    leader = None
    for position, i in enumerate(order):
        if leader is not None and (scores[i]["value"] == scores[leader]["value"]
                                   or _overlap(scores[i].get("ci"), scores[leader].get("ci"))):
            ranks[i] = ranks[leader]
        else:
            leader, ranks[i] = i, position + 1
    counts: dict[int, int] = {}
    for rank in ranks.values():
        counts[rank] = counts.get(rank, 0) + 1
    return [{"rank": ranks.get(i), "tied": counts.get(ranks.get(i), 0) > 1} for i in range(len(scores))]
