"""The seed project's chat-format JSONL: score a checkpoint on the very prompts it was trained/tested with.

One line per example: ``{"messages": [{"role": "user", "content": "<image>…prompt…"}, {"role":
"assistant", "content": "{'dominant_emotion': 'Calm'}"}], "images": ["/path/page.jpg"]}``. Quirks:

- targets are Python-literal dicts (single quotes), not JSON: read with ``ast.literal_eval``
  (JSON is accepted too). Three target kinds are known, one per prepared copy:
  ``{'dominant_emotion': …}`` (EmoArt-5k, label set ``emoart``), ``{'emotions': [[…], …]}`` (EmoComics35
  pages, one label list per numbered utterance of the prompt, label set ``emocomics35``) and
  ``{'answer': …}`` (MangaVQA, free text);
- ``images`` holds paths on the authors' machine: each is matched to the user's copy by the longest
  common path suffix (``001507/images/page00001.jpg``; book pages share file names). Without any
  image in the source the split is text-only; an image missing while others are present is an error;
- the MangaVQA export holds a number in ``images`` (and its prompts lack the question): such a line
  is reported, naming file and line, and nothing is prepared.

Each ``*.jsonl`` file becomes the split its name says (``train``, ``test``, ``validation``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from comic_emotion.converters.base import Converter, Release, Row, new_record, read_image
from comic_emotion.converters.emocomics35 import utterance_labels
from comic_emotion.converters.readers import iter_jsonl, literal
from comic_emotion.storage import DataError
from comic_emotion.taxonomy import canonicalise, label_set, page_emotions

OBTAIN = "pass the chat-format JSONL files exported for fine-tuning (e.g. llama3_vision_ds_test_lfc.jsonl)"
_UTTERANCE = re.compile(r"^\s*(\d+)\.\s?(.*)$")


def split_of(path: Path) -> str:
    """The split a JSONL file holds, from its name."""
    stem = path.stem.lower()
    for key, split in (("test", "test"), ("train", "train"), ("val", "validation"), ("dev", "validation")):
        if re.search(rf"(^|[_\-.]){key}", stem):
            return split
    raise DataError(f"{path}: cannot tell the split from the file name; rename it to contain train, test or val")


def _target(text: str, *, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = literal(text, where=where, expected="a target dict such as {'dominant_emotion': 'Calm'}")
    if not isinstance(value, dict) or not ({"dominant_emotion", "emotions", "answer"} & set(value)):
        raise DataError(f"{where}: assistant target {text[:80]!r} has none of the keys dominant_emotion, "
                        "emotions, answer")
    return value


def numbered_utterances(prompt: str, count: int, *, where: str) -> list[str]:
    """The numbered utterances ``1. …`` at the end of an EmoComics35 prompt (they may span lines)."""
    body = prompt.split("classify:", 1)[1] if "classify:" in prompt else prompt
    items: list[list[str]] = []
    for line in body.split("\n"):
        match = _UTTERANCE.match(line)
        if match and int(match.group(1)) == len(items) + 1:
            items.append([match.group(2)])
        elif items:
            items[-1].append(line)
    if len(items) != count:
        raise DataError(f"{where}: the prompt numbers {len(items)} utterances but the target has {count} label lists")
    return ["\n".join(parts).strip() for parts in items]


def _match_image(release: Release, original: str, *, where: str) -> Path | None:
    parts = PurePosixPath(original.replace("\\", "/")).parts
    candidates = release.find_all(parts[-1]) if parts else []
    if not candidates:
        return None
    best, best_len = [], 0
    for candidate in candidates:
        mine = candidate.relative_to(release.root).parts
        common = 0
        while common < min(len(mine), len(parts)) and mine[-1 - common] == parts[-1 - common]:
            common += 1
        if common > best_len:
            best, best_len = [candidate], common
        elif common == best_len:
            best.append(candidate)
    if len(best) > 1:
        raise DataError(f"{where}: image {original!r} matches {len(best)} files equally well "
                        f"({', '.join(release.relative(p) for p in best[:3])}); keep one copy")
    return best[0]


def _lines(release: Release, path: Path, split: str, state: dict[str, Any]) -> Iterator[Row]:
    have_images = bool(release.find_all("*.jpg") or release.find_all("*.png"))
    for number, line in iter_jsonl(path):
        where = f"{path}: line {number}"
        if not isinstance(line, dict) or not isinstance(line.get("messages"), list):
            raise DataError(f"{where}: expected an object with 'messages' and 'images'")
        turns = {m.get("role"): m.get("content") for m in line["messages"] if isinstance(m, dict)}
        if not isinstance(turns.get("user"), str) or not isinstance(turns.get("assistant"), str):
            raise DataError(f"{where}: expected a user turn and an assistant turn with string content")
        images = line.get("images") or []
        for i, value in enumerate(images):
            if not isinstance(value, str):
                raise DataError(f"{where}: images[{i}] is {value!r}, not an image path: this export lost its image "
                                "references (as the MangaVQA export did, whose prompts also lack the question); "
                                "re-export it with image paths")
        target = _target(turns["assistant"], where=f"{where}: assistant turn")
        prompt = turns["user"]
        record = new_record(CONVERTER, sample_id=f"seed-{split}-{number:06d}", split=split,
                            original_id=f"{path.name}:{number}")
        if "dominant_emotion" in target:
            record.update(domain="art", label_set="emoart")
            label = str(target["dominant_emotion"])
            if label not in label_set("emoart"):
                raise DataError(f"{where}: dominant_emotion {label!r} is not one of {', '.join(label_set('emoart'))}")
            record["emotions"] = [label]
        elif "emotions" in target:
            record.update(domain="comic", label_set="emocomics35")
            lists = target["emotions"]
            if not isinstance(lists, list):
                raise DataError(f"{where}: 'emotions' must be a list of label lists")
            texts = numbered_utterances(prompt, len(lists), where=where)
            regions = []
            for i, (text, labels) in enumerate(zip(texts, lists)):
                labels = utterance_labels(repr(labels) if isinstance(labels, list) else labels,
                                          where=f"{where}: emotions[{i}]")
                regions.append({"id": f"u{i}", "text": text, "lang": "en", "emotions": labels})
            record["text_regions"] = regions
            # The suite's one page-gold rule (as the EmoComics35 converter and the answer parser).
            record["emotions"] = page_emotions([r["emotions"] for r in regions], label_set("emocomics35"))
        else:
            record.update(domain="manga", label_set="none")
            record["answers"] = [str(target["answer"])]
        record["canonical_emotions"] = canonicalise(record["emotions"])
        record["question"] = prompt.replace("<image>", "").strip()
        record["meta"] = {"prompt": prompt, "target": turns["assistant"], "image_paths": list(images)}
        state.setdefault("kind", record["label_set"])
        if record["label_set"] != state["kind"]:
            raise DataError(f"{where}: target kind {record['label_set']!r} differs from earlier lines "
                            f"({state['kind']!r}); prepare one kind of export at a time")
        image = None
        if images and have_images:
            found = _match_image(release, images[0], where=where)
            if found is None:
                raise DataError(f"{where}: image {images[0]!r} is referenced but absent from the source "
                                "(other images are present)")
            record["image"], image = read_image(release, found)
        yield record, image


def _splits(release: Release) -> dict[str, Any]:
    files = release.find_all("*.jsonl")
    if not files:
        raise DataError(f"{release.root}: no *.jsonl file found; {OBTAIN}")
    state: dict[str, Any] = {}
    splits: dict[str, Any] = {}
    for path in files:
        split = split_of(path)
        if split in splits:
            raise DataError(f"{path}: a second file for split {split!r}; prepare one export per split")
        release.use(path)
        splits[split] = lambda path=path, split=split: _lines(release, path, split, state)
    return splits


CONVERTER = Converter(
    name="seed-jsonl",
    version="1.0",
    title="Seed project chat-format JSONL (fine-tuning prompts and targets)",
    domain="comic",
    label_set="emocomics35",
    licence="derived from the exported corpus: its licence applies (research use)",
    non_commercial=True,
    obtain=OBTAIN,
    splits=_splits,
)
