"""EmoRecCom submission files (``results.csv``) and the challenge's official metric.

Official format: no header, 10 columns ``row_index,image_id,angry,disgust,fear,happy,sad,surprise,
neutral,other``, scores in [0, 1], rows in the order of ``test_transcriptions.json``. Variants seen in
the wild and accepted here:

- a header row, with or without an extra (pandas) index column (``,row_index,image_id,angry,...``);
  label columns are then matched by name (case-insensitive, ``Others`` = ``other``);
- a first index written ``0.1`` and any other index junk: index cells are ignored, the image id
  (``<book>_<page>_<panel>``) anchors each row and the 8 cells after it are the scores;
- rows of all zeros and rows summing to 1 (valid scores; ROC-AUC only ranks within a class);
- scientific notation (``1.2e-05``).

The official metric, the mean over the 8 classes of the per-class ROC-AUC, is
:func:`comic_emotion.metrics.classification.mean_roc_auc` (converters sit below metrics: this module
reads and normalises the file, ``comic-emotion score`` scores it). Some teams' code averaged 7
classes, skipping ``other``; that variant is available there only by naming it (``exclude=("other",)``).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from comic_emotion.taxonomy import label_set

LABELS = label_set("emorecom")
_ID = re.compile(r"^\d+_\d+_\d+$")
_ALIASES = {"others": "other", "anger": "angry", "happiness": "happy", "sadness": "sad"}


def _header_columns(cells: list[str], path: Path) -> list[int] | None:
    """Column index of each label when ``cells`` is a header row, else ``None``."""
    names = [_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in cells]
    if not any(name in LABELS for name in names):
        return None
    missing = [label for label in LABELS if label not in names]
    if missing:
        raise ValueError(f"{path}: line 1: header lacks the column(s) {', '.join(missing)}; expected "
                         f"image_id and {', '.join(LABELS)}")
    return [names.index(label) for label in LABELS]


# What read_submission normalises or accepts as given, by kind (the keys of its ``notes``), in report order.
NOTE_KINDS = (
    "header row skipped",
    "extra index column ignored",
    "non-integer row index ignored (e.g. 0.1)",
    "no row index column",
    "rows matched to the split by image id (not in the split's order)",
    "scores in scientific notation",
    "rows of all zeros (kept as given)",
    "rows summing to 1 (kept as given)",
)


def read_submission(path: str | Path, expected_ids: Sequence[str], *,
                    notes: dict[str, int] | None = None) -> tuple[list[str], np.ndarray]:
    """Read an EmoRecCom submission; return ``(ids, scores)`` in the order of ``expected_ids``.

    Parameters
    ----------
    path
        The submission CSV (official 10-column form or a variant listed in the module docstring).
    expected_ids
        The image ids of the prepared split the submission is scored against.
    notes
        When given, filled with how many lines (or cells) each kind in :data:`NOTE_KINDS` concerned,
        so a caller can say what was normalised; kinds that did not occur are left out.

    Returns
    -------
    ids : list of str
        ``list(expected_ids)``.
    scores : ndarray of shape (n, 8)
        Scores aligned with ``ids``, columns in the order of the ``emorecom`` label set.

    Raises
    ------
    ValueError
        Naming the file and line: a row without an image id, a wrong number of score cells, a
        non-numeric or non-finite score, a duplicate id, or ids missing from / unknown to the split.
    """
    path = Path(path)
    expected = list(expected_ids)
    position = {image_id: i for i, image_id in enumerate(expected)}
    scores = np.full((len(expected), len(LABELS)), np.nan)
    filled = np.zeros(len(expected), dtype=bool)
    columns: list[int] | None = None
    counts = dict.fromkeys(NOTE_KINDS, 0)
    order = 0
    if path.is_dir():
        raise ValueError(f"{path}: is a directory; pass the submission CSV (results.csv)")
    if not path.is_file():
        raise ValueError(f"{path}: submission file not found")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for line, cells in enumerate(csv.reader(handle), 1):
            if not any(cell.strip() for cell in cells):
                continue
            where = f"{path}: line {line}"
            id_at = next((i for i, cell in enumerate(cells) if _ID.match(cell.strip())), None)
            if id_at is None:
                if line == 1 and (columns := _header_columns(cells, path)) is not None:
                    counts["header row skipped"] += 1
                    continue
                raise ValueError(f"{where}: no image id of the form <book>_<page>_<panel> in {cells[:3]}")
            if columns is not None:
                values = [cells[i] if i < len(cells) else "" for i in columns]
            else:
                values = cells[id_at + 1:]
                if len(values) != len(LABELS):
                    raise ValueError(f"{where}: {len(values)} score cells after the image id, expected "
                                     f"{len(LABELS)} ({', '.join(LABELS)})")
            image_id = cells[id_at].strip()
            index_cells = cells[:id_at]
            if len(index_cells) > 1:
                counts["extra index column ignored"] += 1
            elif not index_cells:
                counts["no row index column"] += 1
            if any(c.strip() and not c.strip().isdigit() for c in index_cells):
                counts["non-integer row index ignored (e.g. 0.1)"] += 1
            counts["scores in scientific notation"] += sum("e" in text.lower() for text in values)
            row = []
            for label, text in zip(LABELS, values):
                try:
                    value = float(text)
                except ValueError:
                    raise ValueError(f"{where}: image {image_id}: score for {label!r} is {text!r}, "
                                     "expected a number") from None
                if not math.isfinite(value):
                    raise ValueError(f"{where}: image {image_id}: score for {label!r} is {text!r}, "
                                     "expected a finite number")
                row.append(value)
            if image_id not in position:
                raise ValueError(f"{where}: image {image_id} is not in the prepared split "
                                 f"({len(expected)} images); is this a submission for another split?")
            index = position[image_id]
            if filled[index]:
                raise ValueError(f"{where}: image {image_id} appears twice")
            scores[index], filled[index] = row, True
            counts["rows matched to the split by image id (not in the split's order)"] += index != order
            counts["rows of all zeros (kept as given)"] += all(v == 0 for v in row)
            counts["rows summing to 1 (kept as given)"] += abs(sum(row) - 1) < 1e-6
            order += 1
    if not filled.all():
        missing = [expected[i] for i in np.flatnonzero(~filled)[:3]]
        raise ValueError(f"{path}: {int((~filled).sum())} image(s) of the split have no row, "
                         f"e.g. {', '.join(missing)}")
    if notes is not None:
        notes.update({kind: int(n) for kind, n in counts.items() if n})
    return expected, scores
