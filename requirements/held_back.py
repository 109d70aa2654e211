"""Report the requirements of pyproject.toml whose bounds hold back a newer release on the index.

Run by `make check-latest`. For each dependency with an upper bound or an exact pin, it asks uv for the
newest release with no bound, and prints the bound, the reason (the comment above it in pyproject.toml)
and the release it keeps out, so drift that a bound already guards against is told apart from drift
that reaches users.

Usage: python requirements/held_back.py UV_EXECUTABLE
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
DEPENDENCY_LINE = re.compile(r'^\s*"(?P<requirement>[^"]+)",\s*$')


def bounded_requirements(text: str) -> list[tuple[Requirement, str]]:
    """Requirements of `[project] dependencies` with `<`, `<=` or `==`, each with the comment lines above it."""
    found: list[tuple[Requirement, str]] = []
    comment: list[str] = []
    block = text.split("\ndependencies = [", 1)[1].split("\n]", 1)[0]
    for line in block.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            comment.append(stripped.lstrip("# "))
            continue
        match = DEPENDENCY_LINE.match(line)
        if match:
            requirement = Requirement(match["requirement"])
            if any(spec.operator in {"<", "<=", "==", "==="} for spec in requirement.specifier):
                found.append((requirement, " ".join(comment)))
        comment = []
    return found


def newest_release(uv: str, name: str) -> str:
    """The version uv resolves for `name` with no bound (current interpreter, no dependencies)."""
    out = subprocess.run(
        [uv, "pip", "compile", "-", "--no-deps", "--no-header", "--no-annotate", "-q"],
        input=name, capture_output=True, text=True, check=True,
    ).stdout
    return out.strip().split("==", 1)[1]


def main(uv: str) -> int:
    for requirement, reason in bounded_requirements(PYPROJECT.read_text(encoding="utf-8")):
        newest = newest_release(uv, requirement.name)
        held = not requirement.specifier.contains(newest, prereleases=True)
        verdict = f"holds back {newest}" if held else f"newest {newest} allowed"
        print(f"{requirement}: {verdict}" + (f"  ({reason})" if reason else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
