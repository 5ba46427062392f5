"""Evaluation outputs besides the metrics JSON: DVC plots data and the gate table shown in the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from safealign.atomic import atomic_path
from safealign.evaluation.summary import COMBO
from safealign.tracking.registry import evaluate_gate, flatten_metrics

PLOT_COLUMNS = ["unsafe", "near_miss", "benign"]  # fixed y columns, whatever guard.categories holds


def write_robustness_plots(rob: pd.DataFrame, categories: Sequence[str], out_dir: Path) -> list[Path]:
    """One CSV per perturbation family for DVC plots: level, block rate of the unsafe clips pooled over
    categories, near-miss and benign false-block rates, then one column per unsafe category."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("robustness_*.csv"):
        stale.unlink()
    written = []
    for family, fam in rob[rob["family"] != COMBO].groupby("family", sort=True):
        pooled = fam.assign(
            group=fam["group"].where(~fam["group"].isin(list(categories)), "unsafe"),
            hits=fam["block_rate"] * fam["n"],
        )
        both = pd.concat([pooled[pooled["group"] == "unsafe"], fam.assign(hits=fam["block_rate"] * fam["n"])])
        sums = both.groupby(["level", "group"], sort=False)[["hits", "n"]].sum()
        wide = (sums["hits"] / sums["n"]).unstack("group")
        wide = wide.reindex(columns=PLOT_COLUMNS + [c for c in categories if c in wide.columns]).reset_index()
        try:
            wide = wide.assign(_x=wide["level"].astype(float)).sort_values("_x").drop(columns="_x")
        except ValueError:
            pass
        path = out_dir / f"robustness_{family}.csv"
        with atomic_path(path) as tmp:
            wide.to_csv(tmp, index=False, float_format="%.4f")
        written.append(path)
    return written


def gate_table(
    gates: Sequence[Any], model: str, metrics: Mapping[str, Any]
) -> tuple[list[dict], list[str], bool]:
    """Rows {metric, rule, value, pass} for the gate of ``model``, its summary lines and the verdict."""
    gate = next((g for g in gates if g.model == model), None)
    if gate is None:
        return [], [f"no gate configured for {model} in params.yaml `gates`"], False
    flat = flatten_metrics(metrics)
    result = evaluate_gate(model, metrics, gate.rules)
    rows = []
    for rule in gate.rules:
        value = flat.get(rule.metric)
        ok = evaluate_gate(model, metrics, [rule]).passed
        rows.append(
            {
                "metric": rule.metric,
                "rule": f"{rule.op} {rule.value:g}",
                "value": value if isinstance(value, (int, float)) else None,
                "pass": "yes" if ok else "NO",
            }
        )
    return rows, [result.summary()], result.passed
