"""Perturbation speed against the raw library calls they wrap, measured side by side.

- OCR noise: ``OcrNoise(5, ops=("confusion",))`` on records of three one-line speech bubbles versus the
  very same nlpaug ``OcrAug`` object (same map, rates and whitespace tokenizer) called raw on the same
  sentences. Ours adds the per-sample sha256 rng, the record copy and the provenance stamp. Severity 5
  garbles every region, so both sides do the same nlpaug work. Goal: ratio >= 0.9.
- Occlusion: ``ablation_bubbles`` (three bubble boxes) and ``occlusion_patches`` at severity 3 (30 % of the
  image) on a 768x1024 RGB page versus a bare ``Image.copy()`` plus three ``ImageDraw.rectangle`` fills
  of the same boxes (for patches: three boxes of the same total area). Goal: ratio >= 0.8.

- Robust run overhead, model time excluded: per doc, what the clean task's hooks do (record parse, prompt,
  RGB image, sample row) versus the same plus what ``RobustComicEmotionTask`` adds (perturb the record
  without pixels, re-serialise it, perturb the pixels for image perturbations), averaged over the comic
  variants (occlusion patches/bubbles/faces, OCR noise, translation at 1/3/5) on 768x1024 pages.
  Goal: overhead <= 10 %, i.e. ratio >= 1/1.1.

``ratio`` = reference time / our time (higher is better; 1.0 = as fast as the raw call).
"""

from __future__ import annotations

import time
from typing import Any, Callable

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
    from PIL import Image, ImageDraw

    from comic_emotion.perturbations import Item, get_perturbation

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


def _robust_overhead(quick: bool) -> dict:
    import io
    import json

    from PIL import Image, ImageDraw

    from comic_emotion.metrics.samples import sample_row
    from comic_emotion.perturbations import Item, get_perturbation
    from comic_emotion.tasks.make_robust import SEVERITIES, VARIANTS
    from comic_emotion.prompts import build_prompt
    from comic_emotion.schema import SCHEMA_VERSION
    from comic_emotion.storage import canonical_json

    docs = []
    for r in _records(10 if quick else 40):
        r.update({"schema_version": SCHEMA_VERSION, "domain": "comic", "label_set": "demo", "emotions": ["happy"],
                  "image": {"width": 768, "height": 1024},
                  "source": {"dataset": "bench", "licence": "CC0-1.0", "synthetic": True}})
        for region in r["text_regions"]:
            region["translations"] = {"ja": "信じられない！"}
        page = Image.new("RGB", (768, 1024), (250, 248, 240))
        ImageDraw.Draw(page).ellipse([100, 200, 600, 900], fill=(200, 60, 60))
        buffer = io.BytesIO()
        page.save(buffer, format="PNG")
        docs.append({"id": r["id"], "sample": canonical_json(r), "image": Image.open(io.BytesIO(buffer.getvalue()))})
    for doc in docs:
        doc["image"].load()
    answer = json.dumps({"emotions": ["happy"]})

    def clean_hooks(doc: dict) -> None:
        record = json.loads(doc["sample"])
        build_prompt(record)
        doc["image"].convert("RGB")
        sample_row(json.loads(doc["sample"]), answer, label_set="demo")

    def clean() -> None:
        for doc in docs:
            clean_hooks(doc)

    perturbations = [get_perturbation(p, s, seed=0) for p in VARIANTS["comic"] for s in SEVERITIES]

    def robust() -> None:
        for perturbation in perturbations:
            for doc in docs:
                record = perturbation(Item(json.loads(doc["sample"]), None)).record
                image = doc["image"]
                if perturbation.family == "occlusion":
                    image = perturbation(Item(json.loads(doc["sample"]), image)).image
                clean_hooks({**doc, "sample": canonical_json(record), "image": image})

    t_clean = _best(clean, 3) * len(perturbations)  # one clean pass per variant, as in the group
    t_robust = _best(robust, 3)
    per_doc = len(docs) * len(perturbations)
    return _row("robust variant hooks vs clean hooks per doc (hooks only: an upper bound of the run overhead)", 1e3 * t_robust / per_doc,
                1e3 * t_clean / per_doc, "ms/doc", 1 / 1.1) | {"ratio": t_clean / t_robust,
                                                             "passed": t_clean / t_robust >= 1 / 1.1}


def run(quick: bool) -> list[dict]:
    """Side-by-side speed figures (see the module docstring)."""
    return [_ocr(quick), *_occlusion(quick), _robust_overhead(quick)]


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=2))
