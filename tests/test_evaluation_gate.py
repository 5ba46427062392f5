"""The configured poseguard-fused gate: promotes a passing candidate, refuses a failing one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safealign.config import load_params
from safealign.evaluation.outputs import gate_table
from tests.conftest import REPO

MODEL = "poseguard-fused"
PASSING = {
    "block_rate_min": 0.97,
    "robust_block_rate_mild_mean": 0.93,
    "benign_fidelity_change_abs_pct": 0.4,
    "near_miss_false_block_rate": 0.0,
    "fusion_retention_min": 1.0,
}


def _gate():
    params = load_params(REPO / "params.yaml")
    gates = [g for g in params.gates if g.model == MODEL]
    assert len(gates) == 1 and gates[0].metrics == "metrics/evaluate_guard.json"
    return params.gates


def test_gate_table_names_the_failed_threshold() -> None:
    gates = _gate()
    rows, lines, passed = gate_table(gates, MODEL, PASSING)
    assert passed and all(r["pass"] == "yes" for r in rows) and len(rows) == 5
    rows, lines, passed = gate_table(gates, MODEL, {**PASSING, "near_miss_false_block_rate": 0.2})
    assert not passed and "near_miss_false_block_rate = 0.2, required <= 0.05" in lines[0]
    rows, lines, passed = gate_table(
        gates, MODEL, {k: v for k, v in PASSING.items() if k != "block_rate_min"}
    )
    assert not passed and "block_rate_min is missing" in lines[0]


@pytest.mark.slow
def test_gate_refuses_failing_model_and_keeps_champion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    from safealign.tracking.registry import CANDIDATE, CHAMPION, register_model_dir, run_gates
    from safealign.tracking.runs import stage_run

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    gates = _gate()
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    metrics_file = tmp_path / "metrics/evaluate_guard.json"
    metrics_file.parent.mkdir()

    def register(text: str) -> str:
        model = tmp_path / f"fused_{text}"
        model.mkdir()
        (model / "weights.txt").write_text(text)
        with stage_run("fuse_guard", "gate-test", uri, tmp_path):
            return register_model_dir(MODEL, model)

    good = register("good")
    metrics_file.write_text(json.dumps(PASSING))
    assert "champion' -> version " + good in run_gates(gates, tmp_path)[0]

    bad = register("bad")
    metrics_file.write_text(json.dumps({**PASSING, "block_rate_min": 0.6}))
    line = run_gates(gates, tmp_path)[0]
    assert "FAIL" in line and "block_rate_min = 0.6, required >= 0.95" in line
    assert f"'{CHAMPION}' stays at version {good}" in line
    client = mlflow.MlflowClient()
    assert str(client.get_model_version_by_alias(MODEL, CHAMPION).version) == good
    assert str(client.get_model_version_by_alias(MODEL, CANDIDATE).version) == bad != good
