"""Demo set generation: the whole build (three domains, parquet and manifests) against the floor of
writing as many blank PNGs of the same sizes with PIL, in the same process.

``ratio`` is ours / reference (how many times the bare PNG writes the build costs); the goal is the
absolute one of the demo set: a full build (300 samples per domain) in under 15 s.
"""

from __future__ import annotations

import io
import json
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 15.0


def _blank_pngs(sizes: list[tuple[str, int, int]]) -> float:
    from PIL import Image

    start = time.perf_counter()
    for mode, width, height in sizes:
        buffer = io.BytesIO()
        Image.new(mode, (width, height), 255).save(buffer, "PNG", compress_level=1)
    return time.perf_counter() - start


def run(quick: bool) -> list[dict]:
    """Time one build (``quick``: 60 samples per domain, scaled to 300, after a warm-up build) and the
    blank-PNG floor."""
    import pyarrow.parquet as pq

    from comic_emotion.demo.build import DOMAINS, build_demo

    n_train, n_test = (40, 20) if quick else (200, 100)
    scale = 300 / (n_train + n_test)
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        # A one-sample build first: imports and first-use set-up are paid once per build, not per
        # sample, so the quick figure, scaled by 5, must not scale them too.
        build_demo(Path(tmp) / "warm-up", seed=1, n_train=1, n_test=1)
        root = Path(tmp) / "demo"
        start = time.perf_counter()
        build_demo(root, seed=1, n_train=n_train, n_test=n_test)
        ours = time.perf_counter() - start
        sizes = []
        for domain in DOMAINS:
            for split in ("train", "test"):
                for text in pq.read_table(root / domain / f"{split}.parquet", columns=["sample"]).column("sample"):
                    image = json.loads(text.as_py())["image"]
                    sizes.append(("L" if domain == "manga" else "RGB", image["width"], image["height"]))
    reference = _blank_pngs(sizes)
    ours, reference = ours * scale, reference * scale
    return [{"what": "demo build, 3 domains x 300 samples (vs writing 900 blank PNGs)", "ours": round(ours, 3),
             "reference": round(reference, 3), "unit": "s", "ratio": round(ours / reference, 1),
             "goal": f"build < {GOAL_SECONDS:.0f} s (ratio = ours / blank PNGs, informative)",
             "passed": ours < GOAL_SECONDS}]


if __name__ == "__main__":
    for figure in run(quick=False):
        print(json.dumps(figure))
