"""On-disk format of a prepared split, its provenance manifest, and atomic writes.

A prepared dataset is a directory::

    <root>/<dataset>/manifest.json      provenance: sources + sha256, converter, licence, counts
    <root>/<dataset>/<split>.parquet    one row per canonical sample

Each parquet row has four columns: ``id``, ``domain``, ``sample`` (the canonical record as
JSON text, see :mod:`comic_emotion.schema`) and ``image`` (HF ``datasets.Image``: PNG/JPEG bytes
or ``null``). The HF feature description is stored in the parquet metadata, so
``datasets.load_dataset("parquet", ...)`` decodes images too.

Everything is written to a temporary name and renamed into place (``os.replace``), so a failed
or interrupted run never leaves a half-written file and an existing good copy survives. The
temporary names come from :mod:`tempfile`, which creates files 0600 and directories 0700; both are
given the permissions a plain ``open``/``mkdir`` would have had under the user's umask before they
are renamed, so a published page or a merged checkpoint is as readable as any other file the user
writes (0644 / 0755 with the usual umask 022).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from filelock import FileLock

MANIFEST = "manifest.json"
_COLUMNS = ("id", "domain", "sample", "image")
_ROWS_PER_GROUP = 256


class DataError(ValueError):
    """A data file is missing, unreadable or inconsistent; the message names it and the fix."""


def sha256_file(path: str | os.PathLike[str], *, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: byte-identical for equal values."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def current_umask() -> int:
    """The process umask, read without changing it where Linux exposes it (``/proc/self/status``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: the only portable read sets it; restored at once
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permissions of a new regular file under the current umask (``open`` asks for 0666)."""
    return 0o666 & ~current_umask()


def directory_mode() -> int:
    """Permissions of a new directory under the current umask (``mkdir`` asks for 0777)."""
    return 0o777 & ~current_umask()


def staging_directory(target: str | os.PathLike[str]) -> Path:
    """Create an empty, uniquely named directory beside ``target`` with umask permissions.

    The caller fills it and moves it into place with :func:`replace_directory` (or removes it on
    failure). ``tempfile.mkdtemp`` alone would leave it 0700, unreadable to the user's group.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
    os.chmod(staging, directory_mode())
    return staging


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success.

    The directory of ``target`` must be writable; a failure (exception, Ctrl-C, disk full)
    removes the temporary file and leaves any existing ``target`` untouched. The file gets the
    permissions of a plain ``open(target, "w")`` under the current umask, not mkstemp's 0600.
    """
    target = Path(target)
    directory = target.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, file_mode())  # after writing: a writer may have recreated the file
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (``<something>.lock``) and remove the file when done.

    filelock leaves its lock file behind on Unix, so every board and cache gathered ``.lock``
    files, and one left by a Ctrl-C looked stale. The file is unlinked while the lock is still
    held; a process waiting on the old file then finds it unlinked and retries on a fresh one
    (filelock >= 3.2x checks ``st_nlink`` after acquiring), so the lock stays exclusive.
    """

    with FileLock(str(path)):
        try:
            yield
        finally:
            Path(path).unlink(missing_ok=True)


def check_writable_dir(directory: str | os.PathLike[str]) -> Path:
    """Create ``directory`` if needed and prove it writable, before any long work starts.

    Raises
    ------
    OSError
        With a one-line message naming the directory, e.g. when it is read-only.
    """
    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise OSError(f"{path}: cannot write there ({exc.strerror or exc}); choose another output directory") from None
    return path


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(target: str | os.PathLike[str], value: Any) -> None:
    """Write ``value`` as indented, key-sorted JSON atomically (NaN is refused)."""
    write_text_atomic(target, json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n")


def _hf_features_metadata() -> bytes:
    features = {
        "id": {"dtype": "string", "_type": "Value"},
        "domain": {"dtype": "string", "_type": "Value"},
        "sample": {"dtype": "string", "_type": "Value"},
        "image": {"_type": "Image"},
    }
    return json.dumps({"info": {"features": features}}).encode()


def write_split(path: str | os.PathLike[str], rows: Iterable[tuple[Mapping[str, Any], bytes | None]]) -> int:
    """Stream ``(record, image_bytes)`` pairs into a parquet split, atomically.

    Records are serialised with :func:`canonical_json`, so the same records give the same bytes.
    Returns the number of rows written.
    """
    # lazy: pyarrow
    import pyarrow as pa
    import pyarrow.parquet as pq

    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    schema = pa.schema(
        [("id", pa.string()), ("domain", pa.string()), ("sample", pa.string()), ("image", image_type)],
        metadata={b"huggingface": _hf_features_metadata()},
    )
    count = 0
    with atomic_path(path) as tmp:
        writer = pq.ParquetWriter(tmp, schema, compression="zstd", write_statistics=False)
        try:
            batch: list[tuple[Mapping[str, Any], bytes | None]] = []

            def flush() -> None:
                columns = [
                    pa.array([r["id"] for r, _ in batch], pa.string()),
                    pa.array([r["domain"] for r, _ in batch], pa.string()),
                    pa.array([canonical_json(r) for r, _ in batch], pa.string()),
                    pa.array([None if b is None else {"bytes": b, "path": None} for _, b in batch], image_type),
                ]
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))
                batch.clear()

            for row in rows:
                batch.append(row)
                count += 1
                if len(batch) >= _ROWS_PER_GROUP:
                    flush()
            if batch or count == 0:
                flush()
        finally:
            writer.close()
    return count


def read_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield the canonical records of a split (without image bytes), streaming by row group."""
    # lazy: pyarrow
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except FileNotFoundError:
        raise DataError(f"{path}: split file not found") from None
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for truncated files
        raise DataError(f"{path}: not a readable parquet split ({exc}); prepare the dataset again") from None
    missing = set(_COLUMNS) - set(handle.schema_arrow.names)
    if missing:
        raise DataError(f"{path}: missing columns {sorted(missing)}; prepare the dataset again")
    for group in range(handle.num_row_groups):
        for text in handle.read_row_group(group, columns=["sample"]).column("sample").to_pylist():
            yield json.loads(text)


def load_split_dataset(path: str | os.PathLike[str]):
    """Load a split as an in-memory ``datasets.Dataset`` (images decode lazily to PIL)."""
    # lazy: HF datasets
    import datasets
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise DataError(f"{path}: split file not found") from None
    except Exception as exc:
        raise DataError(f"{path}: not a readable parquet split ({exc}); prepare the dataset again") from None
    features = datasets.Features(
        {"id": datasets.Value("string"), "domain": datasets.Value("string"),
         "sample": datasets.Value("string"), "image": datasets.Image()}
    )
    return datasets.Dataset(table.select(list(_COLUMNS)), info=datasets.DatasetInfo(features=features))


def read_manifest(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``manifest.json`` of a prepared dataset directory."""
    path = Path(directory) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: manifest not found; run `comic-emotion data prepare` for this dataset") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: manifest is not valid JSON ({exc}); prepare the dataset again") from None


def data_hash(manifest: Mapping[str, Any]) -> str:
    """Content hash of a prepared dataset: sources, converter and split files, not the date.

    Two preparations of the same release with the same converter have the same hash; any change of
    a source file, of the converter version or of the output changes it.
    """
    core = {k: manifest.get(k) for k in ("dataset", "schema_version", "converter", "sources", "splits", "label_set")}
    return hashlib.sha256(canonical_json(core).encode()).hexdigest()


def replace_directory(staging: Path, target: Path) -> None:
    """Move a fully written ``staging`` directory onto ``target``, keeping the old copy until the end."""
    target.parent.mkdir(parents=True, exist_ok=True)
    backup = target.with_name(f".{target.name}.old-{os.getpid()}")
    had_old = target.exists()
    if had_old:
        os.replace(target, backup)
    try:
        os.replace(staging, target)
    except BaseException:
        if had_old:
            os.replace(backup, target)
        raise
    if had_old:
        shutil.rmtree(backup, ignore_errors=True)
