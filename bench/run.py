"""Run every benchmark (bench/bench_*.py, each exposing ``run() -> list[dict]``) and write one table.

    python -m bench.run [NAME ...]        # e.g. python -m bench.run orchestration training

Each row: figure, value, baseline, ratio (value / baseline, both measured in this same run), unit, note.
Outputs bench/results.json and bench/results.md. Benchmarks are never timed assertions in tests.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
import traceback
from pathlib import Path

from safealign.atomic import write_json, write_text
from safealign.offline import go_offline

BENCH_DIR = Path(__file__).resolve().parent
COLUMNS = ["figure", "value", "baseline", "ratio", "unit", "note"]


def discover(names: list[str] | None = None) -> list[str]:
    """Module names ``bench.bench_<topic>``, filtered by ``names`` (topics) when given."""
    found = sorted(m.name for m in pkgutil.iter_modules([str(BENCH_DIR)]) if m.name.startswith("bench_"))
    if names:
        found = [m for m in found if m.removeprefix("bench_") in names or m in names]
    return [f"bench.{m}" for m in found]


def run_all(modules: list[str]) -> list[dict]:
    """Run each module's ``run()``; a failing benchmark becomes a row saying so, the others still run."""
    rows: list[dict] = []
    for module in modules:
        started = time.perf_counter()
        try:
            for row in importlib.import_module(module).run():
                rows.append({"bench": module.removeprefix("bench.").removeprefix("bench_"), **row})
        except Exception as exc:  # a broken benchmark must not hide the others' figures
            traceback.print_exc()
            rows.append({"bench": module.removeprefix("bench.").removeprefix("bench_"), "figure": "FAILED", "note": f"{type(exc).__name__}: {exc}"})
        print(f"{module}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return rows


def to_markdown(rows: list[dict]) -> str:
    """The table as markdown (numbers to 4 significant digits)."""
    header = ["bench", *COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = []
        for key in header:
            value = row.get(key, "")
            cells.append(f"{value:.4g}" if isinstance(value, float) else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    go_offline()
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmark topics to run (default: all)")
    parser.add_argument("--out", default=str(BENCH_DIR), help="directory for results.json / results.md")
    args = parser.parse_args(argv)
    rows = run_all(discover(args.names))
    out = Path(args.out)
    write_json(out / "results.json", rows)
    write_text(out / "results.md", to_markdown(rows))
    print(to_markdown(rows))
    return 0 if all(r.get("figure") != "FAILED" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
