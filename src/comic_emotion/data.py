"""Where a task's data comes from: a prepared real corpus, or the embedded synthetic demo set.

Resolution rule (the same for every task, every process and every rank):

1. if ``$COMIC_EMOTION_DATA/<dataset>/manifest.json`` exists, the split is the prepared real data;
2. otherwise, for the demo keys ``comic``, ``manga`` and ``art`` only, it is the synthetic demo set
   of that domain, generated on first use into ``$COMIC_EMOTION_CACHE`` (default
   ``~/.cache/comic_emotion``) and reused afterwards;
3. a real corpus that is not prepared is an error (:class:`NotPreparedError`) naming the command
   that prepares it: a real subtask never scores the demo set in its place.

The answer is a :class:`ResolvedSplit`, which task hooks log and copy into the lmms-eval results
(``configs.<task>.metadata``), so a number computed on demo data always says so.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from comic_emotion.demo import GENERATOR_VERSION
from comic_emotion.schema import SCHEMA_VERSION
from comic_emotion.storage import DataError, data_hash, file_lock, read_manifest, sha256_file

DATA_ENV = "COMIC_EMOTION_DATA"
CACHE_ENV = "COMIC_EMOTION_CACHE"
DEMO_SEED = 20211001

@dataclass(frozen=True)
class Dataset:
    """One dataset key the package knows: its domain, and the converter that prepares it."""

    key: str
    domain: str  # comic, manga or art: for cross-style tables and board badges
    converter: str | None  # module under comic_emotion.converters; None for the generated demo set

    @property
    def synthetic(self) -> bool:
        return self.converter is None


#: The one registry of dataset keys (the demo set's three, then the published corpora).
DATASETS: Mapping[str, Dataset] = {d.key: d for d in (
    Dataset("comic", "comic", None), Dataset("manga", "manga", None), Dataset("art", "art", None),
    Dataset("emorecom", "comic", "emorecom"), Dataset("emocomics35", "comic", "emocomics35"),
    Dataset("manga109-emotion", "manga", "manga109"), Dataset("manga109-dialog", "manga", "manga109"),
    Dataset("openmantra", "manga", "openmantra"), Dataset("emoart", "art", "emoart"),
    Dataset("artemis", "art", "artemis"), Dataset("seed-jsonl", "comic", "seed_jsonl"),
    Dataset("mangavqa", "manga", "mangavqa"), Dataset("emid", "art", "emid"),
)}
DEMO_DATASETS = frozenset(key for key, dataset in DATASETS.items() if dataset.synthetic)


def domain_of(dataset: str) -> str:
    """The domain of a dataset key; an unknown key (a user's own) is its own domain."""
    known = DATASETS.get(dataset)
    return known.domain if known else dataset


class NotPreparedError(DataError):
    """A real corpus was asked for but is not prepared under the data root."""


def not_prepared_message(dataset: str) -> str:
    """One line: which corpus is missing, where it was looked for, and the command that prepares it."""
    root = data_root()
    where = f"${DATA_ENV} ({root})" if root is not None else f"${DATA_ENV} (not set)"
    return (f"dataset {dataset!r} is not prepared under {where}; run `comic-emotion data prepare {dataset} "
            "--source PATH` (a real subtask never falls back to the demo set)")


def is_prepared(dataset: str) -> bool:
    """Whether ``$COMIC_EMOTION_DATA/<dataset>/manifest.json`` exists."""
    root = data_root()
    return root is not None and (root / dataset / "manifest.json").exists()


@dataclass(frozen=True)
class ResolvedSplit:
    """One split of one dataset, located on disk, with its provenance."""

    dataset: str
    split: str
    path: Path
    manifest: Mapping[str, Any]

    @property
    def synthetic(self) -> bool:
        """Whether the manifest marks the data synthetic; every table uses it to keep demo numbers apart."""
        return bool(self.manifest.get("synthetic"))

    @property
    def label_set(self) -> str:
        """The label-set name the manifest declares; baseline artefacts record it and fit on that set."""
        return str(self.manifest["label_set"])

    @property
    def data_hash(self) -> str:
        """Content hash of sources, converter and splits (not the date): results name the data they scored."""
        return data_hash(self.manifest)

    def describe(self) -> dict[str, Any]:
        """What the results file records about the data a score was computed on."""
        return {
            "data_source": "demo (synthetic; not comparable with published numbers)" if self.synthetic else "real",
            "data_synthetic": self.synthetic,
            "data_dataset": str(self.manifest.get("dataset", self.dataset)),
            "data_split": self.split,
            "data_hash": self.data_hash,
            "data_licence": str(self.manifest.get("licence", "unknown")),
            "data_non_commercial": bool(self.manifest.get("non_commercial", False)),
            "data_path": str(self.path),
        }


DEMO_BANNER = "DEMO DATA: synthetic panels generated by comic-emotion-bench; not comparable with published numbers"


def is_synthetic(metadata: Mapping[str, Any]) -> bool:
    """Whether a task's results metadata (``configs.<task>.metadata``) comes from the synthetic demo set.

    The one test every table, report, board and gate uses. It reads the typed ``data_synthetic``
    flag; results written before that flag existed are read from their ``data_source`` text.
    """
    flag = metadata.get("data_synthetic")
    if isinstance(flag, bool):
        return flag
    return str(metadata.get("data_source", "")).startswith("demo")


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

    return cache_root() / f"demo-v{GENERATOR_VERSION}-seed{seed}"


_VERIFIED_DEMO: set[Path] = set()  # demo roots whose split hashes matched their manifests in this process


def demo_damage(root: Path) -> str | None:
    """Why a generated demo set is unusable (a manifest or split missing, or a split's sha256 differing
    from its manifest, e.g. a truncated parquet), or ``None`` when every split matches."""
    # lazy: Pillow (the demo generator)
    from comic_emotion.demo.build import DOMAINS

    for domain in DOMAINS:
        try:
            manifest = read_manifest(root / domain)
        except DataError as exc:
            return str(exc).split(";")[0]
        for split, info in sorted((manifest.get("splits") or {}).items()):
            path = root / domain / f"{split}.parquet"
            if not path.is_file():
                return f"{path}: missing"
            if sha256_file(path) != info.get("sha256"):
                return f"{path}: contents differ from the sha256 in its manifest"
    return None


def ensure_demo(seed: int = DEMO_SEED) -> Path:
    """Generate the demo set once (under a file lock, so parallel ranks wait) and return its root.

    An existing set is checked once per process against the split hashes in its manifests (about
    20 ms); a damaged one (a truncated or edited parquet, a deleted file) is generated again, with a
    line on stderr, instead of failing the run: it is a cache, and the generator is deterministic.
    """

    # lazy: Pillow (the demo generator)
    from comic_emotion.demo.build import build_demo

    root = demo_dir(seed)
    if root in _VERIFIED_DEMO and (root / "complete").exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    damage = demo_damage(root) if (root / "complete").exists() else None
    if (root / "complete").exists() and damage is None:
        _VERIFIED_DEMO.add(root)
        return root
    with file_lock(str(root) + ".lock"):
        if not (root / "complete").exists():
            build_demo(root, seed=seed)
        elif demo_damage(root) is not None:  # again under the lock: another process may have rebuilt it
            print(f"comic-emotion: the demo cache {root} is damaged ({damage}); generating it again",
                  file=sys.stderr, flush=True)
            build_demo(root, seed=seed)
    _VERIFIED_DEMO.add(root)
    return root


def resolve_split(dataset: str, split: str) -> ResolvedSplit:
    """Locate ``split`` of ``dataset``: prepared real data if present, else the demo set for a demo key.

    Raises :class:`NotPreparedError` for a real corpus that is not prepared (no demo fallback).
    """
    root = data_root()
    if root is not None and is_prepared(dataset):
        directory = root / dataset
    elif dataset not in DATASETS:
        raise DataError(f"unknown dataset {dataset!r}; known: {', '.join(sorted(DATASETS))}")
    elif dataset in DEMO_DATASETS:
        directory = ensure_demo() / dataset
    else:
        raise NotPreparedError(not_prepared_message(dataset))
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
