"""Registry: versions registered as candidate; the gate moves champion only when every rule passes."""

from __future__ import annotations

import mlflow
import pytest

from safealign.config.common import GateRule
from safealign.tracking.registry import CHAMPION, evaluate_gate, promote_if_passed, register_model_dir, resolve_model_dir
from safealign.tracking.runs import stage_run

RULES = [GateRule(metric="block_rate.min", op=">=", value=0.95), GateRule(metric="fpr", op="<=", value=0.05)]


def _register(root, text: str) -> str:
    model = root / f"model_{text}"
    model.mkdir()
    (model / "weights.txt").write_text(text)
    with stage_run("probe", "gate-test", f"sqlite:///{root / 'mlflow.db'}", root):
        return register_model_dir("toy-model", model, tags={"note": text})


@pytest.mark.slow
def test_champion_moves_only_on_pass(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    v1 = _register(tmp_path, "good")
    line = promote_if_passed(evaluate_gate("toy-model", {"block_rate": {"min": 0.97}, "fpr": 0.01}, RULES))
    assert "champion' -> version " + v1 in line
    v2 = _register(tmp_path, "bad")
    assert v2 != v1
    result = evaluate_gate("toy-model", {"block_rate": {"min": 0.80}, "fpr": 0.01}, RULES)
    line = promote_if_passed(result)
    assert not result.passed and "block_rate.min = 0.8, required >= 0.95" in line
    client = mlflow.MlflowClient()
    assert str(client.get_model_version_by_alias("toy-model", CHAMPION).version) == v1
    assert str(client.get_model_version_by_alias("toy-model", "candidate").version) == v2
    champion_dir = resolve_model_dir("models:/toy-model@champion", cache_dir=tmp_path / "dl")
    assert (champion_dir / "weights.txt").read_text() == "good"


def test_missing_metric_fails_the_gate():
    result = evaluate_gate("m", {"fpr": 0.0}, RULES)
    assert not result.passed and "block_rate.min is missing" in result.failures[0]


def test_an_undefined_metric_fails_the_gate_and_is_called_undefined():
    result = evaluate_gate("m", {"block_rate": {"min": None}, "fpr": 0.0}, RULES)
    assert not result.passed and "block_rate.min is undefined (None)" in result.failures[0]
    result = evaluate_gate("m", {"block_rate": {"min": float("nan")}, "fpr": 0.0}, RULES)
    assert not result.passed and "block_rate.min is undefined (nan)" in result.failures[0]
