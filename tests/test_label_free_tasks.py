"""Tasks without emotion labels (MangaVQA, Manga109Dialog): prompts, parsing, answer metrics, baselines.

Answer metrics are compared with sacrebleu and rouge-score called directly; speaker clustering with
scikit-learn, on utterances in the order the prompt numbers them.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import sacrebleu
import sklearn.metrics as skm
from comic_emotion.metrics.parsing import parse_answer
from comic_emotion.metrics.scoring import aggregate, sample_row, score_metric
from comic_emotion.metrics.text import LatinCjkTokenizer
from converter_fixtures import write_manga109
from rouge_score import rouge_scorer

from comic_emotion.prompts import SPEAKERS_ANSWER_FORMAT, VQA_ANSWER_FORMAT, build_prompt

ANSWER_METRICS = ("answer_bleu", "answer_rougeL", "answer_exact_match")


def vqa_record(i: int, answers: list[str], question: str = "泉子は何を持っていますか？") -> dict:
    return {"id": f"q{i}", "label_set": "none", "domain": "manga", "emotions": [], "question": question,
            "answers": answers, "reading_direction": "rtl", "source": {"dataset": "mangavqa", "split": "test"}}


def dialog_record() -> dict:
    """Four utterances on one rtl page, stored out of reading order: two rows, right to left in each."""
    boxes = {"t1": (300, 10, "A", "おはよう！"), "t2": (100, 10, "B", "おはようございます。"),
             "t3": (320, 200, "B", "今日は晴れ。"), "t4": (90, 210, "A", "そうだね。")}
    order = ["t3", "t1", "t4", "t2"]
    regions = [{"id": k, "bbox": [boxes[k][0], boxes[k][1], 60, 80], "text": boxes[k][3], "lang": "ja",
                "speaker": boxes[k][2]} for k in order]
    regions.append({"id": "t5", "bbox": [10, 400, 20, 20], "text": "  ", "lang": "ja", "speaker": "A"})  # no text
    return {"id": "p1", "label_set": "none", "domain": "manga", "emotions": [], "text_regions": regions,
            "characters": [{"actor_id": "A", "name": "泉子"}, {"actor_id": "B", "name": "先生"}],
            "reading_direction": "rtl", "source": {"dataset": "manga109-dialog", "split": "test"}}


def rows_for(records: list[dict], answers: list[str]) -> list[dict]:
    return [sample_row(r, a, label_set="none") for r, a in zip(records, answers)]


def test_vqa_prompt_asks_the_question_for_a_json_answer_without_a_label_line():
    prompt = build_prompt(vqa_record(0, ["傘"]), pre_prompt="PRE", post_prompt="POST")
    assert prompt == ("PRE\nYou are shown a manga panel (read right to left).\nQuestion: 泉子は何を持っていますか？\n"
                      "Answer the question in the language of the page.\n"
                      f"Answer with JSON only: {VQA_ANSWER_FORMAT}\nPOST")
    assert VQA_ANSWER_FORMAT == '{"answer": "<answer>"}'


def test_dialog_prompt_numbers_utterances_in_reading_order_and_asks_for_speakers():
    prompt = build_prompt(dialog_record())
    assert re.findall(r"^(\d)\. (.*)$", prompt, re.MULTILINE) == [
        ("1", "おはよう！"), ("2", "おはようございます。"), ("3", "今日は晴れ。"), ("4", "そうだね。")]
    assert "Characters: A (泉子), B (先生)." in prompt and "(4 in all)" in prompt
    assert prompt.endswith(f"Answer with JSON only: {SPEAKERS_ANSWER_FORMAT}")
    assert "Choose one or more of" not in prompt and "emotions" not in prompt
    # The format's key is one the parser reads as per-utterance speakers.
    assert parse_answer('{"speakers": ["A", "B"]}', ()).utterance_speakers == ("A", "B")


def test_speaker_clusters_follow_the_prompt_order():
    record = dialog_record()
    in_prompt_order = ["A", "B", "B", "A"]
    rows = rows_for([record, {**record, "id": "p2"}],
                    ['{"speakers": ["A", "B", "B", "A"]}', '{"speakers": ["泉子", "泉子", "先生", "先生"]}'])
    assert rows[0]["clusters_gold"] == in_prompt_order
    want = np.mean([skm.adjusted_rand_score(in_prompt_order, p) for p in (in_prompt_order, list("AABB"))])
    assert aggregate("speaker_ari", rows) == pytest.approx(want) and want < 1.0
    assert rows[0]["parse_status"] == "strict"


def test_parser_reads_the_answer_field_only_without_labels():
    parsed = parse_answer('{"answer": "傘"}', ())
    assert (parsed.answer, parsed.status, parsed.off_taxonomy, parsed.emotions) == ("傘", "strict", (), ())
    free = parse_answer("  傘を持っている。 ", ())
    assert (free.answer, free.status) == ("傘を持っている。", "lenient")
    assert parse_answer('{"answer": 42}', ()).answer == "42"
    # With labels, "answer" stays an emotion key (the emotion tasks' parse is unchanged).
    labelled = parse_answer('{"answer": "happy"}', ("happy", "sad"))
    assert labelled.emotions == ("happy",) and labelled.answer is None


def test_perfect_answers_score_one_and_equal_sacrebleu_and_rouge_score():
    refs = [["ひなた荘"], ["約束を破られたから。", "約束を破ったから"], ["a red umbrella"]]
    records = [vqa_record(i, r) for i, r in enumerate(refs)]
    hyps = [r[0] for r in refs]
    rows = rows_for(records, [f'{{"answer": "{h}"}}' for h in hyps])
    assert aggregate("answer_exact_match", rows) == 1.0
    assert aggregate("answer_rougeL", rows) == pytest.approx(1.0)
    # Corpus BLEU: Japanese samples use sacrebleu's char tokenizer, the English one 13a; both give 100 on
    # identical text, so the pooled value equals sacrebleu's on either tokenizer.
    assert aggregate("answer_bleu", rows) == pytest.approx(100.0)
    ja = [0, 1]
    want = sacrebleu.corpus_bleu([hyps[i] for i in ja], [[refs[i][0] for i in ja], [refs[i][-1] for i in ja]],
                                 tokenize="char").score
    assert aggregate("answer_bleu", [rows[i] for i in ja]) == pytest.approx(want, abs=1e-9)
    signature = score_metric("answer_bleu", rows).signature["sacrebleu"]
    assert "tok:13a+char" in signature and "nrefs:var" in signature


def test_wrong_and_partial_answers_equal_sacrebleu_and_rouge_score():
    refs = [["ひなた荘"], ["約束を破られたから。"], ["泉子の傘"]]
    hyps = ["東京タワー", "約束を破られたので怒っている。", "傘"]
    rows = rows_for([vqa_record(i, r) for i, r in enumerate(refs)], [f'{{"answer": "{h}"}}' for h in hyps])
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=LatinCjkTokenizer())
    want = [scorer.score(r[0], h)["rougeL"].fmeasure for r, h in zip(refs, hyps)]
    assert want[0] == 0.0 and 0.0 < want[1] < 1.0
    assert aggregate("answer_rougeL", rows) == pytest.approx(np.mean(want), abs=1e-12)
    bleu = sacrebleu.corpus_bleu(hyps, [[r[0] for r in refs]], tokenize="char").score
    assert aggregate("answer_bleu", rows) == pytest.approx(bleu, abs=1e-9)
    assert aggregate("answer_exact_match", rows) == 0.0
    assert aggregate("answer_rougeL", rows[:1]) == 0.0


def test_japanese_answer_scores_against_itself_where_the_default_rouge_tokenizer_scores_zero():
    answer = "約束を破られたから。"
    rows = rows_for([vqa_record(0, [answer])], [f'{{"answer": "{answer}"}}'])
    assert rouge_scorer.RougeScorer(["rougeL"]).score(answer, answer)["rougeL"].fmeasure == 0.0
    assert aggregate("answer_rougeL", rows) == pytest.approx(1.0)
    assert aggregate("answer_bleu", rows) == pytest.approx(sacrebleu.sentence_bleu(answer, [answer], tokenize="char").score)
    assert aggregate("answer_bleu", rows) > 0.0


def test_exact_match_ignores_width_case_spaces_and_punctuation():
    records = [vqa_record(0, ["ひなた荘"]), vqa_record(1, ["ABC 123"]), vqa_record(2, ["…"])]
    rows = rows_for(records, ['{"answer": "「ひなた荘」。"}', '{"answer": "ａｂｃ１２３"}', '{"answer": ""}'])
    assert [r["answer_exact"] for r in rows] == [1.0, 1.0, 0.0]  # an empty answer never matches


def test_answer_metrics_are_undefined_without_answers_and_label_metrics_without_labels():
    emotion = sample_row({"id": "e", "label_set": "emorecom", "emotions": ["happy"]}, '{"emotions": ["happy"]}',
                         label_set="emorecom")
    for metric in ANSWER_METRICS:
        assert aggregate(metric, [emotion]) is None
    rows = rows_for([vqa_record(0, ["傘"])], ['{"answer": "傘"}'])
    for metric in ("macro_f1", "roc_auc_macro", "ece", "off_taxonomy_rate", "speaker_ari"):
        assert aggregate(metric, rows) is None, metric


def test_majority_prior_without_labels_is_the_most_frequent_answer():
    from comic_emotion.baselines.majority import label_prior

    records = [vqa_record(i, [a]) for i, a in enumerate(["傘", "ひなた荘", "傘", "ひなた荘", "本"])]
    assert label_prior(records, ())["answer"] == min("傘", "ひなた荘")  # tie: the first in sort order
    assert label_prior(records[:3], ()) == {"emotions": [], "speaker": None, "answer": "傘"}


def test_feature_baselines_refuse_label_free_and_train_less_datasets_in_one_line(tmp_path, monkeypatch):
    from comic_emotion.baselines.models import ArtifactError
    from comic_emotion.baselines.reference import TextBaseline

    from comic_emotion.converters import get_converter
    from comic_emotion.converters.base import prepare

    write_manga109(tmp_path / "manga109")
    for name in ("manga109-emotion", "manga109-dialog"):
        prepare(get_converter(name), tmp_path / "manga109", tmp_path / "data", today="2026-01-01")
    monkeypatch.setenv("COMIC_EMOTION_DATA", str(tmp_path / "data"))
    baseline = TextBaseline()
    with pytest.raises(ArtifactError, match=r"^TextBaseline: dataset 'manga109-dialog' has no emotion labels") as exc:
        baseline.model_for("manga109-dialog", "none")
    assert "\n" not in str(exc.value)
    with pytest.raises(ArtifactError, match=r"^TextBaseline: dataset 'manga109-emotion' has no 'train' split to "
                                            r"train on \(has: test\)") as exc:
        baseline.model_for("manga109-emotion", "kangaiset")
    assert "\n" not in str(exc.value) and "comic_emotion_majority" in str(exc.value)
