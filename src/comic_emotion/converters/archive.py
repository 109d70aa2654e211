"""Open a user's copy of a release: a directory as it is, or an archive unpacked safely.

Archives (``.zip``, ``.tar``, ``.tar.gz``, ``.tgz``, ``.tar.bz2``, ``.tar.xz``) are unpacked into
a temporary directory. Every member is checked before anything is written: a member whose path is
absolute, contains ``..`` or is a link leaving the target directory is refused with its name, so a
crafted archive cannot write outside the temporary directory. Tar extraction additionally uses
Python's ``filter="data"`` (PEP 706).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from comic_emotion.storage import DataError

_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


def is_archive(path: Path) -> bool:
    """Whether ``path`` names an archive format this module unpacks."""
    name = path.name.lower()
    return name.endswith(".zip") or name.endswith(_TAR_SUFFIXES)


def _unsafe(name: str) -> str | None:
    """Why a member name would escape the target directory, or ``None`` when it is safe."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return "absolute path"
    if ".." in PurePosixPath(posix).parts:
        return "path contains '..'"
    return None


def _check_link(archive: Path, member: str, link_target: str) -> None:
    base = PurePosixPath(member.replace("\\", "/")).parent
    resolved = os.path.normpath(str(base / link_target.replace("\\", "/")))
    if link_target.startswith("/") or resolved == ".." or resolved.startswith("../"):
        raise DataError(f"{archive}: member {member!r} is a link to {link_target!r} outside the archive; "
                        "refusing to unpack (re-create the archive without it)")


def extract_archive(archive: Path, target: Path) -> None:
    """Unpack ``archive`` into the existing directory ``target`` after checking every member.

    Raises
    ------
    DataError
        Naming the archive and the first member whose path is absolute, contains ``..``, or is a
        symbolic link pointing outside the archive; nothing is written in that case.
    """
    if archive.name.lower().endswith(".zip"):
        try:
            with zipfile.ZipFile(archive) as handle:
                for info in handle.infolist():
                    problem = _unsafe(info.filename)
                    if problem:
                        raise DataError(f"{archive}: member {info.filename!r}: {problem}; refusing to unpack "
                                        "an archive that would write outside its directory")
                    if (info.external_attr >> 16) & 0o170000 == 0o120000:  # a stored symlink
                        _check_link(archive, info.filename, handle.read(info).decode("utf-8", "replace"))
                handle.extractall(target)
        except zipfile.BadZipFile as exc:
            raise DataError(f"{archive}: not a readable zip archive ({exc})") from None
        return
    try:
        with tarfile.open(archive) as handle:
            members = handle.getmembers()
            for member in members:
                problem = _unsafe(member.name)
                if problem:
                    raise DataError(f"{archive}: member {member.name!r}: {problem}; refusing to unpack "
                                    "an archive that would write outside its directory")
                if member.issym() or member.islnk():
                    _check_link(archive, member.name, member.linkname)
            handle.extractall(target, members=members, filter="data")
    except tarfile.TarError as exc:
        raise DataError(f"{archive}: not a readable tar archive ({exc})") from None


@contextlib.contextmanager
def open_release(source: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a directory holding the release at ``source`` (a directory, a file, or an archive).

    A single non-archive file yields its parent directory, so converters always search a directory.
    A temporary unpacking directory is removed on exit.
    """
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(f"{path}: source not found; pass the directory or archive of the release you downloaded")
    if path.is_dir():
        yield path
        return
    if not is_archive(path):
        yield path.parent
        return
    tmp = Path(tempfile.mkdtemp(prefix="comic-emotion-release-"))
    try:
        extract_archive(path, tmp)
        entries = list(tmp.iterdir())
        # An archive of one top-level folder reads as that folder, so that records' image paths (and
        # hence the data hash) are the same whether the user passes the archive or its unpacked copy.
        yield entries[0] if len(entries) == 1 and entries[0].is_dir() else tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
