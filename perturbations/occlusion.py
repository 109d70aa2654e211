"""Image occlusion: random patches, speech bubbles, faces, and the full-mask modality ablations.

Masks are flat mid-grey boxes (``#808080``): grey is neither bubble white nor ink black, so a mask reads
as "hidden", not as an empty bubble or a shadow. Boxes are filled with ``Image.paste(colour, box)`` on a
copy, which is a C fill: no NumPy round trip and no blur on the hot path (the speed goal is 0.8x a bare
copy plus three rectangles).

A masked bubble loses its text in the text channel too (``text`` becomes ``""`` and its translations are
dropped); the region itself, its box, speaker and gold labels stay, so scoring is unchanged. Samples
without the boxes a perturbation needs are returned unchanged with ``changed: false`` and the reason in
``details.skipped``; they lower the coverage instead of failing the run.
"""

from __future__ import annotations

import random
from typing import Any, Iterable, Sequence

from comic_emotion.perturbations.base import Item, Perturbation, stochastic_round

FILL = "#808080"
# Text kinds that sit in a balloon or box on the page; sound effects and titles are drawn lettering.
BUBBLE_KINDS = frozenset({"speech", "thought", "caption", "narration"})
GRID = 8  # patch occlusion masks cells of an 8x8 grid: exact, non-overlapping area fractions


def _fill_boxes(image: Any, boxes: Iterable[Sequence[float]]):
    """A copy of ``image`` with each ``[x, y, w, h]`` box filled grey (boxes clipped to the image)."""
    # lazy: Pillow
    from PIL import ImageColor

    out = image.convert("RGB") if image.mode == "P" else image.copy()
    colour = ImageColor.getcolor(FILL, out.mode)
    width, height = out.size
    for x, y, w, h in boxes:
        box = (max(0, int(x)), max(0, int(y)), min(width, int(round(x + w))), min(height, int(round(y + h))))
        if box[2] > box[0] and box[3] > box[1]:
            out.paste(colour, box)
    return out


class PatchOcclusion(Perturbation):
    """Grey out a random set of grid cells covering ``AREA[severity - 1]`` of the image."""

    name = "occlusion_patches"
    family = "occlusion"
    AREA = (0.1, 0.2, 0.3, 0.4, 0.5)

    def parameters(self) -> dict[str, Any]:
        """Area fraction, grid and fill: the grid is recorded too, as it decides which areas are possible."""
        return {"area_fraction": self.AREA[self.severity - 1], "grid": GRID, "fill": FILL}

    def apply(self, item: Item, rng: random.Random) -> Item:
        """Mask ``round(area * 64)`` distinct grid cells, so the masked area is exact, not a random draw.

        The cells are drawn whether or not pixels are passed, so the record (and its stamp) is the same
        for a prompt built without the image as for the image itself.
        """
        record = dict(item.record)
        # The size comes from the record when the pixels are not passed (lmms-eval builds prompts from docs
        # without images), so the record and its coverage flag are the same with or without them.
        size = item.image.size if item.image is not None else \
            (record["image"]["width"], record["image"]["height"]) if record.get("image") else None
        if size is None:
            return self._result(record, None, changed=False, skipped="no image")
        width, height = size
        cells = sorted(rng.sample(range(GRID * GRID), round(self.AREA[self.severity - 1] * GRID * GRID)))
        xs = [round(i * width / GRID) for i in range(GRID + 1)]
        ys = [round(i * height / GRID) for i in range(GRID + 1)]
        boxes, start = [], 0
        # Merge runs of neighbouring cells in a row into one box: fewer paste calls, same pixels.
        for i, cell in enumerate(cells):
            last = i + 1 == len(cells) or cells[i + 1] != cell + 1 or (cell + 1) % GRID == 0
            if last:
                first = cells[start]
                row, col0, col1 = first // GRID, first % GRID, cell % GRID
                boxes.append((xs[col0], ys[row], xs[col1 + 1] - xs[col0], ys[row + 1] - ys[row]))
                start = i + 1
        area = sum(w * h for _, _, w, h in boxes) / (width * height)
        if record.get("image"):
            record["image"] = {**record["image"], "sha256": None}  # the pixels no longer match the source file
        image = None if item.image is None else _fill_boxes(item.image, boxes)
        return self._result(record, image, changed=bool(boxes),
                            occluded_fraction=round(area, 6), cells=len(cells))


class _BoxOcclusion(Perturbation):
    """Mask a fraction of the boxes of one kind (bubbles or faces); subclasses say which."""

    FRACTION: tuple[float, ...]
    what: str

    def parameters(self) -> dict[str, Any]:
        return {"fraction": self.FRACTION[self.severity - 1], "fill": FILL}

    def _boxes(self, record: dict[str, Any]) -> list[tuple[int, Sequence[float]]]:
        raise NotImplementedError

    def apply(self, item: Item, rng: random.Random) -> Item:
        record = dict(item.record)
        candidates = self._boxes(record)
        if not candidates:
            return self._result(record, item.image, changed=False, skipped=f"no {self.what} boxes", boxes=0)
        count = min(len(candidates), stochastic_round(self.FRACTION[self.severity - 1] * len(candidates), rng))
        chosen = sorted(rng.sample(range(len(candidates)), count))
        if not chosen:
            return self._result(record, item.image, changed=False, boxes=len(candidates), masked=[])
        masked = [candidates[i] for i in chosen]
        image = None if item.image is None else _fill_boxes(item.image, [box for _, box in masked])
        if record.get("image"):
            record["image"] = {**record["image"], "sha256": None}  # the pixels no longer match the source file
        self._after_mask(record, [index for index, _ in masked])
        return self._result(record, image, changed=True, boxes=len(candidates),
                            masked=[self._label(record, index) for index, _ in masked])

    def _after_mask(self, record: dict[str, Any], indices: list[int]) -> None:
        """Hook for channel edits beyond the pixels (bubbles also lose their text)."""

    def _label(self, record: dict[str, Any], index: int) -> str:
        raise NotImplementedError


class BubbleOcclusion(_BoxOcclusion):
    """Mask ``FRACTION[severity - 1]`` of the speech/thought/caption boxes, and blank their text."""

    name = "occlusion_bubbles"
    family = "occlusion"
    what = "bubble"
    FRACTION = (0.2, 0.35, 0.5, 0.65, 0.8)

    def _boxes(self, record: dict[str, Any]) -> list[tuple[int, Sequence[float]]]:
        return [(i, region["bbox"]) for i, region in enumerate(record.get("text_regions") or ())
                if region.get("bbox") and region.get("kind", "speech") in BUBBLE_KINDS]

    def _after_mask(self, record: dict[str, Any], indices: list[int]) -> None:
        regions = list(record["text_regions"])
        for index in indices:
            region = {**regions[index], "text": ""}
            region.pop("translations", None)
            regions[index] = region
        record["text_regions"] = regions

    def _label(self, record: dict[str, Any], index: int) -> str:
        return str(record["text_regions"][index]["id"])


class FaceOcclusion(_BoxOcclusion):
    """Mask ``FRACTION[severity - 1]`` of the character face boxes."""

    name = "occlusion_faces"
    family = "occlusion"
    what = "face"
    FRACTION = (0.2, 0.35, 0.5, 0.65, 0.8)

    def _boxes(self, record: dict[str, Any]) -> list[tuple[int, Sequence[float]]]:
        return [(i, c["bbox"]) for i, c in enumerate(record.get("characters") or ()) if c.get("bbox")]

    def _label(self, record: dict[str, Any], index: int) -> str:
        return str(record["characters"][index]["actor_id"])


class BubbleAblation(BubbleOcclusion):
    """Modality ablation: every bubble masked and its text removed (severity is ignored)."""

    name = "ablation_bubbles"
    family = "ablation"
    category = "ablation"
    FRACTION = (1.0,) * 5


class FaceAblation(FaceOcclusion):
    """Modality ablation: every face masked (severity is ignored)."""

    name = "ablation_faces"
    family = "ablation"
    category = "ablation"
    FRACTION = (1.0,) * 5
