"""The committed lock (requirements/lock.txt) agrees with pyproject.toml, and the venv is exactly the lock.

`make install` installs the lock and nothing else, so a lock that drifts from pyproject.toml would
install a set the project never declared (or miss one it needs). Each failure names the fix.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the lock pins tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
FIX = "regenerate it with `make lock` and commit pyproject.toml and requirements/lock.txt together"
# The platform the lock is made for (Makefile `lock`): Linux x86_64, CPython 3.10 to 3.13.
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
PROJECT = "comic-emotion-bench"


@dataclass(frozen=True)
class Pin:
    """One `name==version ; marker` line of the lock, with what uv says pulled it in."""

    name: str
    version: str
    marker: Marker | None
    direct: bool  # "# via comic-emotion-bench (pyproject.toml)"

    def applies(self, environment: dict[str, str]) -> bool:
        return self.marker is None or self.marker.evaluate(environment)


def read_lock(path: Path = LOCK) -> list[Pin]:
    """Parse uv's requirements output: a pin line, hash lines, then `# via` comment lines."""
    pins: list[Pin] = []
    current: Requirement | None = None
    direct = False

    def close() -> None:
        if current is not None:
            (spec,) = current.specifier
            pins.append(Pin(canonicalize_name(current.name), spec.version, current.marker, direct))

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("--hash"):
            continue
        if line.startswith("#"):
            direct = direct or f"{PROJECT} (pyproject.toml)" in line
            continue
        close()
        current, direct = Requirement(line.rstrip("\\").strip()), False
    close()
    return pins


def linux_environment(python: str) -> dict[str, str]:
    """Marker environment of CPython `python` on Linux x86_64."""
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }


def declared_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]


@pytest.fixture(scope="module")
def pins() -> list[Pin]:
    if not LOCK.is_file():
        pytest.fail(f"{LOCK} is missing: {FIX}")
    return read_lock()


@pytest.mark.parametrize("python", SUPPORTED_PYTHONS)
def test_every_declared_requirement_is_pinned_once_within_its_specifier(pins: list[Pin], python: str) -> None:
    environment = linux_environment(python)
    for requirement in declared_requirements():
        name = canonicalize_name(requirement.name)
        chosen = [p for p in pins if p.name == name and p.applies(environment)]
        assert len(chosen) == 1, f"{name}: {len(chosen)} pins for Python {python} in {LOCK.name}; {FIX}"
        assert requirement.specifier.contains(chosen[0].version, prereleases=True), (
            f"{name}=={chosen[0].version} in {LOCK.name} is outside pyproject's '{requirement}'; {FIX}"
        )


@pytest.mark.parametrize("python", SUPPORTED_PYTHONS)
def test_lock_has_one_version_of_each_package_per_python(pins: list[Pin], python: str) -> None:
    environment = linux_environment(python)
    seen: dict[str, str] = {}
    for pin in (p for p in pins if p.applies(environment)):
        assert pin.name not in seen, f"{pin.name} pinned twice for Python {python} ({seen[pin.name]}, {pin.version})"
        seen[pin.name] = pin.version


def test_direct_pins_are_exactly_pyprojects_requirements(pins: list[Pin]) -> None:
    """A requirement added to or dropped from pyproject.toml without relocking shows up here."""
    declared = {canonicalize_name(r.name) for r in declared_requirements()}
    locked_direct = {p.name for p in pins if p.direct}
    assert locked_direct == declared, (
        f"lock is stale: only in pyproject {sorted(declared - locked_direct)}, "
        f"only in lock {sorted(locked_direct - declared)}; {FIX}"
    )


def test_lock_carries_a_hash_for_every_pin() -> None:
    text = LOCK.read_text(encoding="utf-8")
    blocks = [b for b in text.split("\n") if b and not b.startswith((" ", "#"))]
    assert blocks and all(b.rstrip().endswith("\\") for b in blocks), f"pins without --hash lines; {FIX}"


@pytest.mark.skipif(
    os.environ.get("COMIC_EMOTION_CHECK_LATEST") == "1",
    reason="`make check-latest` installs the newest allowed versions on purpose",
)
def test_installed_environment_is_exactly_the_lock(pins: list[Pin]) -> None:
    """`pip freeze` of the venv equals the lock, apart from this project and pip itself."""
    environment = {**default_environment(), "extra": ""}
    expected = {p.name: p.version for p in pins if p.applies(environment)}
    installed = {
        canonicalize_name(d.metadata["Name"]): d.version
        for d in importlib.metadata.distributions()
        if canonicalize_name(d.metadata["Name"]) not in {PROJECT, "pip"}
    }
    assert installed == expected, (
        f"venv differs from {LOCK.name}: extra {sorted(set(installed) - set(expected))}, "
        f"missing {sorted(set(expected) - set(installed))}, "
        f"other versions {sorted(n for n in set(installed) & set(expected) if installed[n] != expected[n])}; "
        "run `make install` (it syncs the venv to the lock)"
    )
