"""bench/run.py collects benchmark rows into one table; a failing benchmark is reported, not fatal."""

import sys
import types

from bench.run import run_all, to_markdown


def test_runner_collects_rows_and_survives_failures(monkeypatch):
    ok = types.ModuleType("bench.bench_probe_ok")
    ok.run = lambda: [{"figure": "x", "value": 2.0, "baseline": 1.0, "ratio": 2.0, "unit": "s", "note": ""}]
    bad = types.ModuleType("bench.bench_probe_bad")
    bad.run = lambda: 1 / 0
    monkeypatch.setitem(sys.modules, "bench.bench_probe_ok", ok)
    monkeypatch.setitem(sys.modules, "bench.bench_probe_bad", bad)
    rows = run_all(["bench.bench_probe_ok", "bench.bench_probe_bad"])
    assert rows[0]["ratio"] == 2.0 and rows[1]["figure"] == "FAILED" and "ZeroDivisionError" in rows[1]["note"]
    table = to_markdown(rows)
    assert "| probe_ok | x | 2 | 1 | 2 | s |" in table
