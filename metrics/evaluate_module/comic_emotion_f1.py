"""HF ``evaluate`` module: emotion F1 of raw model answers, parsed as comic-emotion-bench parses them.

Load it from a local path (never from the Hub)::

    import evaluate
    f1 = evaluate.load("metrics/evaluate_module/comic_emotion_f1.py")
    f1.compute(predictions=['{"emotions": ["happy"]}', "She looks furious."],
               references=[["happy"], ["angry", "sad"]], label_set="emorecom", average="macro")

``predictions`` are raw answers (any format :func:`comic_emotion.metrics.parsing.parse_answer`
reads); ``references`` are gold label lists. ``average="macro"`` runs over the labels occurring in
the references or predictions (scikit-learn's multiclass default; a label nobody mentions is not
averaged in as 0). The result also carries the parse-failure rate, so a format problem is visible
next to the score.
"""

import datasets
import evaluate

from comic_emotion.taxonomy import label_set as get_label_set

_CITATION = """@inproceedings{nguyen2021icdar,
  title={ICDAR 2021 Competition on Multimodal Emotion Recognition on Comics Scenes},
  author={Nguyen, Nhu-Van and Vu, Xuan-Son and Rigaud, Christophe and Jiang, Lili and Burie, Jean-Christophe},
  booktitle={ICDAR}, year={2021}}
"""


@evaluate.utils.file_utils.add_start_docstrings(__doc__)
class ComicEmotionF1(evaluate.Metric):
    """Multi-label emotion F1 over a label set, from raw answers."""

    def _info(self):
        return evaluate.MetricInfo(
            description=__doc__, citation=_CITATION, inputs_description=__doc__,
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Sequence(datasets.Value("string"))}),
        )

    def _compute(self, predictions, references, label_set="emorecom", average="macro", zero_division=0.0):
        # lazy: NumPy (comic_emotion.metrics)
        from comic_emotion.metrics import classification as cls
        from comic_emotion.metrics.parsing import PARSER_VERSION, parse_answer

        labels = get_label_set(label_set)
        parsed = [parse_answer(p, labels) for p in predictions]
        y_true = cls.label_matrix(references, labels, what="references")
        y_pred = cls.label_matrix([p.emotions for p in parsed], labels, what="predictions")
        f1 = cls.f1_score(y_true, y_pred, average=average, zero_division=zero_division)
        return {"f1": f1 if average else [float(v) for v in f1],
                "parse_failure_rate": sum(p.status == "failed" for p in parsed) / max(len(parsed), 1),
                "signature": f"label_set:{label_set}|average:{average}|parser:{PARSER_VERSION}"}
