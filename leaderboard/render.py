"""Static leaderboard site: one self-contained HTML page (no server, no CDN) plus per-run sample viewers.

The page embeds the board, already ranked, as JSON; ``page.js`` (inlined) draws the tables and sorts
them. Per-sample viewers (``samples/<key>.html``) show, for a run whose sample logs are at hand, the
panel thumbnail (when the task's images are available locally with the same data hash), gold
labels, the model's answer, the parsed prediction and whether it was right.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from comic_emotion.leaderboard.board import BoardError, build_entry, read_board
from comic_emotion.leaderboard.ranking import OVERALL_DOMAINS, rank_with_ties
from comic_emotion.metrics.registry import metric_spec

from comic_emotion.data import resolve_split
from comic_emotion.results import load_run
from comic_emotion.storage import data_hash, read_manifest, write_text_atomic

THUMBNAIL_PX = 96
MAX_VIEWER_SAMPLES = 2000
# Rows per page of a sample viewer. Only the first page of each task is in the viewer's HTML; the others
# are small scripts (samples/<key>/<task>-p<N>.js) the viewer adds with a <script> tag when the page is
# opened: that works from file://, where Chromium refuses fetch() and XMLHttpRequest.
VIEWER_PAGE_ROWS = 20


def _asset(name: str) -> str:
    return resources.files("comic_emotion.leaderboard").joinpath(name).read_text("utf-8")


def _script_json(value: Any) -> str:
    # "</script>" or "<!--" inside a string must not end the script element.
    return json.dumps(value, ensure_ascii=False, allow_nan=False).replace("<", "\\u003c")


def _fill(template: str, **parts: str) -> str:
    for name, text in parts.items():
        template = template.replace("{{" + name + "}}", text)
    return template


def _page(template: str, *, title: str, **parts: str) -> str:
    """A page from ``template`` under the shared ``head.html`` (title and the inlined stylesheet)."""
    head = _fill(_asset("head.html"), title=html.escape(title), css=_asset("page.css"))
    return _fill(template, head=head, title=html.escape(title), **parts)


def _stage_deltas(entries: list[dict[str, Any]], tasks: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per staged fine-tune (same ``stage.base``): each stage's change of every score from the previous."""
    chains: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        if "stage" in entry:
            chains.setdefault(entry["stage"]["base"], []).append(entry)
    out = []
    for base, chain in sorted(chains.items()):
        chain.sort(key=lambda e: e["stage"]["index"])
        previous = None
        for entry in chain:
            scores = {"overall": entry["overall"]["value"]}
            scores.update({t: entry["tasks"][t]["metrics"][tasks[t]["official_metric"]]["value"]
                           for t in entry["tasks"]})
            deltas = {k: None if previous is None or v is None or previous.get(k) is None else v - previous[k]
                      for k, v in scores.items()}
            out.append({"base": base, "stage": entry["stage"]["name"], "index": entry["stage"]["index"],
                        "key": entry["key"], "scores": scores, "deltas": deltas})
            previous = scores
    return out


def page_data(board: Mapping[str, Any], *, viewers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Everything the page shows, ranked (overall and per task), with metric metadata for every number."""
    entries = list(board["entries"])
    tasks = board["tasks"]
    metrics = sorted({m for e in entries for t in e["tasks"].values() for m in t["metrics"]})
    metas = {m: metric_spec(m).to_dict() for m in metrics}  # raises on a number without metadata
    ranks = {"overall": rank_with_ties([e["overall"] for e in entries])}
    for task in tasks:
        for metric in metrics:
            scores = [e["tasks"].get(task, {}).get("metrics", {}).get(metric, {"value": None}) for e in entries]
            ranks[f"{task}/{metric}"] = rank_with_ties(scores, lower_is_better=metas[metric]["lower_is_better"])
    tables = (board.get("rank_intervals") or {}).get("tables", {})
    for table, info in tables.items():
        column = "overall" if table == "overall" else f"{table}/{info['metric']}"
        if column in ranks and info["entries"]:
            ranks[column] = _with_intervals(ranks[column], entries, info["entries"])
    return {"data": board["data"], "schema_version": board["schema_version"], "tasks": tasks, "metrics": metas,
            "domain_order": list(OVERALL_DOMAINS),
            "entries": entries, "ranks": ranks, "stages": _stage_deltas(entries, tasks),
            "viewers": dict(viewers or {})}


def _with_intervals(ranks: list[dict[str, Any]], entries: Sequence[Mapping[str, Any]],
                    intervals: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Ranks with the bootstrap rank interval and tie group where the board has one.

    Where an interval exists, ``tied`` means "in a tie group with another entry" (rank intervals
    overlap), replacing the CI-overlap rule for that column.
    """
    sizes: dict[int, int] = {}
    for info in intervals.values():
        sizes[info["group"]] = sizes.get(info["group"], 0) + 1
    out = []
    for rank, entry in zip(ranks, entries):
        info = intervals.get(entry["key"])
        if info is None:
            out.append(dict(rank))
        else:
            out.append({"rank": info["rank"], "tied": sizes[info["group"]] > 1, "interval": list(info["interval"]),
                        "group": info["group"]})
    return out


def render(board_path: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
           runs: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """Write ``out_dir/index.html`` (and ``out_dir/samples/<key>.html`` per run given); returns index.html.

    Parameters
    ----------
    board_path
        Leaderboard JSON (validated on read).
    out_dir
        Output directory (created); files are written atomically.
    runs
        lmms-eval results files whose sample logs sit beside them: one sample viewer each, linked
        from the entry with the same key.
    """

    board = read_board(board_path)
    if board is None:
        raise BoardError(f"{board_path}: board not found; create it with `comic-emotion leaderboard add`")
    out_dir = Path(out_dir)
    viewers = {}
    for results in runs:
        key, text, chunks = viewer_page(results)
        write_text_atomic(out_dir / "samples" / f"{key}.html", text)
        for name, script in chunks.items():
            write_text_atomic(out_dir / "samples" / name, script)
        viewers[key] = f"samples/{key}.html"
    data = page_data(board, viewers=viewers)
    title = "comic-emotion-bench leaderboard" + (" (DEMO DATA)" if board["data"] == "demo" else "")
    page = _page(_asset("page.html"), title=title, js=_asset("page.js"), data=_script_json(data))
    index = out_dir / "index.html"
    write_text_atomic(index, page)
    return index


def _thumbnails(metadata: Mapping[str, Any], ids: set[str]) -> dict[str, str]:
    """data: URIs of small JPEG thumbnails for ``ids``, when the task's data is here with the same hash."""

    try:
        if metadata.get("data_path"):
            # The file the run read; when it is gone, show no image rather than generate data.
            path = Path(str(metadata["data_path"]))
            found = data_hash(read_manifest(path.parent)) if path.is_file() else None
        else:
            resolved = resolve_split(str(metadata["dataset"]), str(metadata.get("data_split", "test")))
            path, found = resolved.path, resolved.data_hash
    except (ValueError, OSError):
        return {}
    if found != metadata.get("data_hash"):
        return {}  # other data than the run saw: showing it would mislead
    # lazy: pyarrow
    import pyarrow.parquet as pq
    from PIL import Image

    table = pq.read_table(path, columns=["id", "image"])
    out = {}
    for sample_id, image in zip(table.column("id").to_pylist(), table.column("image").to_pylist()):
        if sample_id not in ids or not image or not image.get("bytes"):
            continue
        with Image.open(io.BytesIO(image["bytes"])) as picture:
            picture = picture.convert("RGB")
            picture.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            buffer = io.BytesIO()
            picture.save(buffer, format="JPEG", quality=80)
        out[sample_id] = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
    return out


def viewer_page(results_path: str | os.PathLike[str]) -> tuple[str, str, dict[str, str]]:
    """(entry key, HTML, page scripts) of the per-sample viewer of one run; the run must have sample logs.

    The HTML holds the first :data:`VIEWER_PAGE_ROWS` samples of each task; the page scripts (file names
    relative to the viewer's folder, ``<key>/<task>-p<N>.js``) hold the rest, one page each, loaded on demand.
    """

    run = load_run(results_path)
    clean = run.clean_tasks()
    if not any(t.rows for t in clean.values()):
        raise BoardError(f"{results_path}: no sample logs beside it; rerun lmms-eval with --log_samples")
    key = build_entry(run)["key"]
    sections, chunks = [], {}
    for task, result in sorted(clean.items()):
        if not result.rows:
            continue
        rows = result.rows[:MAX_VIEWER_SAMPLES]
        thumbs = _thumbnails(result.metadata, {r["id"] for r in rows})
        body = []
        for row, answer in zip(rows, result.answers or [""] * len(rows)):
            correct = sorted(row["gold"]) == sorted(row["pred"])
            thumb = thumbs.get(row["id"])
            image = f'<img src="{thumb}" alt="panel {html.escape(row["id"])}">' if thumb else \
                '<span class="muted">image not available locally</span>'
            body.append(
                f'<tr class="{"ok" if correct else "bad"}"><td>{image}</td><td><code>{html.escape(row["id"])}</code></td>'
                f'<td>{html.escape(", ".join(row["gold"]) or "–")}</td>'
                f'<td class="answer"><code>{html.escape(answer[:600])}</code></td>'
                f'<td>{html.escape(", ".join(row["pred"]) or "–")} <small class="muted">({html.escape(row["parse_status"])})</small></td>'
                f'<td>{"✔ correct" if correct else "✘ incorrect"}</td></tr>')
        note = "" if len(rows) == len(result.rows) else f" (first {len(rows)} of {len(result.rows)})"
        pages = [body[i:i + VIEWER_PAGE_ROWS] for i in range(0, len(body), VIEWER_PAGE_ROWS)] or [[]]
        for number, page in enumerate(pages[1:], start=2):
            chunks[f"{key}/{task}-p{number}.js"] = (f"comicEmotionViewer.page({_script_json(task)}, {number}, "
                                                    f"{_script_json(''.join(page))});\n")
        pager = "" if len(pages) == 1 else (
            '<nav class="pager"><button type="button" data-go="-1" disabled>‹ previous</button> '
            f'<span class="page-label">page 1 of {len(pages)}</span> '
            '<button type="button" data-go="1">next ›</button></nav>')
        sections.append(f'<section data-task="{html.escape(task)}" data-pages="{len(pages)}" '
                        f'data-chunks="{html.escape(key)}/{html.escape(task)}-p">'
                        f'<h2>{html.escape(task)} <small class="muted">{len(rows)} samples{note}, '
                        f'{html.escape(str(result.metadata.get("data_source", "")))}</small></h2>{pager}'
                        '<table class="samples"><thead><tr><th>panel</th><th>id</th><th>gold</th>'
                        '<th>model answer</th><th>parsed prediction</th><th>exact match</th></tr></thead>'
                        f'<tbody>{"".join(pages[0])}</tbody></table></section>')
    checkpoint = "" if run.checkpoint == "-" else f" ({run.checkpoint})"
    title = f"Samples of {run.model}{checkpoint} · comic-emotion-bench"
    banner = '<p class="demo-banner">DEMO DATA: synthetic panels; not comparable with published numbers</p>' \
        if run.synthetic else ""
    if run.partial:
        banner += f'<p class="demo-banner">{html.escape(run.partial_note().upper().split(":")[0])}: ' \
                  f'{html.escape(run.partial_note().split(": ", 1)[1])}; not a full evaluation</p>'
    text = _page(_asset("viewer.html"), title=title, banner=banner, sections="".join(sections))
    return key, text, chunks
