"""The answer parser on a table of real-looking answers (EN/JA, JSON/literal/free text, garbage)."""

from __future__ import annotations

import time

import pytest
from comic_emotion.metrics.parsing import MAX_PARSE_CHARS, parse_answer

from comic_emotion.taxonomy import label_set

EMO = label_set("emorecom")
ART = label_set("emoart")
KANGAI = label_set("kangaiset")

# (answer, label set, expected emotions, expected status)
CASES = [
    ('{"emotions": ["happy", "surprise"], "confidence": {"happy": 0.9, "surprise": 0.6}, "intensity": 0.7}',
     EMO, ("happy", "surprise"), "strict"),
    ('{"emotions": ["angry"]}', EMO, ("angry",), "strict"),
    ('{"emotions": []}', EMO, (), "strict"),  # "none of these labels" is an answer
    ('{"emotion": "sad"}', EMO, ("sad",), "strict"),
    ('{"emotions": "fear"}', EMO, ("fear",), "strict"),
    ('{"emotions": ["Happy", "SAD"]}', EMO, ("happy", "sad"), "strict"),
    ('{"emotions": ["joyful", "thrilled"]}', EMO, ("happy",), "strict"),
    ('{"emotions": ["furious"], "extra": {"nested": [1, 2]}, "model": "x"}', EMO, ("angry",), "strict"),
    ('{"emotions": ["happy", "sad", "happy"]}', EMO, ("happy", "sad"), "strict"),
    ('{"emotions": ["happy"], "confidence": {"sad": 0.9}}', EMO, ("happy",), "strict"),
    ('{"emotions": ["confused"]}', EMO, (), "strict"),
    ('{"labels": ["disgust", "other"]}', EMO, ("disgust", "other"), "strict"),
    ('{"happy": 0.8, "sad": 0.1}', EMO, ("happy",), "strict"),
    ('```json\n{"emotions": ["surprise"]}\n```', EMO, ("surprise",), "lenient"),
    ('```\n{"emotions": ["neutral"]}\n```', EMO, ("neutral",), "lenient"),
    ('Here is my answer:\n```json\n{"emotions": ["fear"], "intensity": 0.4}\n```\nHope it helps.', EMO, ("fear",),
     "lenient"),
    ('Answer: {"emotions": ["sad"]} (I am fairly sure)', EMO, ("sad",), "lenient"),
    ("{'dominant_emotion': 'Calm'}", ART, ("Calm",), "lenient"),
    ("{'dominant_emotion': 'Excited'}", ART, ("Excited",), "lenient"),
    # Per-utterance answers merge by the one page rule: Neutral only when every utterance is Neutral.
    ("{'utterance_emotions': [['Fear', 'Surprise'], ['Neutral']]}", KANGAI, ("Fear", "Surprise"),
     "lenient"),
    ("{'emotions': [['Neutral'], ['Neutral']]}", KANGAI, ("Neutral",), "lenient"),
    ("{'utterance_emotions': [['Anger'], ['Happiness', 'Sadness']]}", KANGAI, ("Anger", "Happiness", "Sadness"),
     "lenient"),
    ("{'emotions': ['happy'], 'intensity': 0.5}", EMO, ("happy",), "lenient"),
    ("{'emotions': ('sad',)}", EMO, ("sad",), "lenient"),
    # Truncated objects parse only after repair.
    ('{"emotions": ["happy", "surprise"], "confidence": {"happy": 0.9', EMO, ("happy", "surprise"), "repaired"),
    ('{"emotions": ["angry", "disgust"], "explanation": "He shouts at', EMO, ("angry", "disgust"), "repaired"),
    ('{"emotions": ["fear", "sur', EMO, ("fear",), "repaired"),
    ('["happy", "sad"]', EMO, ("happy", "sad"), "lenient"),
    ("['angry']", EMO, ("angry",), "lenient"),
    ("happy", EMO, ("happy",), "lenient"),
    ("Happy.", EMO, ("happy",), "lenient"),
    ("happy, surprise", EMO, ("happy", "surprise"), "lenient"),
    ("sad / fear", EMO, ("fear", "sad"), "lenient"),
    ("The character looks happy and a bit surprised.", EMO, ("happy", "surprise"), "lenient"),
    ("She seems terrified of the monster.", EMO, ("fear",), "lenient"),
    ("He is furious because his car was stolen.", EMO, ("angry",), "lenient"),
    ("The man is not happy; he looks sad.", EMO, ("sad",), "lenient"),
    ("Emotion: disgust", EMO, ("disgust",), "lenient"),
    ("I think the emotion is neutral.", EMO, ("neutral",), "lenient"),
    ("The girl is grinning with joy, clearly delighted.", EMO, ("happy",), "lenient"),
    ("They look shocked and scared.", EMO, ("fear", "surprise"), "lenient"),
    ("The other character is calm.", EMO, ("neutral",), "lenient"),
    ("The painting evokes a feeling of awe.", ART, ("Aroused",), "lenient"),  # awe -> class surprise
    ("This painting feels calm and relaxed.", ART, ("Calm",), "lenient"),  # relaxed -> class neutral
    ("The old man looks tired and a little glad.", ART, ("Tired", "Glad"), "lenient"),
    ("A tense, alarming scene.", ART, ("Alarmed",), "lenient"),  # tense -> class fear
    ("The viewer would feel bored.", ART, ("Bored",), "lenient"),
    ("怒り", EMO, ("angry",), "lenient"),
    ("彼は怒っているようだ。", EMO, ("angry",), "lenient"),
    ("少女は嬉しそうに笑っている。", EMO, ("happy",), "lenient"),
    ("驚きと恐怖の表情", EMO, ("fear", "surprise"), "lenient"),
    ("悲しみ", EMO, ("sad",), "lenient"),
    ('{"emotions": ["喜び"]}', EMO, ("happy",), "strict"),
    ('{"感情": ["嫌悪"]}', EMO, ("disgust",), "strict"),
    ("感情：驚き、強度：高い", EMO, ("surprise",), "lenient"),
    ("", EMO, (), "failed"),
    ("   \n\t ", EMO, (), "failed"),
    (None, EMO, (), "failed"),
    ("asdkjh qwe zzz", EMO, (), "failed"),
    ("I cannot determine the emotion from this image.", EMO, (), "failed"),
    ("{}", EMO, (), "failed"),
    ("{{{{[[[", EMO, (), "failed"),
    ("null", EMO, (), "failed"),
    ("12345", EMO, (), "failed"),
    ('{"emotions": ["happy"]} {"emotions": ["sad"]}', EMO, ("happy", "sad"), "lenient"),
    (b'{"emotions": ["happy"]}', EMO, ("happy",), "strict"),
    (b"\xff\xfe\xfa sad", EMO, ("sad",), "lenient"),
    (b"\x80\x81\x82", EMO, (), "failed"),
    ('{"emotions": ["Joy", "Anger"]}', label_set("emocomics35"), ("Anger", "Joy"), "strict"),
    ('{"emotions": ["happy"]}', label_set("emocomics35"), ("Joy",), "strict"),
    ('{"emotions": ["amused", "content"]}', label_set("artemis"), ("amusement", "contentment"), "strict"),
    ('{"emotions": ["something else"]}', label_set("artemis"), ("something else",), "strict"),
]


@pytest.mark.parametrize("answer, labels, emotions, status", CASES)
def test_answer_table(answer, labels, emotions, status):
    parsed = parse_answer(answer, labels)
    assert parsed.emotions == emotions
    assert parsed.status == status


def test_table_is_large_enough():
    assert len(CASES) >= 60


def test_utterance_answer_keeps_slots_speakers_and_page_labels():
    labels = label_set("emocomics35")
    answer = ('{"emotions": ["Fear"], "utterances": [{"emotions": ["Neutral"], "speaker": "ID-1"}, '
              '{"emotions": ["worried"]}, {"emotions": []}]}')
    parsed = parse_answer(answer, labels)
    assert parsed.utterances == (("Neutral",), ("Fear",), ())
    assert parsed.utterance_speakers == ("ID-1", "", "")
    assert parsed.emotions == ("Fear",)  # the stated page labels
    derived = parse_answer('{"utterances": [["Joy"], ["Neutral"], ["Anger", "Joy"]]}', labels)
    assert derived.emotions == ("Anger", "Joy")  # no page labels given: merged by the page rule
    assert parse_answer('{"emotions": ["Joy", "Neutral"]}', labels).utterances is None  # page-level answer


def test_full_answer_fields():
    parsed = parse_answer('{"emotions": ["happy", "surprise"], "confidence": {"happy": 0.9, "surprise": "60%"}, '
                          '"intensity": "high", "speaker": "B", "attributions": {"A": ["happy"], "B": "surprised"}, '
                          '"explanation": "A smiles; B gasps."}', EMO)
    assert parsed.confidences == {"happy": 0.9, "surprise": 0.6}
    assert parsed.intensity == 0.75
    assert parsed.speaker == "B"
    assert parsed.attributions == (("A", "happy"), ("B", "surprise"))
    assert parsed.explanation == "A smiles; B gasps."


@pytest.mark.parametrize("raw, value", [(0.7, 0.7), (7, 0.7), ("70%", 0.7), (85, 0.85), ("medium", 0.5),
                                        (-1, None), (float("nan"), None), (1000, None), (True, None)])
def test_intensity_scales_and_rejects(raw, value):
    import json

    got = parse_answer(json.dumps({"emotions": ["sad"], "intensity": raw}), EMO).intensity
    assert got == (pytest.approx(value) if value is not None else None)


def test_off_taxonomy_words_are_reported():
    parsed = parse_answer('{"emotions": ["happy", "confused", "disgust"]}', ART)
    assert parsed.emotions == ("Happy",)
    assert parsed.off_taxonomy == ("confused", "disgust")


def test_attribution_list_formats():
    a = parse_answer('{"emotions": ["sad"], "attributions": [{"character": "Ken", "emotions": ["sad"]}, ["Mio", "joy"]]}',
                     EMO)
    assert a.attributions == (("Ken", "sad"), ("Mio", "happy"))


def test_free_text_intensity_and_speaker():
    parsed = parse_answer("The speaker is Taro. He looks angry, intensity 8/10.", EMO)
    assert parsed.emotions == ("angry",)
    assert parsed.intensity == pytest.approx(0.8)
    assert parsed.speaker == "Taro"


def test_long_answers_are_capped_and_fast():
    long_answer = "blah " * 20_000 + '{"emotions": ["happy"]}'
    start = time.perf_counter()
    parsed = parse_answer(long_answer, EMO)
    assert time.perf_counter() - start < 0.5
    assert parsed.status == "failed"  # the JSON lies beyond MAX_PARSE_CHARS
    assert len(long_answer) > MAX_PARSE_CHARS
    start = time.perf_counter()
    parse_answer("{" * 100_000, EMO)
    parse_answer("[" * 50_000 + "happy", EMO)
    assert time.perf_counter() - start < 1.0


def test_parser_rejects_bad_types_and_parses_without_labels():
    # Determinism is tested across two processes (test_cross_process_determinism.py): a call compared
    # with itself in one process cannot see hash-salt or global-state effects.
    with pytest.raises(TypeError, match="answer must be str, bytes or None"):
        parse_answer(42, EMO)  # type: ignore[arg-type]
    no_labels = parse_answer("The speaker is Taro.", [])
    assert (no_labels.emotions, no_labels.status, no_labels.speaker) == ((), "lenient", "Taro")


def test_literal_eval_never_evaluates_code():
    parsed = parse_answer("{'emotions': __import__('os').system('echo pwned')}", EMO)
    assert parsed.status == "failed"


def test_lexicon_walk_every_word_has_its_noun_adjective_and_verb_forms():
    from comic_emotion.metrics import lexicon

    words = set()
    for concept, families in lexicon._FAMILIES.items():
        for family in families:
            noun, adjective, verb = family[:3]
            assert any((noun, adjective, verb)), family
            for form in family:
                if form:
                    # Every form of a family maps to the family's concept, as a word and through map_word.
                    assert lexicon.concept_of(form) == concept, (form, concept)
                    words.add(form)
            # A participle adjective ("worried") comes with its verb ("worry"), except where English has none.
            if adjective and adjective.endswith("ed") and adjective not in ("grossed", "composed"):
                assert verb, family
    phrases = {w for ws in lexicon._PHRASES.values() for w in ws}
    # The walk covers the lexicon: no emotion word outside a family (phrases and "other" aside).
    assert set(lexicon.EN_WORDS) == words | phrases
    for noun, adjective, verb in (("worry", "worried", "worry"), ("annoyance", "annoyed", "annoy"),
                                  ("disappointment", "disappointed", "disappoint"), ("concern", "concerned", "concern"),
                                  ("humor", "humorous", None), ("exasperation", "exasperated", "exasperate")):
        assert any(tuple(f[:3]) == (noun, adjective, verb) for fs in lexicon._FAMILIES.values() for f in fs), noun


@pytest.mark.parametrize("answer, labels, emotions", [
    ('{"emotions": ["worry", "annoyance"]}', label_set("emocomics35"), ("Anger", "Fear")),
    ('{"emotions": ["disappointment"]}', label_set("emocomics35"), ("Sadness",)),
    ('{"emotions": ["exasperation", "humor"]}', label_set("emocomics35"), ("Anger", "Joy")),
    ("Her face shows concern and a hint of disappointment.", EMO, ("fear", "sad")),
    ("Please answer: he looks happy.", EMO, ("happy",)),  # "please" is not pleasure in running text
])
def test_noun_forms_map_like_adjectives(answer, labels, emotions):
    assert parse_answer(answer, labels).emotions == emotions
