"""Golden outputs: every registered perturbation, at every severity, on fixed demo samples, hashes as committed.

The other perturbation tests check properties (same seed → same bytes, order independence, monotone
severity); none of them notices when a transform starts producing *different* bytes for the same
seed, which silently changes every published robustness set. This file pins the bytes.

For each sample of :data:`SAMPLES` (drawn by the package's own demo generator from
``(DEMO_SEED, domain, index)``) and each (perturbation, severity) cell at :data:`SEED`, the golden
file ``tests/golden/perturbations.json`` stores

- ``image``: sha256 of ``"<mode> <width>x<height>\\n"`` followed by the raw pixel bytes
  (``Image.tobytes()``), not of an encoded PNG, so the hash pins our transform and not zlib;
- ``text``: sha256 of the canonical JSON of the perturbed record's ``text_regions`` (text, language,
  translations: what the prompt shows and what a translation shift moved);
- ``changed``: the ``changed`` flag the perturbation stamped;

or ``error`` for a cell that raises by design (``translation_zh``: the demo set has no Chinese text).
The hashes of the unperturbed inputs are stored too, so a failure says whether the demo generator or
the perturbation changed.

Regenerate deliberately, after a change meant to alter outputs (then bump the task versions that
use the perturbation)::

    COMIC_EMOTION_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_perturbation_golden.py -q

which rewrites the file and fails every test of the run, so a regeneration never passes silently;
review ``git diff tests/golden/`` and run the tests again without the variable. The same computation
runs in two processes in ``test_cross_process_determinism.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from comic_emotion.perturbations import PERTURBATIONS, get_perturbation

GOLDEN = Path(__file__).resolve().parent / "golden" / "perturbations.json"
REGEN_ENV = "COMIC_EMOTION_REGEN_GOLDEN"
SEED = 7
SEVERITIES = (1, 2, 3, 4, 5)
# (domain, index): the first two test-split samples of a default demo build per panel domain (English
# comic with Japanese parallel text, Japanese manga with English) and one painting (title only, no faces).
SAMPLES = (("comic", 200), ("comic", 201), ("manga", 200), ("manga", 201), ("art", 200))


def image_digest(image: Any) -> str | None:
    """sha256 of the mode, the size and the raw pixels (no encoder in between)."""
    if image is None:
        return None
    digest = hashlib.sha256(f"{image.mode} {image.size[0]}x{image.size[1]}\n".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def text_digest(record: dict[str, Any]) -> str:
    regions = record.get("text_regions") or []
    return hashlib.sha256(json.dumps(regions, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def demo_items() -> list[Any]:
    """The items of :data:`SAMPLES`, decoded as the perturbation export decodes them."""
    from PIL import Image

    from comic_emotion.data import DEMO_SEED
    from comic_emotion.demo.build import sample
    from comic_emotion.perturbations import Item

    items = []
    for domain, index in SAMPLES:
        record, png = sample(domain, index, seed=DEMO_SEED, split="test")
        with Image.open(io.BytesIO(png)) as image:
            image.load()
            items.append(Item(record, image.copy()))
    return items


def compute_golden() -> dict[str, Any]:
    """Every (perturbation, severity, sample) cell's hashes; the JSON-ready content of the golden file."""
    import PIL

    items = demo_items()
    inputs = {item.record["id"]: {"image": image_digest(item.image), "text": text_digest(item.record)}
              for item in items}
    outputs: dict[str, dict[str, dict[str, Any]]] = {}
    for name in sorted(PERTURBATIONS):
        for severity in SEVERITIES:
            cells = outputs.setdefault(name, {}).setdefault(str(severity), {})
            perturbation = get_perturbation(name, severity, seed=SEED)
            for item in items:
                try:
                    out = perturbation(item)
                except ValueError as exc:
                    cells[item.record["id"]] = {"error": str(exc)}
                    continue
                cells[item.record["id"]] = {"image": image_digest(out.image), "text": text_digest(out.record),
                                            "changed": out.record["meta"]["perturbation"]["changed"]}
    return {"seed": SEED, "samples": [f"{d}/{i}" for d, i in SAMPLES], "pillow": PIL.__version__,
            "inputs": inputs, "outputs": outputs}


def dumps(golden: dict[str, Any]) -> str:
    return json.dumps(golden, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    if os.environ.get(REGEN_ENV):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(dumps(compute_golden()), encoding="utf-8")
        pytest.fail(f"{REGEN_ENV} is set: rewrote {GOLDEN}; review `git diff {GOLDEN.parent}`, then run again "
                    "without it (a regeneration never passes)")
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def current() -> dict[str, Any]:
    return compute_golden()


def test_golden_covers_every_registered_perturbation_and_severity(golden):
    assert sorted(golden["outputs"]) == sorted(PERTURBATIONS), f"new or removed perturbation: set {REGEN_ENV}=1"
    ids = sorted(golden["inputs"])
    assert len(ids) == len(SAMPLES)
    for name, by_severity in golden["outputs"].items():
        assert sorted(by_severity) == [str(s) for s in SEVERITIES], name
        assert all(sorted(cells) == ids for cells in by_severity.values()), name


def test_demo_inputs_match_golden(golden, current):
    import PIL

    if current["inputs"] != golden["inputs"] and PIL.__version__ != golden["pillow"]:
        # The demo pictures are byte-identical only under one Pillow (fonts, drawing); `make check-latest`
        # runs newer ones. The transform itself is pinned by the lock's Pillow.
        pytest.skip(f"golden made with Pillow {golden['pillow']}; this is {PIL.__version__} and draws other inputs")
    assert current["inputs"] == golden["inputs"], (
        "the demo generator's samples changed (not a perturbation): bump demo.GENERATOR_VERSION and regenerate "
        f"with {REGEN_ENV}=1")


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_perturbation_output_matches_golden(name, golden, current):
    if current["inputs"] != golden["inputs"]:
        pytest.skip("inputs differ from the golden file's; see test_demo_inputs_match_golden")
    expected, got = golden["outputs"][name], current["outputs"][name]
    differing = [f"severity {s} {sample}: {got[s][sample]} != golden {cell}"
                 for s, cells in sorted(expected.items()) for sample, cell in sorted(cells.items())
                 if got[s][sample] != cell]
    assert not differing, (f"{name} produces other bytes for seed {SEED} than committed ({len(differing)} cells); "
                           f"if intended, regenerate with {REGEN_ENV}=1 and bump the task versions:\n"
                           + "\n".join(differing[:10]))


def test_golden_cells_are_not_degenerate(golden):
    """The file pins real work: image transforms change pixels, text ones change text, each somewhere."""
    inputs = golden["inputs"]
    for name, by_severity in golden["outputs"].items():
        cells = [(sample, cell) for c in by_severity.values() for sample, cell in c.items() if "error" not in cell]
        if name == "translation_zh":
            assert not cells, "the demo set has no Chinese text: every translation_zh cell is an error"
            continue
        assert any(cell["changed"] for _, cell in cells), name
        image_changed = any(cell["image"] != inputs[s]["image"] for s, cell in cells)
        text_changed = any(cell["text"] != inputs[s]["text"] for s, cell in cells)
        if name.startswith(("occlusion_patches", "occlusion_faces", "ablation_faces")):
            assert image_changed and not text_changed, name
        elif name.startswith(("ocr_noise", "translation")):
            assert text_changed and not image_changed, name
        else:  # bubbles: pixels and text
            assert image_changed and text_changed, name
