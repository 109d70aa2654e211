"""Perturbation speed against the raw library calls they wrap, measured side by side.

- OCR noise: ``OcrNoise(5, ops=("confusion",))`` on records of three one-line speech bubbles versus the
  very same nlpaug ``OcrAug`` object (same map, rates and whitespace tokenizer) called raw on the same
  sentences. Ours adds the per-sample sha256 rng, the record copy and the provenance stamp. Severity 5
  garbles every region, so both sides do the same nlpaug work. Goal: ratio >= 0.9.
- Occlusion: ``ablation_bubbles`` (three bubble boxes) and ``occlusion_patches`` at severity 3 (30 % of the
  image) on a 768x1024 RGB page versus a bare ``Image.copy()`` plus three ``ImageDraw.rectangle`` fills
  of the same boxes (for patches: three boxes of the same total area). Goal: ratio >= 0.8.

- Robust run overhead, end to end: lmms-eval's ``simple_evaluate`` of a robust variant (the real
  ``RobustComicEmotionTask``: one image perturbation, occlusion patches s3, and one text perturbation,
  OCR noise s3) versus the clean ``comic_emotion_comic`` task, same CPU model (comic_emotion_late_fusion, which reads the record and the image through the hooks)
  and the same demo samples, in one process, interleaved, best of 3 (quick) or 5, after one warm-up run of each.
  Goal: ratio (robust time / clean time) <= 1.05.

``ratio`` = reference time / our time (higher is better; 1.0 = as fast as the raw call), except for the
robust run rows, where it is robust / clean (lower is better).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

SENTENCES = ("I can't believe you did that!", "Where were you last night?", "Run! They're coming!",
             "Oh no... the door is locked.", "Happy birthday, dear friend!", "Don't touch my bike, okay?",
             "We won! We actually won!", "Leave me alone.", "Is anyone there?", "That's so unfair!")


def _best(function: Callable[[], Any], repeat: int) -> float:
    """Best wall time of ``repeat`` runs (the least disturbed by the shared machine)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _records(count: int) -> list[dict]:
    return [{"id": f"bench-{i:05d}", "text_regions": [
        {"id": f"r{k}", "kind": "speech", "bbox": [40 + 240 * k, 60, 200, 120], "lang": "en",
         "text": SENTENCES[(i + k) % len(SENTENCES)]} for k in range(3)],
        "characters": [{"actor_id": "a", "bbox": [300, 500, 180, 180]}]} for i in range(count)]


def _row(what: str, ours: float, reference: float, unit: str, goal: float) -> dict:
    ratio = reference / ours
    return {"what": what, "ours": ours, "reference": reference, "unit": unit, "ratio": ratio,
            "goal": f"ratio (reference time / ours) >= {goal}", "passed": ratio >= goal}


def _ocr(quick: bool) -> dict:
    from comic_emotion.perturbations import Item
    from comic_emotion.perturbations.text_noise import OcrNoise

    records = _records(300 if quick else 3000)
    items = [Item(r) for r in records]
    sentences = [region["text"] for r in records for region in r["text_regions"]]
    ours = OcrNoise(5, seed=0, ops=("confusion",))
    ours(items[0])  # builds the augmenter
    raw = ours._augmenter("confusion", "latin")  # the same configured OcrAug object, called raw below

    def reference() -> None:
        for sentence in sentences:
            raw.augment(sentence, num_thread=1)

    def perturbed() -> None:
        for item in items:
            ours(item)

    repeat = 3 if quick else 5
    t_ref, t_ours = _best(reference, repeat), _best(perturbed, repeat)
    n = len(sentences)
    return _row("ocr_noise (confusion) sentences/s vs raw nlpaug OcrAug", n / t_ours, n / t_ref, "sentences/s", 0.9) | {
        "ours": n / t_ours, "reference": n / t_ref, "ratio": t_ref / t_ours, "passed": t_ref / t_ours >= 0.9}


def _occlusion(quick: bool) -> list[dict]:
    from comic_emotion.perturbations import Item, get_perturbation
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (768, 1024), (250, 248, 240))
    ImageDraw.Draw(image).ellipse([100, 200, 600, 900], fill=(200, 60, 60))
    record = _records(1)[0]
    item = Item(record, image)
    bubble_boxes = [r["bbox"] for r in record["text_regions"]]
    side = int((0.3 * 768 * 1024 / 3) ** 0.5)
    patch_boxes = [[0, 0, side, side], [side, side, side, side], [0, 2 * side, side, side]]
    n = 100 if quick else 1000
    rows = []
    for name, severity, boxes in (("ablation_bubbles", 5, bubble_boxes), ("occlusion_patches", 3, patch_boxes)):
        perturbation = get_perturbation(name, severity, seed=0)

        def reference() -> None:
            for _ in range(n):
                copy = image.copy()
                draw = ImageDraw.Draw(copy)
                for x, y, w, h in boxes:
                    draw.rectangle([x, y, x + w - 1, y + h - 1], fill=(128, 128, 128))

        def ours() -> None:
            for _ in range(n):
                perturbation(item)

        t_ref, t_ours = _best(reference, 3), _best(ours, 3)
        rows.append(_row(f"{name} s{severity} on 768x1024 vs PIL copy + 3 rectangles", 1e3 * t_ours / n,
                         1e3 * t_ref / n, "ms/image", 0.8) | {"ratio": t_ref / t_ours, "passed": t_ref / t_ours >= 0.8})
    return rows


# A CPU baseline that reads both the (perturbed) record and the (perturbed) image through the task hooks.
MODEL = "comic_emotion_late_fusion"
ROBUST_VARIANTS = ("comic_emotion_robust_comic_occlusion_patches_s3", "comic_emotion_robust_comic_ocr_noise_s3")


def _robust_overhead(quick: bool) -> list[dict]:
    """A robust variant vs the clean task, each a whole lmms-eval ``simple_evaluate`` in this process
    (the real task classes, same model and samples), interleaved, best of ``repeats``."""
    from benchmarks.lmms_runs import evaluate
    from comic_emotion.data import ensure_demo

    ensure_demo()
    repeats = 3 if quick else 5
    clean = "comic_emotion_comic"
    best = {task: float("inf") for task in (clean, *ROBUST_VARIANTS)}
    changed = {}
    for task in best:  # warm-up: imports (nlpaug's is ~10 s), dataset cache, the baseline fitted once
        _, results = evaluate([task], model=MODEL)
        changed[task] = results["results"][task].get("perturbation_changed,none")
    for _ in range(repeats):
        for task in best:
            seconds, _ = evaluate([task], model=MODEL)
            best[task] = min(best[task], seconds)
    rows = []
    for task in ROBUST_VARIANTS:
        ratio = best[task] / best[clean]
        rows.append({"what": f"robust run overhead: lmms-eval run of {task.removeprefix('comic_emotion_robust_')} "
                             f"vs {clean} (real task classes, {MODEL}, 100 demo samples; "
                             f"{changed[task]:.0%} of them perturbed)",
                     "ours": best[task], "reference": best[clean], "unit": "s", "ratio": ratio,
                     "goal": "robust / clean <= 1.05", "passed": ratio <= 1.05})
    return rows


def run(quick: bool) -> list[dict]:
    """Side-by-side speed figures (see the module docstring)."""
    return [_ocr(quick), *_occlusion(quick), *_robust_overhead(quick)]


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=2))
