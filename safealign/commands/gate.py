"""``safealign gate``: apply the registry gates of params.yaml (move ``champion`` only on pass)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gate", help="apply params.yaml gates: promote 'candidate' to 'champion' where all pass")
    p.add_argument("--params", default="params.yaml")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """One line per gate; exit 1 when a metrics file could not be read (every gate is still checked)."""
    from pathlib import Path

    import mlflow

    from safealign.config import load_params
    from safealign.tracking.registry import gate_line, gate_results
    from safealign.tracking.runs import default_tracking_uri

    params = load_params(args.params)
    mlflow.set_tracking_uri(default_tracking_uri(params.tracking.tracking_uri, Path.cwd()))
    results = gate_results(params.gates, Path.cwd())
    for gate, result in results:
        print(gate_line(gate, result))
    return 1 if any(result is not None and result.unreadable for _, result in results) else 0
