"""Drawing primitives of the demo set: seeded randomness, lettering, speech bubbles with tails, faces.

Lettering uses no system font, so the pictures are the same on every machine:

* Latin text is Pillow's built-in bitmap font (``ImageFont.load_default_imagefont``, 6x11 px),
  scaled up with nearest-neighbour sampling so a vision model can read it.
* Japanese text is drawn as *placeholder glyphs*: each character maps to a fixed pattern of
  brush-like strokes (the same character always gives the same glyph, punctuation is drawn as
  itself). A CJK font is not assumed to be installed (CI machines have none) and using one only
  where present would make the bytes machine-dependent. The record's ``text`` carries the real
  Japanese, which is what the prompt's text channel shows.
"""

from __future__ import annotations

import hashlib
import math
import random
import textwrap
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (inclusive-exclusive pixel box)
LATIN_SCALE = 2
_CELL = 14  # placeholder glyph cell of Japanese text, px


def seed_bytes(seed: int, domain: str, index: int) -> bytes:
    """A stable 32-byte digest of ``(seed, domain, index)``; Python's salted ``hash()`` is never used."""
    return hashlib.sha256(f"comic-emotion-demo:{seed}:{domain}:{index}".encode()).digest()


def rngs_for(seed: int, domain: str, index: int) -> tuple[random.Random, np.random.Generator]:
    """The ``random.Random`` and NumPy generator of one sample, both derived from its digest."""
    digest = seed_bytes(seed, domain, index)
    return random.Random(int.from_bytes(digest[:16], "big")), np.random.default_rng(int.from_bytes(digest[16:], "big"))


@lru_cache(maxsize=1)
def _font() -> ImageFont.ImageFont:
    return ImageFont.load_default_imagefont()


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters (a longer word keeps a line of its own)."""
    return textwrap.wrap(text, width=width, break_long_words=False) or [""]


def latin_mask(lines: Sequence[str]) -> Image.Image:
    """An ``L`` mask (255 = ink) of left-aligned lines in the bitmap font, scaled by :data:`LATIN_SCALE`."""
    font = _font()
    line_height = 12
    width = max(font.getbbox(line)[2] for line in lines) if any(lines) else 1
    mask = Image.new("L", (max(width, 1), line_height * len(lines)))
    draw = ImageDraw.Draw(mask)
    for i, line in enumerate(lines):
        draw.text((0, i * line_height), line, fill=255, font=font)
    return mask.resize((mask.width * LATIN_SCALE, mask.height * LATIN_SCALE), Image.Resampling.NEAREST)


# Strokes of the placeholder glyphs in a 12x12 box: three horizontals, three verticals, two diagonals,
# a hook and a short slash. A character picks 3-4 of them from a multiplicative hash of its code point.
_STROKES = (
    ((1, 2), (10, 2)), ((1, 6), (10, 6)), ((1, 10), (10, 10)), ((2, 1), (2, 10)), ((6, 0), (6, 11)),
    ((10, 1), (10, 10)), ((1, 1), (10, 10)), ((10, 1), (1, 10)), ((3, 4), (8, 8)), ((8, 3), (4, 7)),
)
_PUNCTUATION = {
    "！": (((6, 0), (6, 7)), ((6, 10), (6, 11))), "？": (((3, 2), (9, 2)), ((9, 2), (9, 5)), ((9, 5), (6, 7)),
                                                        ((6, 7), (6, 8)), ((6, 10), (6, 11))),
    "…": (((6, 2), (6, 3)), ((6, 6), (6, 7)), ((6, 10), (6, 11))), "、": (((8, 1), (10, 3)),),
    "。": (((8, 1), (10, 1)), ((10, 1), (10, 3)), ((10, 3), (8, 3)), ((8, 3), (8, 1))),
}


@lru_cache(maxsize=512)
def _glyph(char: str) -> Image.Image:
    glyph = Image.new("L", (_CELL, _CELL))
    draw = ImageDraw.Draw(glyph)
    strokes = _PUNCTUATION.get(char)
    if strokes is None:
        code = (ord(char) * 2654435761) & 0xFFFFFFFF  # Knuth's multiplicative hash: stable, well mixed
        chosen = [s for bit, s in enumerate(_STROKES) if code >> (bit * 3 + 1) & 1]
        strokes = tuple(chosen[:4]) if len(chosen) >= 3 else _STROKES[code % 3:: 3][:3]
    for (x0, y0), (x1, y1) in strokes:
        draw.line((x0 + 1, y0 + 1, x1 + 1, y1 + 1), fill=255, width=2)
    return glyph


def vertical_cjk_mask(text: str, *, column: int = 6) -> Image.Image:
    """An ``L`` mask of ``text`` set vertically in columns of ``column`` glyphs, read right to left."""
    chars = [c for c in text if not c.isspace()] or [" "]
    columns = [chars[i:i + column] for i in range(0, len(chars), column)]
    mask = Image.new("L", (len(columns) * _CELL, min(len(chars), column) * _CELL))
    for c, glyphs in enumerate(columns):
        x = (len(columns) - 1 - c) * _CELL
        for row, char in enumerate(glyphs):
            mask.paste(_glyph(char), (x, row * _CELL))
    return mask


def draw_bubble(image: Image.Image, box: Box, tip: tuple[float, float] | None, *, ellipse: bool,
                fill, ink) -> None:
    """A speech balloon filling ``box`` with a tail whose point is ``tip`` (no tail when ``None``)."""
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = box
    if tip is not None:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        dx, dy = tip[0] - cx, tip[1] - cy
        length = math.hypot(dx, dy) or 1.0
        ux, uy = dx / length, dy / length
        # Where the centre-to-tip ray leaves the balloon (ellipse or box edge).
        a, b = (x1 - x0) / 2, (y1 - y0) / 2
        if ellipse:
            t = 1.0 / math.sqrt((ux / a) ** 2 + (uy / b) ** 2)
        else:
            t = min(a / abs(ux) if ux else math.inf, b / abs(uy) if uy else math.inf)
        bx, by = cx + ux * t, cy + uy * t
        nx, ny = -uy, ux
        base = (bx - 6 * ux, by - 6 * uy)
        draw.polygon([(base[0] + 7 * nx, base[1] + 7 * ny), (base[0] - 7 * nx, base[1] - 7 * ny), tip],
                     fill=fill, outline=ink, width=2)
    if ellipse:
        draw.ellipse(box, fill=fill, outline=ink, width=2)
    else:
        draw.rounded_rectangle(box, radius=12, fill=fill, outline=ink, width=2)
    if tip is not None:
        # Paint over the balloon's outline where the tail joins it, so balloon and tail read as one shape.
        draw.polygon([(base[0] + 5 * nx, base[1] + 5 * ny), (base[0] - 5 * nx, base[1] - 5 * ny),
                      (bx + 3 * ux - 3.5 * nx, by + 3 * uy - 3.5 * ny), (bx + 3 * ux + 3.5 * nx, by + 3 * uy + 3.5 * ny)],
                     fill=fill)


def _curve(cx: float, y: float, half: float, bend: float, n: int = 9) -> list[tuple[float, float]]:
    """A parabola through the corners ``(cx ± half, y)``; its middle sits ``bend`` px lower (negative: higher)."""
    return [(cx + half * u, y + bend * (1 - u * u)) for u in np.linspace(-1, 1, n)]


def draw_face(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, emotion: str, intensity: float,
              colours: dict[str, object]) -> None:
    """Brows, eyes, mouth and marks of ``emotion`` on a head of radius ``r`` centred at ``(cx, cy)``.

    ``intensity`` (0-1) scales the expression: brow slant, eye size, mouth curvature and opening, and
    whether marks (tears, sweat, anger vein, blush) appear. ``colours`` names ``ink``, ``white``,
    ``mouth``, ``tear``, ``blush`` and ``vein``.
    """
    ink, white = colours["ink"], colours["white"]
    amp = 0.3 + 0.7 * intensity
    lw = max(2, round(r * 0.08))
    eye_y, er = cy - 0.08 * r, 0.11 * r
    brow_y = eye_y - 0.3 * r
    for side in (-1, 1):
        ex = cx + side * 0.38 * r
        inner, outer = ex - side * 0.17 * r, ex + side * 0.17 * r
        # Brows: the inner end drops in anger, rises in sadness and fear; everything rises in surprise.
        lift = {"surprise": 0.14, "fear": 0.07, "happy": 0.04}.get(emotion, 0.0) * r * amp
        slant = {"angry": 0.13, "sad": -0.12, "fear": -0.1}.get(emotion, 0.0) * r * amp
        if emotion == "disgust":
            slant = (0.12 if side < 0 else -0.05) * r * amp
        y = brow_y - lift
        if emotion in ("surprise", "happy"):
            draw.line(_curve(ex, y, 0.17 * r, -0.06 * r * amp, 5), fill=ink, width=lw)
        else:
            draw.line((inner, y + slant, outer, y - slant * 0.5), fill=ink, width=lw)
        # Eyes: wide open with small pupils (surprise, fear), narrowed (anger, disgust), closed arcs (joy).
        if emotion in ("surprise", "fear"):
            size = er * (1.25 + (0.8 if emotion == "surprise" else 0.5) * amp)
            draw.ellipse((ex - size, eye_y - size, ex + size, eye_y + size), fill=white, outline=ink, width=2)
            draw.ellipse((ex - er * 0.55, eye_y - er * 0.55, ex + er * 0.55, eye_y + er * 0.55), fill=ink)
        elif emotion == "happy" and intensity > 0.55:
            draw.arc((ex - er * 1.4, eye_y - er, ex + er * 1.4, eye_y + er * 1.6), 200, 340, fill=ink, width=lw)
        elif emotion == "angry" or (emotion == "disgust" and side < 0):
            draw.ellipse((ex - er * 1.1, eye_y - er * 0.45, ex + er * 1.1, eye_y + er * 0.45), fill=ink)
        elif emotion == "sad":
            draw.ellipse((ex - er, eye_y - er * 0.6, ex + er, eye_y + er), fill=ink)
        else:
            draw.ellipse((ex - er, eye_y - er * 1.2, ex + er, eye_y + er * 1.2), fill=ink)
    _draw_mouth(draw, cx, cy + 0.45 * r, r, emotion, intensity, amp, lw, colours)
    _draw_marks(draw, cx, cy, r, emotion, intensity, colours)


def _draw_mouth(draw, cx, my, r, emotion, intensity, amp, lw, colours) -> None:
    ink, half = colours["ink"], 0.3 * r
    if emotion == "happy":
        bend = 0.28 * r * amp
        if intensity > 0.55:  # open laugh: a flat upper lip over a deep curve
            draw.polygon(_curve(cx, my - bend / 2, half, 0.03 * r) + _curve(cx, my - bend / 2, half, bend)[::-1],
                         fill=colours["mouth"], outline=ink, width=2)
        else:
            draw.line(_curve(cx, my - bend / 2, half, bend), fill=ink, width=lw)
    elif emotion == "sad":
        bend = 0.22 * r * amp
        draw.line(_curve(cx, my + bend / 2, half * 0.85, -bend), fill=ink, width=lw)
    elif emotion == "angry":
        if intensity > 0.55:  # bared, clenched teeth
            h = 0.1 * r + 0.12 * r * amp
            draw.rectangle((cx - half, my - h / 2, cx + half, my + h / 2), fill=colours["white"], outline=ink, width=2)
            draw.line((cx - half, my, cx + half, my), fill=ink, width=1)
        else:
            draw.line(_curve(cx, my + 0.04 * r, half, -0.1 * r * amp), fill=ink, width=lw)
    elif emotion == "surprise":
        rx, ry = 0.1 * r + 0.08 * r * amp, 0.1 * r + 0.18 * r * amp
        draw.ellipse((cx - rx, my - ry, cx + rx, my + ry), fill=colours["mouth"], outline=ink, width=2)
    elif emotion == "fear":
        h = 0.06 * r + 0.12 * r * amp
        draw.ellipse((cx - half, my - h, cx + half, my + h), fill=colours["mouth"], outline=ink, width=2)
        points = [(cx - half * 0.8 + i * half * 0.2, my - h * 0.3 + (h * 0.35 if i % 2 else 0)) for i in range(9)]
        draw.line(points, fill=colours["white"], width=2)  # chattering teeth
    elif emotion == "disgust":
        wobble = 0.1 * r * amp
        draw.line([(cx - half, my + wobble * 0.3), (cx - half / 3, my - wobble), (cx + half / 3, my + wobble),
                   (cx + half, my - wobble * 1.2)], fill=ink, width=lw)
        draw.line((cx - 0.08 * r, my - 0.3 * r, cx, my - 0.22 * r, cx + 0.08 * r, my - 0.3 * r), fill=ink, width=1)
    else:
        draw.line((cx - half * 0.8, my, cx + half * 0.8, my), fill=ink, width=lw)


def _draw_marks(draw, cx, cy, r, emotion, intensity, colours) -> None:
    """Manga/comic symbols that make strong emotions easier to read (only above mid intensity)."""
    if intensity <= 0.45:
        return
    if emotion == "sad":
        x, y = cx + 0.38 * r, cy + 0.1 * r
        draw.ellipse((x - 0.06 * r, y, x + 0.06 * r, y + 0.2 * r), fill=colours["tear"])
    elif emotion == "fear":
        x, y = cx + 0.82 * r, cy - 0.5 * r
        draw.polygon([(x, y), (x - 0.1 * r, y + 0.2 * r), (x + 0.1 * r, y + 0.2 * r)], fill=colours["tear"])
        draw.ellipse((x - 0.1 * r, y + 0.12 * r, x + 0.1 * r, y + 0.32 * r), fill=colours["tear"])
        for i in range(3):  # gloom lines on the forehead
            gx = cx - 0.2 * r + i * 0.2 * r
            draw.line((gx, cy - 0.75 * r, gx, cy - 0.5 * r), fill=colours["tear"], width=2)
    elif emotion == "angry":
        x, y, s = cx + 0.55 * r, cy - 0.62 * r, 0.12 * r  # the cross-shaped anger vein
        for dx, dy in ((-1, -1), (1, -1), (-1, 1), (1, 1)):
            mid = math.degrees(math.atan2(-dy, -dx)) % 360  # each quarter arc bulges towards the centre
            ax, ay = x + dx * s, y + dy * s
            draw.arc((ax - s, ay - s, ax + s, ay + s), mid - 45, mid + 45, fill=colours["vein"], width=2)
    elif emotion in ("happy", "disgust"):
        tint = colours["blush"] if emotion == "happy" else colours["sick"]
        for side in (-1, 1):
            x, y = cx + side * 0.55 * r, cy + 0.2 * r
            draw.ellipse((x - 0.13 * r, y - 0.07 * r, x + 0.13 * r, y + 0.07 * r), fill=tint)
