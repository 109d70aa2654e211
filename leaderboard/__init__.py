"""Leaderboard JSON (validated against a versioned JSON Schema), static page, and regression gate.

Library entry points (the CLI subcommands ``leaderboard`` and ``regress`` are thin layers over them):
:func:`add_results`, :func:`render`, and :func:`comic_emotion.leaderboard.regress.compare`.
"""

from comic_emotion.leaderboard.board import SCHEMA_VERSION, BoardError, add_results, read_board
from comic_emotion.leaderboard.render import render

__all__ = ["SCHEMA_VERSION", "BoardError", "add_results", "read_board", "render"]
