"""Render a robustness report (see :mod:`comic_emotion.reports.robustness`) as markdown and a PNG plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from comic_emotion.data import DEMO_BANNER
from comic_emotion.storage import atomic_path

SECTIONS = (("robustness", "Noise robustness"), ("cross_language", "Cross-language (translation shift)"),
            ("ablation", "Modality ablations (full masks; not averaged into robustness)"))


def _f(value: Any, *, percent: bool = False) -> str:
    if value is None:
        return "–"
    return f"{100 * value:.1f} %" if percent else f"{value:.4f}"


def partial_banner(note: str) -> str:
    """``"PARTIAL RUN: --limit 5, 5 of 100 samples per subtask; not a full evaluation"`` (the tables' wording)."""
    return f"PARTIAL RUN: {note.split(': ', 1)[1] if note.startswith('partial run: ') else note}; not a full evaluation"


def to_markdown(report: dict[str, Any]) -> str:
    """The report as markdown tables: one block per (model, dataset, split)."""
    metric = report["metric"]
    lines = [f"# Robustness report ({metric}, {'higher' if report['higher_is_better'] else 'lower'} is better)", ""]
    if report.get("synthetic"):
        lines += [f"> {DEMO_BANNER}", ""]
    if report.get("partial"):
        lines += [f"> {partial_banner(report['partial'])}", ""]
    for group in report["groups"]:
        lines += [f"## {group['model']} on {group['dataset']}/{group['split']}", "",
                  f"Clean ({group['clean_task']}): **{_f(group['clean_score'])}**", ""]
        for category, title in SECTIONS:
            cells = [c for c in group["cells"] if c["category"] == category]
            if not cells:
                continue
            lines += [f"### {title}", "", f"| perturbation | severity | {metric} | relative drop | coverage | flip rate |",
                      "|---|---:|---:|---:|---:|---:|"]
            lines += [f"| {c['perturbation']} | {c['severity']} | {_f(c['score'])} | {_f(c['relative_drop'], percent=True)}"
                      f" | {_f(c['coverage'], percent=True)} | {_f(c['flip_rate'], percent=True)} |" for c in cells]
            partial = sorted({c["perturbation"] for c in cells if c["coverage"] is not None and c["coverage"] < 1})
            if partial:
                lines += ["", f"Coverage below 100 % ({', '.join(partial)}): some samples were left unchanged "
                          "(no boxes of that kind, or the severity's share rounded to zero); scores include them."]
            lines.append("")
        worst = group["worst_case"]
        worst_text = ("none (no noise perturbation lowered the score)" if worst is None
                      else f"{worst['perturbation']} s{worst['severity']} = {_f(worst['score'])}")
        lines.append(f"Worst case: {worst_text}; "
                     f"mCE {_f(group['mce'])}, relative mCE {_f(group['relative_mce'])}"
                     + (f", mCE normalised to {report['reference_model']}: {_f(group.get('mce_normalised'))}"
                        if report.get("reference_model") else " (unnormalised)"))
        lines.append("")
    matrix = report["cross_style"]
    if matrix["rows"]:
        lines += ["## Cross-style matrix (clean tasks, canonical labels)", "",
                  ("Scored on the canonical labels every style shares: "
                   + (", ".join(matrix.get("shared_labels") or ()) or "none") + " (no synthetic `other` class)."), "",
                  "| checkpoint | " + " | ".join(matrix["domains"]) + " |", "|---|" + "---:|" * len(matrix["domains"])]
        for row in matrix["rows"]:
            cells = [row["cells"].get(d) for d in matrix["domains"]]
            lines.append(f"| {row['model']} | " + " | ".join(
                "–" if c is None else _f(c["score"]) + (" (native)" if c["labels"] == "native" else "") for c in cells)
                + " |")
        lines.append("")
    return "\n".join(lines)


def plot(report: dict[str, Any], path: str | Path) -> None:
    """Write :func:`figure` as a PNG (same bytes for the same report)."""
    # lazy: matplotlib
    import matplotlib.pyplot as plt

    figure_ = figure(report)

    with atomic_path(path) as tmp:
        # metadata None: no Software/date chunks, so reruns write the same bytes
        figure_.savefig(tmp, format="png", dpi=110, metadata={"Software": None})
    plt.close(figure_)


def figure(report: dict[str, Any]) -> Any:
    """Severity curves, one panel per (model, dataset); severity 0 is the clean score.

    Ablations (one full mask, no severity scale) are points, not lines from the clean score. Series
    are nudged apart sideways by a few hundredths of a severity step, so identical curves (e.g. two
    perturbations that changed nothing) stay visible instead of hiding one another.
    """
    # lazy: matplotlib
    import matplotlib

    matplotlib.use("Agg")
    # lazy: matplotlib
    import matplotlib.pyplot as plt

    groups = report["groups"] or []
    count = max(1, len(groups))
    canvas, axes = plt.subplots(1, count, figsize=(5.5 * count, 4.2), squeeze=False)
    for axis, group in zip(axes[0], groups):
        names = sorted({c["perturbation"] for c in group["cells"]})
        for number, name in enumerate(names):
            cells = sorted((c for c in group["cells"] if c["perturbation"] == name and c["score"] is not None),
                           key=lambda c: c["severity"])
            category = cells[0]["category"] if cells else "robustness"
            nudge = 0.06 * (number - (len(names) - 1) / 2)
            label = f"{name} ({category.replace('_', ' ')})"
            if category == "ablation":
                axis.plot([c["severity"] + nudge for c in cells], [c["score"] for c in cells], "X", linestyle="None",
                          label=label, markersize=7)
                continue
            xs = [0 + nudge] + [c["severity"] + nudge for c in cells]
            ys = [group["clean_score"]] + [c["score"] for c in cells]
            style = {"robustness": "-o", "cross_language": "--s"}[category]
            axis.plot(xs, ys, style, label=label, markersize=4, alpha=0.85)
        axis.set_title(f"{group['model']}\n{group['dataset']}/{group['split']}", fontsize=9)
        axis.set_xlabel("severity (0 = clean)")
        axis.set_ylabel(report["metric"])
        axis.set_xticks(range(6))
        values = [group["clean_score"], *(c["score"] for c in group["cells"])]
        if all(v is None or 0 <= v <= 1 for v in values):
            axis.set_ylim(0, 1)  # a fixed scale, so a flat curve looks flat and panels compare
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    banners = ([DEMO_BANNER] if report.get("synthetic") else []) + \
        ([partial_banner(report["partial"])] if report.get("partial") else [])
    if banners:
        canvas.suptitle("\n".join(banners), fontsize=8, color="#9a6b00")
    canvas.tight_layout()
    return canvas
