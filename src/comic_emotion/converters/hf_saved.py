"""A user's saved copy of a Hugging Face ``datasets`` repository, read without ``datasets``.

Two layouts are found anywhere under the release directory:

- the repository's parquet files (``data/test-00000-of-00001.parquet``; the split is the first
  name token, or the parent folder's name);
- a ``save_to_disk`` folder: Arrow IPC *stream* files ``data-00000-of-00001.arrow`` beside
  ``dataset_info.json`` and ``state.json`` (whose ``_split`` names the split; a ``DatasetDict``
  puts one such folder per split, named after it), or a cache file ``<name>-<split>.arrow``.

Rows are streamed one record batch (or parquet row group) at a time. Image columns hold
``{"bytes": …, "path": …}`` (the ``datasets.Image`` storage); :func:`image_of` decodes one.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from comic_emotion.converters.base import Release
from comic_emotion.storage import DataError

SPLIT_NAMES = {"train": "train", "test": "test", "validation": "validation", "valid": "validation",
               "val": "validation", "dev": "validation"}


def split_of(path: Path, *, default: str | None = None) -> str:
    """The split a saved file holds (see the module docstring); ``default`` when nothing says."""
    state = path.parent / "state.json"
    if path.suffix == ".arrow" and state.is_file():
        try:
            named = json.loads(state.read_text(encoding="utf-8")).get("_split")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            raise DataError(f"{state}: not the JSON state file of a saved dataset") from None
        if named:
            return SPLIT_NAMES.get(str(named).split("[")[0], str(named))
    tokens = re.split(r"[-_.]", path.stem.lower())
    for token in tokens:
        if token in SPLIT_NAMES:
            return SPLIT_NAMES[token]
    if path.parent.name.lower() in SPLIT_NAMES:
        return SPLIT_NAMES[path.parent.name.lower()]
    if default is None:
        raise DataError(f"{path}: cannot tell the split of this saved dataset file from its name, folder or "
                        "state.json; rename it to start with train, test or validation")
    return default


def saved_splits(release: Release, *, default: str | None = None) -> dict[str, list[Path]]:
    """The parquet / arrow files of the release per split, recorded as manifest sources."""
    by_split: dict[str, list[Path]] = {}
    for path in release.find_all("*.parquet") + release.find_all("*.arrow"):
        release.use(path)
        by_split.setdefault(split_of(path, default=default), []).append(path)
    return {split: sorted(paths, key=release.relative) for split, paths in sorted(by_split.items())}


def iter_rows(paths: list[Path], *, columns: list[str] | None = None) -> Iterator[tuple[Path, int, dict[str, Any]]]:
    """Yield ``(file, row_index, row)`` over the files, in order; ``columns`` limits what is read."""
    # lazy: pyarrow
    import pyarrow as pa
    import pyarrow.parquet as pq

    for path in paths:
        index = 0
        try:
            if path.suffix == ".parquet":
                handle = pq.ParquetFile(path)
                names = [c for c in columns if c in handle.schema_arrow.names] if columns else None
                batches = (handle.read_row_group(g, columns=names) for g in range(handle.num_row_groups))
            else:
                # Memory-mapped and zero-copy: the batches keep the map alive while they are used.
                source = pa.memory_map(str(path))
                try:
                    table = pa.ipc.open_stream(source).read_all()
                except pa.ArrowInvalid:  # an Arrow IPC *file* rather than a stream
                    table = pa.ipc.open_file(source).read_all()
                names = [c for c in columns if c in table.column_names] if columns else None
                batches = iter((table.select(names) if names else table).to_batches())
            for batch in batches:
                for row in batch.to_pylist():
                    yield path, index, row
                    index += 1
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"{path}: not a readable saved dataset file ({exc})") from None


def image_of(value: Any, *, where: str) -> tuple[dict[str, Any], bytes] | None:
    """The image record and bytes of a ``datasets.Image`` cell (``None`` when it holds no bytes)."""
    # lazy: Pillow
    from PIL import Image, UnidentifiedImageError

    if not isinstance(value, dict) or not value.get("bytes"):
        return None
    data = value["bytes"]
    try:
        with Image.open(io.BytesIO(data)) as picture:
            width, height = picture.size
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"{where}: the image cell is not a readable image ({exc})") from None
    return {"width": width, "height": height, "path": value.get("path"),
            "sha256": hashlib.sha256(data).hexdigest()}, data
