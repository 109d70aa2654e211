"""Parallel English/Japanese text of the demo set: dialogue per emotion, sarcasm, painting titles.

Each English line has a Japanese line of the same meaning, so the translation-shift perturbation can
swap languages from the stored ``translations``. Phrases avoid the words of other emotions (no
"surprise party" among the happy lines), so the literal emotion of a line is its bank's label.
"""

from __future__ import annotations

# Demo label set order (comic_emotion.taxonomy.LABEL_SETS["demo"]).
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

DIALOGUE: dict[str, tuple[tuple[str, str], ...]] = {
    "angry": (
        ("Stop it right now!", "今すぐやめろ！"),
        ("I've had enough of you!", "もううんざりだ！"),
        ("How dare you!", "よくもそんなことを！"),
        ("You broke it again?!", "また壊したのか？！"),
        ("Get out of my way!", "そこをどけ！"),
        ("This makes me furious.", "本当に腹が立つ。"),
    ),
    "disgust": (
        ("Ugh, that's revolting.", "うわ、気持ち悪い。"),
        ("Gross! Get it away!", "汚い！近づけるな！"),
        ("That smell is vile.", "ひどい臭いだ。"),
        ("I feel sick looking at it.", "見ていると吐き気がする。"),
        ("Yuck, it's rotten.", "うえっ、腐ってる。"),
        ("How disgusting.", "なんて不快なんだ。"),
    ),
    "fear": (
        ("Wh-what was that noise?", "い、今の音は何？"),
        ("Please, don't hurt me!", "お願い、傷つけないで！"),
        ("I'm so scared...", "すごく怖い…"),
        ("Something is behind us!", "後ろに何かいる！"),
        ("Run! It's coming!", "逃げて！来るよ！"),
        ("I can't stop shaking.", "震えが止まらない。"),
    ),
    "happy": (
        ("This is the best day ever!", "最高の一日だ！"),
        ("We did it! Hooray!", "やった！万歳！"),
        ("I'm so happy for you!", "本当におめでとう！"),
        ("Ha ha, that's wonderful!", "はは、素晴らしい！"),
        ("I love it, thank you!", "大好き、ありがとう！"),
        ("Let's celebrate tonight!", "今夜はお祝いだ！"),
    ),
    "sad": (
        ("I miss her so much...", "彼女に会いたい…"),
        ("It's all my fault.", "全部私のせいだ。"),
        ("Nobody came to see me.", "誰も会いに来てくれなかった。"),
        ("I lost everything.", "すべてを失った。"),
        ("Why did you leave?", "どうして行ってしまったの？"),
        ("I just want to cry.", "ただ泣きたい。"),
    ),
    "surprise": (
        ("Whoa! No way!", "うわっ！まさか！"),
        ("You're here?!", "君がここに？！"),
        ("I can't believe it!", "信じられない！"),
        ("Wait, what just happened?", "え、今何が起きたの？"),
        ("Since when?!", "いつの間に？！"),
        ("Oh! That's unexpected!", "おっ！予想外だ！"),
    ),
    "neutral": (
        ("The train leaves at six.", "電車は六時に出る。"),
        ("Let's check the map.", "地図を確認しよう。"),
        ("I'll take the blue one.", "青いのにする。"),
        ("It's Tuesday today.", "今日は火曜日だ。"),
        ("Put the box over there.", "箱はあそこに置いて。"),
        ("Okay, see you later.", "了解、またあとで。"),
    ),
}

# Literally happy words said with a negative face: the face holds the gold (sarcasm).
SARCASM: tuple[tuple[str, str], ...] = (
    ("Oh, great. Just great.", "ああ、最高だね。本当に最高。"),
    ("Wonderful. Simply wonderful.", "素晴らしい。実に素晴らしい。"),
    ("Yeah, I'm thrilled.", "うん、すごく嬉しいよ。"),
    ("What a lovely day this is.", "なんて素敵な日なんだろう。"),
    ("Perfect, that's just perfect.", "完璧だ、まったく完璧だよ。"),
)

TITLES: dict[str, tuple[tuple[str, str], ...]] = {
    "angry": (("Rage", "激怒"), ("Fury in Red", "赤い憤怒"), ("The Quarrel", "口論")),
    "disgust": (("Rot", "腐敗"), ("Revulsion", "嫌悪"), ("Spoiled Feast", "腐った宴")),
    "fear": (("Dread", "恐怖"), ("The Night Terror", "夜の恐れ"), ("Trembling", "震え")),
    "happy": (("Joy", "喜び"), ("Golden Laughter", "金色の笑い"), ("Celebration", "祝祭")),
    "sad": (("Mourning", "喪"), ("Lonely Rain", "孤独な雨"), ("Farewell", "別れ")),
    "surprise": (("Astonishment", "驚嘆"), ("The Sudden Burst", "突然の炸裂"), ("Wonder", "驚き")),
    "neutral": (("Still Afternoon", "静かな午後"), ("Study in Grey", "灰色の習作"), ("Composition", "構成")),
}

# What the palette and composition of each painting style look like, for reference explanations.
PALETTE_WORDS: dict[str, str] = {
    "angry": "jagged red and black strokes",
    "disgust": "murky greens and browns in oozing blobs",
    "fear": "sharp pale spikes on a dark purple ground",
    "happy": "saturated yellows and rising strokes",
    "sad": "dark blues and drooping drips",
    "surprise": "bright bursts of radiating colour",
    "neutral": "muted, level bands of grey and beige",
}

FEELING_WORDS: dict[str, str] = {
    "angry": "angry", "disgust": "repellent", "fear": "frightening", "happy": "joyful",
    "sad": "sorrowful", "surprise": "startling", "neutral": "calm and neutral",
}

# Face cues per expression, for the explanations of comic and manga panels.
FACE_WORDS: dict[str, str] = {
    "angry": "lowered brows and a tight frown",
    "disgust": "a wrinkled, lopsided grimace",
    "fear": "raised brows, wide eyes and sweat",
    "happy": "a broad smile",
    "sad": "drooping brows and a downturned mouth",
    "surprise": "raised brows and an open mouth",
    "neutral": "a relaxed, level face",
}
