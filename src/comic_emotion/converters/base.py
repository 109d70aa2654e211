"""What every converter shares: the release it reads, the records it builds, the prepare driver.

A converter is a module exposing one :class:`Converter`. Its ``splits`` callable receives the
:class:`Release` and returns, per split name, a zero-argument callable yielding ``(record,
image_bytes | None)`` pairs; the driver (:func:`prepare`) streams each split through schema
validation into ``<split>.parquet`` of a staging directory, writes the provenance manifest and only
then swaps the staging directory onto ``<data_root>/<name>``. A failure anywhere leaves the previous
prepared copy as it was.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import hashlib
import io
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comic_emotion.converters.archive import is_archive, open_release
from comic_emotion.schema import SCHEMA_VERSION, SampleError, validate_sample
from comic_emotion.storage import (
    MANIFEST,
    DataError,
    replace_directory,
    sha256_file,
    write_json_atomic,
    write_split,
)
from comic_emotion.taxonomy import canonicalise, label_set

Row = tuple[dict[str, Any], "bytes | None"]
SplitRows = Callable[[], Iterable[Row]]


@dataclass
class Release:
    """A user's local copy of an official release, searched by official file names.

    Parameters
    ----------
    root
        Directory holding the release (possibly a temporary unpacking of an archive).
    pinned
        When the user passed one file rather than a directory, that file: searches for a name
        or pattern it matches return it alone.
    """

    root: Path
    pinned: Path | None = None
    used: dict[str, Path] = field(default_factory=dict)
    _index: dict[str, list[Path]] | None = None

    def _files(self) -> dict[str, list[Path]]:
        if self._index is None:
            index: dict[str, list[Path]] = {}
            for directory, dirnames, filenames in os.walk(self.root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("__MACOSX"))
                for name in filenames:
                    index.setdefault(name, []).append(Path(directory) / name)
            self._index = index
        return self._index

    def find_all(self, pattern: str) -> list[Path]:
        """Every file whose name matches the glob ``pattern`` (sorted by relative path)."""
        if self.pinned is not None and fnmatch.fnmatchcase(self.pinned.name, pattern):
            return [self.pinned]
        if not any(c in pattern for c in "*?["):
            found = list(self._files().get(pattern, ()))  # a plain name: one dict lookup, not a scan
        else:
            found = [p for name, paths in self._files().items() if fnmatch.fnmatchcase(name, pattern) for p in paths]
        return sorted(found, key=lambda p: p.relative_to(self.root).as_posix())

    def find(self, name: str, *, obtain: str, optional: bool = False) -> Path | None:
        """The one file named ``name`` in the release, recorded as a source of the manifest.

        Parameters
        ----------
        name
            Official file name (exact, case-sensitive).
        obtain
            Where the user obtains the file; part of the error when it is missing.
        optional
            Return ``None`` instead of raising when the file is absent.

        Raises
        ------
        DataError
            When the file is missing (naming it and where to obtain it) or present more than once.
        """
        found = self.find_all(name)
        if not found:
            if optional:
                return None
            raise DataError(f"{self.root}: required file {name!r} not found in the release; {obtain}")
        if len(found) > 1:
            listed = ", ".join(p.relative_to(self.root).as_posix() for p in found[:4])
            raise DataError(f"{self.root}: file {name!r} occurs {len(found)} times ({listed}); "
                            "pass the directory of one copy of the release")
        self.use(found[0])
        return found[0]

    def use(self, path: Path) -> None:
        """Record ``path`` as a source file of the manifest, under its (official) file name."""
        self.check_inside(path)
        self.used[path.name] = path

    def check_inside(self, path: Path) -> None:
        """Refuse a file (typically a symbolic link) that resolves outside the release root."""
        if not path.resolve().is_relative_to(self.root.resolve()) and path != self.pinned:
            raise DataError(f"{path}: resolves to {path.resolve()}, outside the release {self.root}; refusing "
                            "to read through a link that leaves the release (copy the file in instead)")

    def relative(self, path: Path) -> str:
        """``path`` relative to the release root, POSIX style (stable across machines)."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.name


@dataclass(frozen=True)
class Converter:
    """Description of one converter; ``splits`` does the work (see the module docstring)."""

    name: str
    version: str
    title: str
    domain: str
    label_set: str
    licence: str
    non_commercial: bool
    obtain: str
    splits: Callable[[Release], Mapping[str, SplitRows]]


def new_record(conv: Converter, *, sample_id: str, split: str, original_id: str | None,
               emotions: Iterable[str] = (), label_set_name: str | None = None) -> dict[str, Any]:
    """A canonical record with the fields every converter fills the same way."""
    labels = list(emotions)
    return {
        "schema_version": SCHEMA_VERSION,
        "id": sample_id,
        "domain": conv.domain,
        "source": {"dataset": conv.name, "licence": conv.licence, "synthetic": False, "split": split,
                   "original_id": original_id},
        "image": None,
        "label_set": label_set_name or conv.label_set,
        "emotions": labels,
        "canonical_emotions": canonicalise(labels),
    }


def read_image(release: Release, path: Path) -> tuple[dict[str, Any], bytes]:
    """The image record (size, release-relative path, sha256) and the bytes of the user's copy."""

    # lazy: Pillow
    from PIL import Image

    release.check_inside(path)
    data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            # Decode once (JPEG at 1/8 scale: every byte is still read) so a truncated download fails here,
            # naming the file, and not later inside an lmms-eval run.
            image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
    except Image.DecompressionBombError as exc:  # not an OSError: PIL refuses images over 2x MAX_IMAGE_PIXELS
        raise DataError(f"{path}: refused as a possible decompression bomb ({exc}); raise "
                        "PIL.Image.MAX_IMAGE_PIXELS only for images you trust") from None
    except OSError as exc:  # UnidentifiedImageError and truncation are OSErrors
        raise DataError(f"{path}: not a readable image ({str(exc).split(' <_io.')[0]})") from None
    info = {"width": width, "height": height, "path": release.relative(path),
            "sha256": hashlib.sha256(data).hexdigest()}
    return info, data


def _checked(rows: Iterable[Row], conv: Converter, split: str, seen: set[str]) -> Iterator[Row]:
    for record, image in rows:
        validate_sample(record, where=f"{conv.name}/{split}")
        if record["id"] in seen:
            raise SampleError(record["id"], "id", f"duplicate sample id (original id "
                              f"{record['source'].get('original_id')!r} occurs twice in the release)",
                              where=f"{conv.name}/{split}")
        seen.add(record["id"])
        yield record, image


def prepare(conv: Converter, source: str | os.PathLike[str], data_root: str | os.PathLike[str],
            *, today: str | None = None) -> dict[str, Any]:
    """Convert the release at ``source`` into ``<data_root>/<conv.name>`` and return the manifest.

    The output is written to a staging directory beside the target and swapped in at the end, so
    a failure leaves an existing prepared copy intact.
    """

    label_set(conv.label_set)  # fail early on a converter bug, naming the set
    root = Path(data_root).expanduser()
    target = root / conv.name
    staging = root / f".{conv.name}.staging-{os.getpid()}"
    source_path = Path(source).expanduser()
    with open_release(source_path) as directory:
        pinned = source_path if source_path.is_file() and not is_archive(source_path) else None
        release = Release(directory, pinned=pinned)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            splits_out: dict[str, dict[str, Any]] = {}
            seen: set[str] = set()
            label_sets: set[str] = set()
            domains: set[str] = set()

            def tap(rows: Iterable[Row]) -> Iterator[Row]:
                for record, image in rows:
                    label_sets.add(record["label_set"])
                    domains.add(record["domain"])
                    yield record, image

            for split, make_rows in conv.splits(release).items():
                path = staging / f"{split}.parquet"
                count = write_split(path, _checked(tap(make_rows()), conv, split, seen))
                splits_out[split] = {"rows": count, "sha256": sha256_file(path)}
            if len(label_sets) > 1:
                raise DataError(f"{source_path}: records use several label sets ({', '.join(sorted(label_sets))}); "
                                "prepare one kind of release at a time")
            sources = [
                {"name": name, "sha256": sha256_file(path), "size": path.stat().st_size, "licence": conv.licence}
                for name, path in sorted(release.used.items())
            ]
            manifest = {
                "dataset": conv.name, "title": conv.title,
                "domain": domains.pop() if len(domains) == 1 else conv.domain,
                "label_set": label_sets.pop() if label_sets else conv.label_set,
                "synthetic": False, "licence": conv.licence, "non_commercial": conv.non_commercial,
                "schema_version": SCHEMA_VERSION,
                "converter": {"name": f"comic_emotion.converters.{conv.name}", "version": conv.version},
                "sources": sources, "splits": splits_out,
                "created": today or _dt.date.today().isoformat(),
            }
            write_json_atomic(staging / MANIFEST, manifest)
            replace_directory(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return manifest
