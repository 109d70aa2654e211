"""Streaming readers for the file formats of the releases, with errors naming file and line.

Each reader yields one item at a time, so a converter never holds a whole corpus in memory.
"""

from __future__ import annotations

import ast
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from comic_emotion.storage import DataError

_CHUNK = 1 << 16


def iter_json_array(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, item)`` for each element of the top-level JSON array in ``path``, streaming.

    Python's JSON grammar is used on purpose: EmoRecCom's transcriptions contain bare ``NaN``
    tokens, which Python's ``json`` accepts (as ``float('nan')``) and strict parsers refuse.
    """
    decoder = json.JSONDecoder()
    with open(path, encoding="utf-8-sig") as handle:
        buffer, pos, line, index = handle.read(_CHUNK), 0, 1, 0

        def skip(chars: str) -> None:
            nonlocal buffer, pos, line
            while True:
                while pos < len(buffer) and buffer[pos] in chars:
                    line += buffer[pos] == "\n"
                    pos += 1
                if pos < len(buffer):
                    return
                more = handle.read(_CHUNK)
                if not more:
                    return
                buffer, pos = more, 0

        skip(" \t\r\n")
        if buffer[pos:pos + 1] != "[":
            raise DataError(f"{path}: line {line}: expected a JSON array ('['), found {buffer[pos:pos + 20]!r}")
        pos += 1
        while True:
            skip(" \t\r\n")
            if buffer[pos:pos + 1] == "]":
                return
            if index:
                if buffer[pos:pos + 1] != ",":
                    raise DataError(f"{path}: line {line}: expected ',' or ']' after element {index - 1}, "
                                    f"found {buffer[pos:pos + 20]!r}")
                pos += 1
                skip(" \t\r\n")
            while True:
                try:
                    item, end = decoder.raw_decode(buffer, pos)
                    if end < len(buffer):  # a scalar cut at the chunk's end would decode short
                        break
                    more = handle.read(_CHUNK)
                    if not more:
                        break
                    buffer = buffer[pos:] + more
                    pos = 0
                except json.JSONDecodeError as exc:
                    more = handle.read(_CHUNK)
                    if not more:
                        raise DataError(f"{path}: line {line + buffer.count(chr(10), pos, exc.pos)}: "
                                        f"element {index} is not valid JSON ({exc.msg})") from None
                    buffer = buffer[pos:] + more
                    pos = 0
            line += buffer.count("\n", pos, end)
            pos = end
            yield index, item
            index += 1
            if pos > _CHUNK:
                buffer, pos = buffer[pos:], 0


def iter_csv(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line_number, cells)`` of a CSV file (UTF-8, optional BOM), header included."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            for cells in reader:
                yield reader.line_num, cells
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc}); pass the file as released") from None
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV ({exc})") from None


def iter_csv_dicts(path: Path, expected: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, row)`` of a CSV whose header must contain the columns ``expected``."""
    rows = iter_csv(path)
    first = next(rows, None)
    if first is None:
        raise DataError(f"{path}: empty file; expected a header with columns {', '.join(expected)}")
    header = [cell.strip() for cell in first[1]]
    missing = [name for name in expected if name not in header]
    if missing:
        raise DataError(f"{path}: line 1: missing column(s) {', '.join(missing)}; expected the header to contain "
                        f"{', '.join(expected)}, got {', '.join(header)}")
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise DataError(f"{path}: line {line}: {len(cells)} cells, expected {len(header)} (the header's)")
        yield line, dict(zip(header, cells))


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, value)`` for each non-blank line of a JSON-lines file."""
    with open(path, encoding="utf-8-sig") as handle:
        for number, text in enumerate(handle, 1):
            if not text.strip():
                continue
            try:
                yield number, json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None


def literal(text: str, *, where: str, expected: str) -> Any:
    """Evaluate a Python literal written into a CSV cell or a chat target (``ast.literal_eval``)."""
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise DataError(f"{where}: expected {expected}, got {text[:80]!r}") from None
