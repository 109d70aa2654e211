"""Write a perturbed split in the canonical format, so a fixed robustness set can be published.

The output directory holds ``<split>.parquet`` (see :mod:`comic_emotion.storage`) and ``manifest.json``:
the source manifest's provenance, the perturbation's description and seed, the source data hash and the
counts. Nothing time- or machine-dependent is written, so two runs give byte-identical files. Images that
a perturbation did not touch keep their original bytes; changed ones are re-encoded as PNG (lossless, no
timestamp chunks).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Iterator

from comic_emotion.perturbations.base import Item, Perturbation

from comic_emotion.data import resolve_split
from comic_emotion.schema import validate_sample
from comic_emotion.storage import (
    MANIFEST,
    DataError,
    canonical_json,
    data_hash,
    read_manifest,
    sha256_file,
    write_json_atomic,
    write_split,
)


def _source(data: str, split: str) -> tuple[Path, dict[str, Any]]:
    """Locate the input: a parquet path (its directory's manifest, if any) or a dataset key."""
    path = Path(data)
    if path.suffix == ".parquet" or path.exists():
        if path.is_dir():
            path = path / f"{split}.parquet"
        if not path.is_file():
            raise DataError(f"{path}: split file not found")
        manifest = read_manifest(path.parent) if (path.parent / MANIFEST).is_file() else {}
        return path, manifest

    resolved = resolve_split(data, split)
    return resolved.path, dict(resolved.manifest)


def _rows(path: Path, perturbation: Perturbation, counts: dict[str, int]) -> Iterator[tuple[dict, bytes | None]]:
    # lazy: pyarrow
    import pyarrow.parquet as pq
    from PIL import Image

    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for truncated files
        raise DataError(f"{path}: not a readable parquet split ({exc}); prepare the dataset again") from None
    for group in range(handle.num_row_groups):
        table = handle.read_row_group(group, columns=["sample", "image"])
        for text, image in zip(table.column("sample").to_pylist(), table.column("image").to_pylist()):
            record = json.loads(text)
            data = None if image is None else image.get("bytes")
            try:
                picture = None if data is None else Image.open(io.BytesIO(data))
                out = perturbation(Item(record, picture))
            except (OSError, Image.DecompressionBombError) as exc:  # the bomb error is no OSError
                problem = str(exc).split(" <_io.")[0]
                raise DataError(f"{path}: sample {record.get('id')!r}: image not usable ({problem})") from None
            validate_sample(out.record, where=str(path))
            if out.image is not picture and out.image is not None:
                buffer = io.BytesIO()
                out.image.save(buffer, format="PNG")
                data = buffer.getvalue()
            counts["samples"] += 1
            counts["changed"] += bool(out.record["meta"]["perturbation"]["changed"])
            yield out.record, data


def export_perturbed(perturbation: Perturbation, data: str, output: str | Path, *, split: str = "test") -> dict:
    """Perturb every sample of ``split`` of ``data`` and write ``output/<split>.parquet`` + manifest.

    Parameters
    ----------
    perturbation
        The configured perturbation (name, severity, seed).
    data
        A prepared split parquet path, a prepared dataset directory, or a dataset key (resolved like the
        tasks do: prepared real data if present, else the demo set).
    output
        Output directory (created; existing files of the same names are replaced atomically).
    split
        Split name (used for the output file name and, with a key or a directory, to find the input).

    Returns
    -------
    dict
        The manifest written.
    """
    source, manifest = _source(data, split)
    output = Path(output)
    counts = {"samples": 0, "changed": 0}
    target = output / f"{split}.parquet"
    write_split(target, _rows(source, perturbation, counts))
    description = perturbation.description.to_dict()

    out = {
        **{k: v for k, v in manifest.items() if k not in ("splits", "perturbation", "derived_from")},
        "dataset": f"{manifest.get('dataset', source.stem)}+{description['name']}-s{description['severity']}",
        "perturbation": description,
        "derived_from": {"dataset": manifest.get("dataset"), "split": split, "sha256": sha256_file(source),
                         "data_hash": data_hash(manifest) if manifest else None},
        "splits": {split: {"count": counts["samples"], "changed": counts["changed"], "sha256": sha256_file(target)}},
    }
    canonical_json(out)  # refuse NaN or non-JSON values before anything is renamed into place
    write_json_atomic(output / MANIFEST, out)
    return out
