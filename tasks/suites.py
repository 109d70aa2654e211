"""What ``--tasks comic_emotion`` measures: the prepared real corpora, or the demo set and says so.

The ``comic_emotion`` group is decided when lmms-eval loads it (:func:`headline_selection`, applied
by :mod:`comic_emotion.lmms_plugin`), from what is prepared under ``$COMIC_EMOTION_DATA``:

- one or more of the headline corpora prepared: one subtask per prepared corpus, each on its native
  label set; the group's ``macro_f1`` is their unweighted mean, and the group's alias says so;
- none prepared: the three demo subtasks (``comic_emotion_demo``), with an alias and a log line
  saying that no real corpus is prepared and the numbers are synthetic.

The headline corpora are the emotion-labelled corpora of the three domains. Left out on purpose:
the label-free subtasks (MangaVQA, Manga109Dialog: no macro-F1), EMID (music-paired images, an
auxiliary corpus) and the seed chat export (a user's fine-tuning data, not a published corpus);
they are in ``comic_emotion_real`` and run by name. Nothing here runs at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from comic_emotion.data import DATA_ENV, data_root, is_prepared

HEADLINE_GROUP = "comic_emotion"
DEMO_GROUP = "comic_emotion_demo"
DEMO_SUBTASKS = ("comic_emotion_comic", "comic_emotion_manga", "comic_emotion_art")
# subtask -> dataset key, in domain order (comic, manga, art); the static group YAML lists the same.
HEADLINE_CORPORA: Mapping[str, str] = {
    "comic_emotion_emorecom": "emorecom",
    "comic_emotion_emocomics35": "emocomics35",
    "comic_emotion_manga109_emotion": "manga109-emotion",
    "comic_emotion_emoart": "emoart",
    "comic_emotion_artemis": "artemis",
}


@dataclass(frozen=True)
class Selection:
    """The subtasks of ``comic_emotion`` for the data at hand, and how to say what they measure."""

    subtasks: tuple[str, ...]
    demo: bool
    not_prepared: tuple[str, ...]  # headline dataset keys without prepared data

    @property
    def alias(self) -> str:
        """The group's name in lmms-eval's table and results (``results.comic_emotion.alias``)."""
        if self.demo:
            return f"{HEADLINE_GROUP} [DEMO: no real corpus prepared; synthetic data, macro_f1 mean of 3 demo subtasks]"
        names = ", ".join(HEADLINE_CORPORA[t] for t in self.subtasks)
        return f"{HEADLINE_GROUP} [real: macro_f1 = unweighted mean over {len(self.subtasks)} prepared corpora: {names}]"

    def message(self) -> str:
        """One log line: what the group scores, and what it does not."""

        root = data_root()
        where = f"${DATA_ENV} ({root if root is not None else 'not set'})"
        if self.demo:
            return (f"{HEADLINE_GROUP}: no real corpus is prepared under {where}; running the synthetic DEMO set "
                    f"({DEMO_GROUP}: {', '.join(self.subtasks)}), whose numbers are plumbing checks, not results; "
                    "prepare a corpus with `comic-emotion data prepare NAME --source PATH`")
        text = (f"{HEADLINE_GROUP}: scoring {len(self.subtasks)} prepared real corpora under {where} "
                f"({', '.join(self.subtasks)}); the group's macro_f1 is their unweighted mean")
        if self.not_prepared:
            text += f"; not prepared, so not scored: {', '.join(self.not_prepared)}"
        return text

    def group_metadata(self) -> dict[str, Any]:
        """What the group number is a mean of, stored with the results so a reader need not guess."""
        return {"data": "demo" if self.demo else "real", "headline": "unweighted mean of macro_f1 over the subtasks",
                "not_prepared": list(self.not_prepared)}


def headline_selection() -> Selection:
    """The subtasks ``comic_emotion`` runs now (reads ``$COMIC_EMOTION_DATA``; see the module docstring)."""

    prepared = tuple(task for task, dataset in HEADLINE_CORPORA.items() if is_prepared(dataset))
    missing = tuple(dataset for dataset in HEADLINE_CORPORA.values() if not is_prepared(dataset))
    if prepared:
        return Selection(prepared, demo=False, not_prepared=missing)
    return Selection(DEMO_SUBTASKS, demo=True, not_prepared=missing)


def apply_headline(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``comic_emotion`` group config (as lmms-eval loaded it from YAML) with the subtasks chosen now."""
    # lazy: loguru (lmms-eval's logger)
    from loguru import logger

    selection = headline_selection()
    (logger.warning if selection.demo else logger.info)(selection.message())
    metadata = {**dict(config.get("metadata") or {}), **selection.group_metadata()}
    return {**config, "task": list(selection.subtasks), "group_alias": selection.alias, "metadata": metadata}
