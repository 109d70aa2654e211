"""Where a task's data comes from: a prepared real corpus, or the embedded synthetic demo set.

Resolution rule (the same for every task, every process and every rank):

1. if ``$COMIC_EMOTION_DATA/<dataset>/manifest.json`` exists, the split is the prepared real data;
2. otherwise it is the synthetic demo set of the dataset's domain, generated on first use into
   ``$COMIC_EMOTION_CACHE`` (default ``~/.cache/comic_emotion``) and reused afterwards.

The answer is a :class:`ResolvedSplit`, which task hooks log and copy into the lmms-eval results
(``configs.<task>.metadata``), so a number computed on demo data always says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from comic_emotion.schema import SCHEMA_VERSION
from comic_emotion.storage import DataError, data_hash, file_lock, read_manifest

DATA_ENV = "COMIC_EMOTION_DATA"
CACHE_ENV = "COMIC_EMOTION_CACHE"
DEMO_SEED = 20211001

# Which demo domain stands in for a dataset that is not prepared.
DEMO_DOMAIN_OF: Mapping[str, str] = {
    "comic": "comic", "manga": "manga", "art": "art",
    "emorecom": "comic", "emocomics35": "comic",
    "manga109-emotion": "manga", "manga109-dialog": "manga", "mangavqa": "manga", "openmantra": "manga",
    "emoart": "art", "artemis": "art", "emid": "art", "seed-jsonl": "comic",
}


@dataclass(frozen=True)
class ResolvedSplit:
    """One split of one dataset, located on disk, with its provenance."""

    dataset: str
    split: str
    path: Path
    manifest: Mapping[str, Any]

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    @property
    def label_set(self) -> str:
        return str(self.manifest["label_set"])

    @property
    def data_hash(self) -> str:
        return data_hash(self.manifest)

    def describe(self) -> dict[str, Any]:
        """What the results file records about the data a score was computed on."""
        return {
            "data_source": "demo (synthetic; not comparable with published numbers)" if self.synthetic else "real",
            "data_dataset": str(self.manifest.get("dataset", self.dataset)),
            "data_split": self.split,
            "data_hash": self.data_hash,
            "data_licence": str(self.manifest.get("licence", "unknown")),
            "data_non_commercial": bool(self.manifest.get("non_commercial", False)),
            "data_path": str(self.path),
        }


def data_root() -> Path | None:
    """The prepared-data root from ``$COMIC_EMOTION_DATA``, or ``None`` when unset."""
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value).expanduser() if value else None


def cache_root() -> Path:
    """Where the demo set is generated: ``$COMIC_EMOTION_CACHE`` or ``~/.cache/comic_emotion``."""
    value = os.environ.get(CACHE_ENV, "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "comic_emotion"


def demo_dir(seed: int = DEMO_SEED) -> Path:
    """Directory of the demo set for ``seed`` (versioned by the generator version)."""
    from comic_emotion.demo import GENERATOR_VERSION

    return cache_root() / f"demo-v{GENERATOR_VERSION}-seed{seed}"


def ensure_demo(seed: int = DEMO_SEED) -> Path:
    """Generate the demo set once (under a file lock, so parallel ranks wait) and return its root."""
    from comic_emotion.demo.build import build_demo

    root = demo_dir(seed)
    if (root / "complete").exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(str(root) + ".lock"):
        if not (root / "complete").exists():
            build_demo(root, seed=seed)
    return root


def resolve_split(dataset: str, split: str) -> ResolvedSplit:
    """Locate ``split`` of ``dataset``: prepared real data if present, else the demo set."""
    root = data_root()
    if root is not None and (root / dataset / "manifest.json").exists():
        directory = root / dataset
    else:
        domain = DEMO_DOMAIN_OF.get(dataset)
        if domain is None:
            raise DataError(f"unknown dataset {dataset!r}; known: {', '.join(sorted(DEMO_DOMAIN_OF))}")
        directory = ensure_demo() / domain
    manifest = read_manifest(directory)
    version = str(manifest.get("schema_version", SCHEMA_VERSION))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise DataError(f"{directory / 'manifest.json'}: field 'schema_version': {version} is not readable by "
                        f"schema {SCHEMA_VERSION}; prepare the dataset again with this version")
    splits = manifest.get("splits", {})
    if split not in splits:
        raise DataError(f"{directory}: dataset {dataset!r} has no split {split!r} (has: {', '.join(sorted(splits))})")
    path = directory / f"{split}.parquet"
    if not path.exists():
        raise DataError(f"{path}: split file missing although the manifest lists it; prepare the dataset again")
    return ResolvedSplit(dataset=dataset, split=split, path=path, manifest=manifest)


def dataset_key_of(record: Mapping[str, Any]) -> str:
    """The dataset key a record was resolved from: its domain for demo records, else its source."""
    source = record["source"]
    return str(record["domain"]) if source.get("synthetic") else str(source["dataset"])
