"""Find the structured object in a raw model answer: JSON, a Python literal, or a repaired truncation.

The first step of :func:`comic_emotion.metrics.parsing.parse_answer`, kept apart from what the
object means: this module knows braces, quotes and fences, nothing about emotions. Its levels are
the parse statuses: ``strict`` (the whole answer is a JSON object), ``lenient`` (an object or list
found inside other text, or a Python literal read with :func:`ast.literal_eval`, never ``eval``)
and ``repaired`` (a truncated object closed after its last complete element).
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

# Only this many characters of an answer are parsed, so a 100 kB answer costs no more than a 16 kB one.
MAX_PARSE_CHARS = 16_384
_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)(?:```|$)", re.DOTALL)


def answer_text(text: str | bytes | None) -> str:
    """The answer as text: ``None`` is empty, bytes decode as UTF-8 with replacement.

    A model server may hand back bytes with broken encoding; what decodes is still an answer.
    Anything else is a caller's bug (``TypeError``), not a parse failure.
    """
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray)):
        return bytes(text[: MAX_PARSE_CHARS * 4]).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise TypeError(f"answer must be str, bytes or None, got {type(text).__name__}")
    return text


def loads(candidate: str) -> Any:
    """JSON first, then a Python literal (the seed project's target format); ``None`` if neither parses."""
    try:
        return json.loads(candidate)
    except (ValueError, RecursionError):
        pass
    try:
        return ast.literal_eval(candidate)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def close_truncated(text: str) -> list[str]:
    """Candidate repairs of a truncated object: closed at its end and after its last complete element.

    A model that runs out of tokens stops mid-object; closing the open brackets (and a string) keeps
    what it did say. The last three commas are tried too, since the final element may be cut.
    """
    stack: list[str] = []
    quote: str | None = None
    escaped = False
    cuts: list[tuple[int, str]] = []
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack:
                break
            stack.pop()
        elif ch == ",":
            cuts.append((i, "".join(reversed(stack))))
    candidates = []
    if stack:
        candidates.append(text + (quote or "") + "".join(reversed(stack)))
    for i, closers in reversed(cuts[-3:]):
        candidates.append(text[:i] + closers)
    return candidates


def find_object(text: str) -> tuple[Any, str] | None:
    """The JSON/Python object in ``text`` and its parse status, or ``None`` when there is none.

    Tried in order, so the status names the least lenient reading that worked: the whole text as a
    JSON object (``strict``); fenced blocks, the span from the first ``{`` to the last ``}``, a bare
    list (``lenient``); a truncated object closed (``repaired``).
    """
    if text.startswith("{") and text.endswith("}"):
        try:
            value = json.loads(text)
            if isinstance(value, dict):
                return value, "strict"
        except (ValueError, RecursionError):
            pass
    candidates = [m.group(1).strip() for m in _FENCE.finditer(text)] if "```" in text else []
    start, end = text.find("{"), text.rfind("}")
    if start >= 0 and end > start:
        candidates.append(text[start:end + 1])
    if text.startswith("[") and text.endswith("]"):
        candidates.append(text)
    for candidate in candidates:
        value = loads(candidate)
        if isinstance(value, (dict, list)):
            return value, "lenient"
    if start >= 0:
        for candidate in close_truncated(text[start:]):
            value = loads(candidate)
            if isinstance(value, dict):
                return value, "repaired"
    return None
