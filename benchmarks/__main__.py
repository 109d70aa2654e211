"""``python -m benchmarks [--quick] [--json] [--only NAME...]``: run every benchmark, print one table.

Each ``bench_<area>.py`` module exposes ``run(quick: bool) -> list[dict]``; a row is
``{"what", "ours", "reference", "unit", "ratio", "goal", "passed"}`` where ``ours`` and
``reference`` were measured side by side in the same process (machines here are noisy, so
figures are ratios). Every module runs in its own subprocess, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))


def run_module(name: str, quick: bool) -> dict:
    """Run one benchmark module in this process; returns its rows, wall time and peak RSS."""
    start = time.perf_counter()
    rows = importlib.import_module(f"benchmarks.{name}").run(quick)
    return {"module": name, "rows": rows, "seconds": time.perf_counter() - start,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def format_table(reports: list[dict]) -> str:
    header = ["benchmark", "what", "ours", "reference", "unit", "ratio", "goal", "pass", "peak RSS MB"]
    lines = []
    for report in reports:
        for row in report["rows"] or [{"what": report.get("error", "no rows"), "passed": False}]:
            lines.append([
                report["module"].removeprefix("bench_"), row.get("what", ""),
                _num(row.get("ours")), _num(row.get("reference")), row.get("unit", ""), _num(row.get("ratio")),
                row.get("goal", ""), "PASS" if row.get("passed") else "FAIL", f"{report.get('peak_rss_mb', 0):.0f}",
            ])
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(len(header))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *lines]]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def _num(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes in all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--only", nargs="*", help="module names (without bench_) to run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # one module, in a subprocess of the runner
        print(json.dumps(run_module(args.child, args.quick)))
        return 0
    selected = [m for m in modules() if not args.only or m.removeprefix("bench_") in args.only]
    reports = []
    for name in selected:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        command = [sys.executable, "-m", "benchmarks", "--child", name] + (["--quick"] if args.quick else [])
        completed = subprocess.run(command, cwd=HERE.parent, capture_output=True, text=True)
        try:
            reports.append(json.loads(completed.stdout.strip().splitlines()[-1]))
        except (IndexError, json.JSONDecodeError):
            tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no output"]
            reports.append({"module": name, "rows": [], "error": f"crashed: {tail[0][:120]}"})
    print(json.dumps(reports, indent=2) if args.json else format_table(reports))
    return 0 if all(r["rows"] and all(row.get("passed") for row in r["rows"]) for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
