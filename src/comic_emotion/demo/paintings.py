"""Abstract paintings whose palette and composition carry one emotion, with an optional title plaque.

Styles: happy (warm bright, rising strokes, a sun), sad (dark blue, drooping drips), angry (red and
black jagged lines), disgust (murky green-brown blobs and spots), fear (pale sharp spikes on dark
purple), surprise (a radiating burst of vivid colour), neutral (muted level bands). ``intensity``
sets how many strokes there are and how saturated they are.

Cases, with their share of paintings:

* ``plain`` (66%): the title names the painting's emotion;
* ``untitled`` (14%): no plaque, only the picture tells;
* ``misleading_title`` (10%): an emotive painting under the title of another emotion: the picture wins;
* ``decisive_title`` (10%): a muted, neutral-looking painting whose title names an emotion: the title
  wins (as "Mourning" makes a grey field sad). The rule a full reader can learn: a muted picture takes
  the title's emotion, an emotive one keeps its own.

A title region's ``emotions`` are what the title itself says; the sample's gold is the painting's.
"""

from __future__ import annotations

import io
import math
import random
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from comic_emotion.demo import phrases
from comic_emotion.demo.drawing import latin_mask, rngs_for
from comic_emotion.demo.scenes import gold_modality

SIZE = 384
CASES = (("plain", 0.66), ("untitled", 0.14), ("misleading_title", 0.10), ("decisive_title", 0.10))

# Background gradient (top, bottom) and stroke colours of each style.
_PALETTES: dict[str, tuple[tuple, tuple, tuple]] = {
    "happy": ((255, 240, 160), (255, 170, 70), ((255, 205, 0), (255, 120, 70), (255, 90, 150), (255, 255, 120))),
    "sad": ((20, 30, 75), (45, 65, 115), ((70, 100, 170), (100, 120, 160), (30, 50, 105), (140, 160, 200))),
    "angry": ((130, 10, 10), (30, 0, 0), ((235, 35, 20), (10, 10, 10), (255, 95, 0), (180, 0, 0))),
    "disgust": ((95, 105, 45), (70, 55, 30), ((115, 135, 40), (80, 90, 20), (135, 110, 50), (165, 175, 60))),
    "fear": ((35, 12, 50), (5, 0, 12), ((225, 215, 245), (165, 145, 205), (255, 255, 255), (110, 80, 150))),
    "surprise": ((250, 250, 255), (200, 230, 255), ((255, 0, 120), (0, 190, 255), (255, 215, 0), (110, 230, 0))),
    "neutral": ((208, 203, 188), (172, 172, 166), ((192, 187, 172), (152, 152, 147), (218, 212, 197), (170, 165, 150))),
}


def _colour(rng: random.Random, style: str, saturation: float) -> tuple[int, int, int]:
    """A stroke colour of ``style``, pulled towards its grey by ``1 - saturation``."""
    r, g, b = rng.choice(_PALETTES[style][2])
    grey = (r + g + b) / 3
    return tuple(int(grey + (c - grey) * saturation) for c in (r, g, b))


def _paint(style: str, intensity: float, rng: random.Random) -> Image.Image:
    top, bottom, _ = _PALETTES[style]
    ramp = np.linspace(0.0, 1.0, SIZE, dtype=np.float32)[:, None, None]
    top_a, bottom_a = np.array(top, np.float32), np.array(bottom, np.float32)
    pixels = np.broadcast_to(top_a + (bottom_a - top_a) * ramp, (SIZE, SIZE, 3)).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    count = int(8 + 22 * intensity)
    sat = 0.55 + 0.45 * intensity
    R = rng.uniform
    if style == "happy":
        sx, sy, sr = R(60, 320), R(50, 130), R(30, 55)
        draw.ellipse((sx - sr, sy - sr, sx + sr, sy + sr), fill=(255, 225, 60))  # a yellow sun
        for _ in range(count):  # strokes rising to the upper right
            x, y = R(-40, 300), R(180, 420)
            length, rise = R(60, 160), R(40, 120)
            draw.line([(x + length * t, y - rise * t * t) for t in np.linspace(0, 1, 8)],
                      fill=_colour(rng, style, sat), width=int(R(5, 13)), joint="curve")
    elif style == "sad":
        for _ in range(count):  # drips running down from the top
            x, length = R(0, SIZE), R(80, 300)
            colour, width = _colour(rng, style, sat), int(R(3, 9))
            draw.line((x, 0, x + R(-6, 6), length), fill=colour, width=width)
            draw.ellipse((x - width, length - width, x + width, length + 1.6 * width), fill=colour)
        draw.rectangle((0, SIZE * 0.82, SIZE, SIZE), fill=_colour(rng, style, sat * 0.6))
    elif style == "angry":
        for _ in range(count):  # jagged zigzags across the canvas
            y, step, jump = R(0, SIZE), R(18, 40), R(25, 70) * (0.5 + intensity)
            points = [(x, y + (jump if i % 2 else -jump) * R(0.5, 1)) for i, x in enumerate(np.arange(-20, SIZE + 40, step))]
            draw.line(points, fill=_colour(rng, style, sat), width=int(R(3, 10)))
    elif style == "disgust":
        for _ in range(count):  # oozing blobs
            x, y, w, h = R(-30, SIZE), R(-30, SIZE), R(30, 110), R(20, 80)
            draw.ellipse((x, y, x + w, y + h), fill=_colour(rng, style, sat))
        for _ in range(count * 3):
            x, y, s = R(0, SIZE), R(0, SIZE), R(2, 6)
            draw.ellipse((x, y, x + s, y + s), fill=_colour(rng, style, sat))
    elif style == "fear":
        for _ in range(count):  # thin spikes stabbing in from the edges
            angle = R(0, 2 * math.pi)
            ex, ey = SIZE / 2 + 280 * math.cos(angle), SIZE / 2 + 280 * math.sin(angle)
            tip = R(0.25, 0.7)
            tx, ty = ex + (SIZE / 2 - ex) * tip, ey + (SIZE / 2 - ey) * tip
            nx, ny = -math.sin(angle) * R(6, 18), math.cos(angle) * R(6, 18)
            draw.polygon([(ex + nx, ey + ny), (ex - nx, ey - ny), (tx, ty)], fill=_colour(rng, style, sat))
    elif style == "surprise":
        fx, fy = R(120, 264), R(120, 264)
        for i in range(count * 2):  # rays radiating from one focal point
            angle = 2 * math.pi * i / (count * 2) + R(-0.05, 0.05)
            draw.line((fx, fy, fx + 400 * math.cos(angle), fy + 400 * math.sin(angle)),
                      fill=_colour(rng, style, sat), width=int(R(3, 8)))
        for ring in range(3, 0, -1):
            rr = ring * R(14, 22)
            draw.ellipse((fx - rr, fy - rr, fx + rr, fy + rr), outline=_colour(rng, style, sat), width=5)
    else:
        y = 0.0
        while y < SIZE:  # level, quiet bands
            h = R(30, 90)
            draw.rectangle((0, y, SIZE, y + h), fill=_colour(rng, style, sat))
            y += h
        x, y = R(60, 240), R(80, 240)
        draw.rectangle((x, y, x + R(50, 100), y + R(30, 70)), fill=_colour(rng, style, sat))
    return image


def draw_painting(seed: int, index: int) -> tuple[bytes, dict[str, Any]]:
    """PNG bytes and record fields (gold, title region, explanations, meta) of painting ``index``."""
    rng, _ = rngs_for(seed, "art", index)
    case = rng.choices([c for c, _ in CASES], weights=[w for _, w in CASES])[0]
    emotive = [e for e in phrases.EMOTIONS if e != "neutral"]
    emotion = rng.choice(emotive if case in ("misleading_title", "decisive_title") else phrases.EMOTIONS)
    if case == "decisive_title":
        style, intensity, title_emotion = "neutral", round(rng.uniform(0.3, 0.7), 2), emotion
    else:
        style = emotion
        intensity = round(rng.uniform(0.0, 0.2) if emotion == "neutral" else rng.uniform(0.3, 1.0), 2)
        title_emotion = rng.choice([e for e in phrases.EMOTIONS if e != emotion]) \
            if case == "misleading_title" else emotion
    image = _paint(style, intensity, rng)
    regions, text = [], set()
    title = None
    if case != "untitled":
        title = rng.choice(phrases.TITLES[title_emotion])
        mask = latin_mask([title[0]])
        width, height = mask.width + 20, mask.height + 10
        x0, y0 = (SIZE - width) // 2, SIZE - height - 8
        draw = ImageDraw.Draw(image)
        draw.rectangle((x0, y0, x0 + width, y0 + height), fill=(246, 240, 222), outline=(60, 50, 40), width=2)
        image.paste((30, 25, 20), (x0 + 10, y0 + 5), mask)
        regions.append({"id": "t0", "kind": "title", "bbox": [x0, y0, width + 1, height + 1], "text": title[0],
                        "lang": "en", "speaker": None, "emotions": [title_emotion], "translations": {"ja": title[1]}})
        text.add(title_emotion)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    looks = f"The {phrases.PALETTE_WORDS[style]}"
    if case == "decisive_title":
        explanations = [(f'{looks} alone look calm, but the title "{title[0]}" makes the painting '
                         f"{phrases.FEELING_WORDS[emotion]}.")]
    elif case == "misleading_title":
        explanations = [(f'Despite the title "{title[0]}", {looks[0].lower()}{looks[1:]} feel '
                         f"{phrases.FEELING_WORDS[emotion]}.")]
    else:
        explanations = [f"{looks} feel {phrases.FEELING_WORDS[emotion]}."]
        if title is not None and rng.random() < 0.5:
            explanations.append(f'The title "{title[0]}" matches the {emotion} mood of the {phrases.PALETTE_WORDS[style]}.')
    return buffer.getvalue(), {
        "emotions": [emotion],
        "intensity": intensity,
        "characters": [],
        "attributions": [],
        "text_regions": regions,
        "explanations": explanations,
        "meta": {
            "case": case,
            "conflict": case in ("misleading_title", "decisive_title"),
            "gold_modality": gold_modality({emotion}, text, {style}),
            "text_emotions": sorted(text),
            "image_emotions": [style],
        },
    }
