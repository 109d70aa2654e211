"""Build the demo set: three domains of canonical records plus PNGs, as parquet splits with manifests.

Layout written (atomically: into a staging directory beside ``root``, then moved onto it)::

    root/<domain>/train.parquet, test.parquet, manifest.json    for comic, manga, art
    root/complete                                                 empty marker, written last

Sample ``i`` of a domain is ``demo-<domain>-<i:06d>``; the first ``n_train`` indices form ``train``,
the next ``n_test`` form ``test``, and each sample is drawn from ``(seed, domain, i)`` only, so
changing a count never changes the samples it keeps.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from comic_emotion import schema, storage
from comic_emotion.demo import GENERATOR_VERSION
from comic_emotion.taxonomy import canonicalise

DOMAINS = ("comic", "manga", "art")
SOURCE_DATASET = "comic-emotion-demo"
LICENCE = "CC0-1.0"


def _drawer(domain: str) -> Callable[[int, int], tuple[bytes, dict[str, Any]]]:
    if domain == "art":
        # lazy: Pillow (the demo generator)
        from comic_emotion.demo.paintings import draw_painting

        return draw_painting
    # lazy: Pillow (the demo generator)
    from comic_emotion.demo.scenes import draw_panel

    return lambda seed, index: draw_panel(domain, seed, index)


def sample(domain: str, index: int, *, seed: int, split: str) -> tuple[dict[str, Any], bytes]:
    """The canonical record and PNG bytes of sample ``index`` of ``domain``."""
    png, fields = _drawer(domain)(seed, index)
    # PNG header: width and height are the big-endian words at bytes 16-24 of the IHDR chunk.
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    record = {
        "schema_version": schema.SCHEMA_VERSION,
        "id": f"demo-{domain}-{index:06d}",
        "domain": domain,
        "source": {"dataset": SOURCE_DATASET, "licence": LICENCE, "synthetic": True, "split": split,
                   "original_id": None, "url": None},
        "image": {"width": width, "height": height, "path": None, "sha256": hashlib.sha256(png).hexdigest()},
        "label_set": "demo",
        **fields,
    }
    record["canonical_emotions"] = canonicalise(record["emotions"])
    return record, png


def _rows(domain: str, start: int, stop: int, *, seed: int, split: str) -> Iterator[tuple[dict[str, Any], bytes]]:
    for index in range(start, stop):
        record, png = sample(domain, index, seed=seed, split=split)
        schema.validate_sample(record, where=f"demo {domain}/{split}")
        yield record, png


def build_domain(directory: Path, domain: str, *, seed: int, n_train: int, n_test: int) -> dict[str, Any]:
    """Write ``train.parquet``, ``test.parquet`` and ``manifest.json`` of one domain; return the manifest."""
    splits = {}
    for split, start, stop in (("train", 0, n_train), ("test", n_train, n_train + n_test)):
        path = directory / f"{split}.parquet"
        rows = storage.write_split(path, _rows(domain, start, stop, seed=seed, split=split))
        splits[split] = {"rows": rows, "sha256": storage.sha256_file(path)}
    manifest = {
        "dataset": f"demo-{domain}",
        "title": f"comic-emotion-bench synthetic demo ({domain})",
        "domain": domain,
        "label_set": "demo",
        "synthetic": True,
        "licence": LICENCE,
        "non_commercial": False,
        "schema_version": schema.SCHEMA_VERSION,
        "converter": {"name": "comic_emotion.demo", "version": GENERATOR_VERSION, "seed": seed},
        "sources": [],
        "splits": splits,
        "created": "synthetic",  # no wall-clock date: rebuilds must be byte-identical
    }
    storage.write_json_atomic(directory / storage.MANIFEST, manifest)
    return manifest


def build_demo(root: Path, *, seed: int, n_train: int = 200, n_test: int = 100,
               domains: tuple[str, ...] = DOMAINS) -> None:
    """Generate the demo set into ``root``, replacing any previous copy only once all of it is written.

    Parameters
    ----------
    root
        Target directory; its parent must be writable (the staging directory is created there).
    seed
        Seed of every random choice (with the domain and sample index).
    n_train, n_test
        Samples per domain in each split.
    domains
        Which of ``comic``, ``manga``, ``art`` to build.
    """
    unknown = sorted(set(domains) - set(DOMAINS))
    if unknown:
        raise ValueError(f"unknown demo domains {unknown}; known: {', '.join(DOMAINS)}")
    if n_train < 0 or n_test < 0:
        raise ValueError(f"sample counts must be >= 0, got n_train={n_train}, n_test={n_test}")
    root = Path(root)
    staging = storage.staging_directory(root)  # umask permissions: the set is shared by the users of the cache
    try:
        for domain in domains:
            build_domain(staging / domain, domain, seed=seed, n_train=n_train, n_test=n_test)
        (staging / "complete").touch()
        storage.replace_directory(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
