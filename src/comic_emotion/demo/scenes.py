"""Comic and manga panels: characters with expressive faces, lettered actor badges, speech bubbles.

A panel is first *planned* (who is there, what each feels, what the face shows, what is said) and
then drawn in one of two styles: ``comic`` (colour, English, left to right, rounded balloons) or
``manga`` (greyscale with screentone, Japanese set vertically, right to left, oval balloons).

Cases of the plan, with their share of panels (the hard ones make each single channel fall short):

* ``plain`` (72%): every character speaks and text and face agree;
* ``silent`` (10%): one character says nothing, so only the face shows its emotion;
* ``off_panel`` (9%): a balloon's tail runs to the panel edge, its speaker is not drawn, so only the
  text shows that emotion (it is part of the gold, with ``speaker`` null);
* ``sarcasm`` (4.5%): literally happy words with an angry, disgusted or sad face: the face holds the gold;
* ``masking`` (4.5%): a forced smile over words of sadness, fear or anger: the words hold the gold.

The conflict rule a full reader can learn: when face and words disagree, the negative one is true.
"""

from __future__ import annotations

import colorsys
import io
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from comic_emotion.demo import phrases
from comic_emotion.demo.drawing import (
    Box,
    draw_bubble,
    draw_face,
    latin_mask,
    rngs_for,
    vertical_cjk_mask,
    wrap,
)

SIZE = 384
CASES = (("plain", 0.72), ("silent", 0.10), ("off_panel", 0.09), ("sarcasm", 0.045), ("masking", 0.045))
ACTORS = ("A", "B", "C")


@dataclass
class Actor:
    """One drawn character: the gold emotion, what the face shows, and what it says (if anything)."""

    actor_id: str
    emotion: str
    face: str
    intensity: float
    line: tuple[str, str] | None = None  # (English, Japanese)
    literal: str | None = None  # the emotion the words show when read alone


@dataclass
class Plan:
    """What one panel will show, decided before anything is drawn.

    The plan is drawn first and kept across layout retries (each retry draws its layout from an rng
    of its own), so balloons that do not fit change the picture, never the gold or the ``meta`` notes.
    """

    case: str
    actors: list[Actor]
    off_panel: Actor | None  # the unseen speaker (actor_id unused)


def _intensity(rng: random.Random, emotion: str) -> float:
    return round(rng.uniform(0.0, 0.2) if emotion == "neutral" else rng.uniform(0.25, 1.0), 2)


def plan_panel(rng: random.Random) -> Plan:
    """Draw who is in the panel, what each one feels, shows and says."""
    case = rng.choices([c for c, _ in CASES], weights=[w for _, w in CASES])[0]
    n = rng.choices((1, 2, 3), weights=(0.35, 0.4, 0.25))[0]
    if case == "off_panel":
        n = min(n, 2)
    emotions = [rng.choice(phrases.EMOTIONS) for _ in range(n)]
    actors = [Actor(ACTORS[i], e, e, _intensity(rng, e)) for i, e in enumerate(emotions)]
    hard = rng.randrange(n)
    others = {a.emotion for i, a in enumerate(actors) if i != hard}
    # The hard character's emotion is chosen so the case really hides it from one channel.
    if case == "silent":
        pool = [e for e in phrases.EMOTIONS if e not in others]
        actors[hard] = Actor(ACTORS[hard], (e := rng.choice(pool)), e, _intensity(rng, e))
    elif case in ("sarcasm", "masking"):
        pool = [e for e in (("angry", "disgust", "sad") if case == "sarcasm" else ("sad", "fear", "angry"))
                if e not in others]
        e = rng.choice(pool or ["sad"])
        face = e if case == "sarcasm" else "happy"
        actors[hard] = Actor(ACTORS[hard], e, face, round(rng.uniform(0.5, 1.0), 2))
        for i, actor in enumerate(actors):  # nobody else may show happy, or the conflict would not cost anything
            if i != hard and actor.emotion == "happy":
                actors[i] = Actor(actor.actor_id, "neutral", "neutral", _intensity(rng, "neutral"))
    for i, actor in enumerate(actors):
        if case == "silent" and i == hard:
            continue
        if case == "sarcasm" and i == hard:
            actor.line, actor.literal = rng.choice(phrases.SARCASM), "happy"
        else:
            actor.line, actor.literal = rng.choice(phrases.DIALOGUE[actor.emotion]), actor.emotion
    off_panel = None
    if case == "off_panel":
        e = rng.choice([e for e in phrases.EMOTIONS if e not in {a.emotion for a in actors}])
        off_panel = Actor("?", e, e, _intensity(rng, e), rng.choice(phrases.DIALOGUE[e]), e)
    return Plan(case, actors, off_panel)


@lru_cache(maxsize=2)
def _dot_distance(spacing: int) -> np.ndarray:
    """Distance of every pixel to the nearest dot centre of a 45-degree screentone grid."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    u, v = (xx + yy) / np.sqrt(2), (xx - yy) / np.sqrt(2)
    du, dv = (u % spacing) - spacing / 2, (v % spacing) - spacing / 2
    return np.sqrt(du * du + dv * dv)


def _background(style: str, rng: random.Random) -> Image.Image:
    ramp = np.linspace(0.0, 1.0, SIZE, dtype=np.float32)[:, None, None]
    if style == "comic":
        hue = rng.random()
        top = np.array(colorsys.hsv_to_rgb(hue, 0.25, 0.98), np.float32) * 255
        bottom = np.array(colorsys.hsv_to_rgb((hue + 0.08) % 1, 0.35, 0.85), np.float32) * 255
        pixels = np.broadcast_to(top + (bottom - top) * ramp, (SIZE, SIZE, 3)).copy()
        pixels[int(SIZE * 0.86):] = np.array(colorsys.hsv_to_rgb(rng.random(), 0.3, 0.7), np.float32) * 255
        return Image.fromarray(pixels.astype(np.uint8), "RGB")
    # Screentone: dot radius grows (darker) towards the bottom or the top, as hand-applied tone sheets do.
    low, high = rng.uniform(0.4, 1.2), rng.uniform(1.6, 2.6)
    radius = low + (high - low) * (ramp[:, :, 0] if rng.random() < 0.5 else ramp[::-1, :, 0])
    pixels = np.where(_dot_distance(6) < radius, 70, 248).astype(np.uint8)
    return Image.fromarray(pixels, "L")


_COMIC_COLOURS = {"ink": (20, 20, 20), "white": (255, 255, 255), "mouth": (150, 30, 40), "tear": (70, 140, 230),
                  "blush": (245, 140, 150), "vein": (210, 20, 20), "sick": (140, 190, 90)}
_MANGA_COLOURS = {"ink": 10, "white": 255, "mouth": 60, "tear": 140, "blush": 205, "vein": 10, "sick": 170}
_SKIN = ((255, 222, 189), (241, 194, 150), (198, 140, 100), (141, 95, 65), (255, 205, 170))
_HAIR = ((60, 40, 20), (200, 160, 60), (120, 60, 30), (150, 150, 160), (200, 80, 40), (40, 40, 80))


def _apart(a: Box, b: Box) -> bool:
    return a[2] + 4 < b[0] or b[2] + 4 < a[0] or a[3] + 4 < b[1] or b[3] + 4 < a[1]


def _crosses(box: Box, tip: tuple[float, float], other: Box) -> bool:
    """Whether the tail from the centre of ``box`` to ``tip`` runs through ``other`` (sampled, 3 px slack)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for i in range(25):
        x, y = cx + (tip[0] - cx) * i / 24, cy + (tip[1] - cy) * i / 24
        inside_own = box[0] <= x <= box[2] and box[1] <= y <= box[3]
        if not inside_own and other[0] - 3 <= x <= other[2] + 3 and other[1] - 3 <= y <= other[3] + 3:
            return True
    return False


def _place(placed: list[tuple[Box, tuple[float, float]]], width: int, height: int, want_x: float, limit_y: int,
           tip: tuple[float, float], *, tails: bool) -> Box | None:
    """The lowest spot of a ``width`` x ``height`` balloon near ``want_x``, ending above ``limit_y``, that
    overlaps no placed balloon and (with ``tails``) whose tail crosses none, nor is crossed by theirs."""
    for shift in sorted(range(-250, 251, 25), key=abs):
        x0 = int(min(max(want_x + shift - width / 2, 6), SIZE - 6 - width))
        for y0 in range(max(8, limit_y - height), 7, -4):  # low first: short tails
            box = (x0, y0, x0 + width, y0 + height)
            if all(_apart(box, b) and not (tails and (_crosses(box, tip, b) or _crosses(b, t, box)))
                   for b, t in placed):
                return box
    return None


def _balloon(style: str, line: tuple[str, str], placed: list[tuple[Box, tuple[float, float]]], want_x: float,
             limit_y: int, tip: tuple[float, float], *, margin: int = 6, final: bool
             ) -> tuple[Image.Image, Box] | None:
    """The text mask and box of a balloon, trying other line lengths when the preferred one has no room;
    ``None`` if none fits, unless ``final``: then tails may cross balloons, and at last balloons overlap."""
    sizes = (11, 15, 8) if style == "comic" else (6, 8, 4)
    for size, tails in [(size, tails) for tails in ((True, False) if final else (True,)) for size in sizes]:
        if style == "comic":
            mask, width, height = latin_mask(wrap(line[0], size)), 18, 16
        else:  # an oval needs more room around its text than a rounded box
            mask, width, height = vertical_cjk_mask(line[1], column=size), 56, 52
        width, height = width + mask.width, height + mask.height
        x = min(max(want_x, width / 2 + margin), SIZE - width / 2 - margin)
        box = _place(placed, width, height, x, limit_y, tip, tails=tails)
        if box is not None:
            return mask, box
    if not final:
        return None
    x0 = int(min(max(want_x - width / 2, 6), SIZE - 6 - width))
    return mask, (x0, 8, x0 + width, 8 + height)  # crowded panel: overlap rather than cover a face


def draw_panel(style: str, seed: int, index: int) -> tuple[bytes, dict[str, Any]]:
    """PNG bytes and record fields (characters, text, gold, meta) of panel ``index`` of ``style``.

    A layout whose balloons do not fit cleanly is drawn again with a layout generator derived from the
    attempt number (still deterministic); the last attempt keeps its layout whatever it is.
    """
    rng, _ = rngs_for(seed, style, index)
    plan = plan_panel(rng)
    drawn = _render(style, plan, rng, first=True, final=False)
    for attempt in range(1, 6):
        if drawn is not None:
            return drawn
        drawn = _render(style, plan, rngs_for(seed, f"{style}/layout{attempt}", index)[0], first=False,
                        final=attempt == 5)
    return drawn


def _render(style: str, plan: Plan, rng: random.Random, *, first: bool, final: bool
            ) -> tuple[bytes, dict[str, Any]] | None:
    image = _background(style, rng)
    draw = ImageDraw.Draw(image)
    colours = _COMIC_COLOURS if style == "comic" else _MANGA_COLOURS
    ink, white = colours["ink"], colours["white"]
    n = len(plan.actors)
    radius = (46, 40, 34)[n - 1]
    slots = {1: [rng.uniform(130, 254)], 2: [rng.uniform(95, 140), rng.uniform(244, 289)], 3: [68, 192, 316]}[n]
    if style == "manga":
        slots = slots[::-1]  # A stands first in reading order: on the right
    characters, heads = [], []
    for actor, cx in zip(plan.actors, slots):
        cy = rng.uniform(238, 258) + (12 if n == 3 else 0)  # three speakers need more room for balloons
        shirt = tuple(int(c * 255) for c in colorsys.hsv_to_rgb(rng.random(), 0.55, 0.8)) \
            if style == "comic" else rng.choice((150, 185, 220))
        skin = rng.choice(_SKIN) if style == "comic" else 255
        hair = rng.choice(_HAIR) if style == "comic" else rng.choice((20, 95))
        draw.rounded_rectangle((cx - radius * 1.05, cy + radius * 0.8, cx + radius * 1.05, SIZE + 12), radius=16,
                               fill=shirt, outline=ink, width=2)
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=skin, outline=ink, width=2)
        draw.chord((cx - radius, cy - radius, cx + radius, cy + radius), 212, 328, fill=hair, outline=ink, width=2)
        draw_face(draw, cx, cy, radius, actor.face, actor.intensity, colours)
        badge_y = cy + radius * 1.9
        draw.ellipse((cx - 15, badge_y - 15, cx + 15, badge_y + 15), fill=white, outline=ink, width=2)
        letter = latin_mask([actor.actor_id])
        image.paste(ink, (int(cx - letter.width / 2), int(badge_y - letter.height / 2)), letter)
        face_box = [round(cx - radius), round(cy - radius), round(2 * radius), round(2 * radius)]
        characters.append({"actor_id": actor.actor_id, "name": actor.actor_id, "aliases": [], "bbox": face_box,
                           "emotions": [actor.emotion], "intensity": actor.intensity})
        heads.append((cx, cy - radius))
    limit_y = int(min(y for _, y in heads)) - 22
    placed: list[tuple[Box, tuple[float, float]]] = []
    regions = []
    speakers = [(a, head) for a, head in zip(plan.actors, heads) if a.line is not None]
    if not first:
        rng.shuffle(speakers)  # another placement order often packs a crowded panel
    if plan.off_panel is not None:  # placed first: it must sit at its edge
        edge = rng.choice((0, SIZE - 1))
        speakers.insert(0, (plan.off_panel, (edge, rng.uniform(30, 70))))
    for actor, (tx, ty) in speakers:
        off = actor is plan.off_panel
        # An off-panel speaker's balloon hugs its edge (its tail runs out of the frame), high in the panel.
        want_x = (0 if tx == 0 else SIZE) if off else tx
        tip = (tx, ty) if off else (tx, ty - 8)
        balloon = _balloon(style, actor.line, placed, want_x, int(ty) + 60 if off else limit_y, tip,
                           margin=34 if off else 6, final=final)
        if balloon is None:
            return None
        mask, box = balloon
        placed.append((box, tip))
        draw_bubble(image, box, tip, ellipse=style == "manga", fill=white, ink=ink)
        image.paste(ink, ((box[0] + box[2] - mask.width) // 2, (box[1] + box[3] - mask.height) // 2), mask)
        english, japanese = actor.line
        text, lang, other = (english, "en", {"ja": japanese}) if style == "comic" else (japanese, "ja", {"en": english})
        regions.append({"id": f"t{len(regions)}", "kind": "speech", "bbox": [box[0], box[1], box[2] - box[0],
                        box[3] - box[1]], "text": text, "lang": lang, "speaker": None if off else actor.actor_id,
                        "emotions": [actor.emotion], "intensity": actor.intensity, "translations": other})
    draw.rectangle((0, 0, SIZE - 1, SIZE - 1), outline=ink, width=3)  # the panel frame
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue(), _fields(plan, characters, regions, style)


def _fields(plan: Plan, characters: list[dict], regions: list[dict], style: str) -> dict[str, Any]:
    everyone = plan.actors + ([plan.off_panel] if plan.off_panel else [])
    gold = {a.emotion for a in everyone}
    text = {a.literal for a in everyone if a.literal}
    image = {a.face for a in plan.actors}
    order = phrases.EMOTIONS
    clauses = []
    for a in plan.actors:
        if plan.case == "sarcasm" and a.face != a.literal and a.line:
            clauses.append(f'{a.actor_id} says "{a.line[0]}" with {phrases.FACE_WORDS[a.face]}: sarcasm, '
                           f"so {a.actor_id} feels {a.emotion}.")
        elif plan.case == "masking" and a.face != a.emotion:
            clauses.append(f'{a.actor_id} smiles but says "{a.line[0]}": the smile hides {a.emotion}.')
        else:
            clauses.append(f"{a.actor_id} shows {phrases.FACE_WORDS[a.face]}, so {a.actor_id} feels {a.emotion}.")
    if plan.off_panel:
        clauses.append(f'Someone outside the panel says "{plan.off_panel.line[0]}", which is {plan.off_panel.emotion}.')
    return {
        "reading_direction": "ltr" if style == "comic" else "rtl",
        "emotions": [e for e in order if e in gold],
        "intensity": max(a.intensity for a in everyone),
        "characters": characters,
        "attributions": [{"actor_id": a.actor_id, "emotion": a.emotion} for a in plan.actors],
        "text_regions": regions,
        "explanations": [" ".join(clauses)],
        "meta": {
            "case": plan.case,
            "conflict": plan.case in ("sarcasm", "masking"),
            "gold_modality": gold_modality(gold, text, image),
            "text_emotions": [e for e in order if e in text],
            "image_emotions": [e for e in order if e in image],
        },
    }


def gold_modality(gold: set[str], text: set[str], image: set[str]) -> str:
    """Which channel alone shows exactly the gold emotions: ``"text"``, ``"image"`` or ``"both"``.

    Raises
    ------
    ValueError
        If neither does: every case of the generator keeps the gold readable from one channel.
    """
    if text != gold and image != gold:
        raise ValueError(f"gold {sorted(gold)} shown by neither text {sorted(text)} nor image {sorted(image)}")
    return "both" if text == image == gold else "text" if text == gold else "image"
