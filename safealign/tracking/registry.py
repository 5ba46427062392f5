"""Model registry: register a model directory as ``candidate``; gates move ``champion`` only on pass."""

from __future__ import annotations

import json
import math
import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from safealign.errors import InputError, format_error, shorten, user_input

CANDIDATE = "candidate"
CHAMPION = "champion"
_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}

def register_model_dir(name: str, model_dir: str | Path, tags: Mapping[str, Any] | None = None) -> str | None:
    """Log ``model_dir`` under the active run, register it as ``name`` and point alias ``candidate`` at it.

    Returns the new version, or None when MLflow is not available or no run is active.
    """
    try:
        import mlflow
    except ImportError:
        return None
    if mlflow.active_run() is None:
        return None
    model_dir = Path(model_dir)
    if not model_dir.exists():
        raise InputError(f"cannot register {name}: {model_dir} does not exist")
    code = Path(__file__).with_name("model_directory.py")
    info = mlflow.pyfunc.log_model(name=name.replace("/", "_"), python_model=str(code),
                                   artifacts={"model": str(model_dir)}, registered_model_name=name,
                                   pip_requirements=["safealign"])
    version = str(info.registered_model_version)
    client = mlflow.MlflowClient()
    for key, value in (tags or {}).items():
        client.set_model_version_tag(name, version, key, str(value))
    client.set_registered_model_alias(name, CANDIDATE, version)
    return version


def resolve_model_dir(model: str | Path, cache_dir: str | Path | None = None) -> Path:
    """A local model directory for ``model``: a path as is, or a ``models:/name@alias`` URI downloaded."""
    text = str(model)
    if not text.startswith("models:/"):
        path = Path(text)
        if not path.exists():
            raise InputError(f"model {text}: no such directory (expected a model directory or models:/name@alias)")
        return path
    import mlflow

    _require_registry(text, mlflow.get_tracking_uri())
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=text, dst_path=cache_dir and str(cache_dir)))
    except Exception as exc:  # mlflow raises several types for unknown names/aliases
        raise InputError(f"model {text}: not found in the registry at {mlflow.get_tracking_uri()}: {exc}") from None
    found = sorted(p for p in (local / "artifacts").iterdir()) if (local / "artifacts").is_dir() else []
    if not found:
        raise InputError(f"model {text}: registry entry holds no model directory")
    return found[0]


def _require_registry(model: str, uri: str) -> None:
    """Refuse a registry URI whose local store does not exist (MLflow would create an empty one there)."""
    from urllib.parse import urlparse

    if uri.startswith("sqlite:///"):
        store = Path(uri[len("sqlite:///"):])
    elif uri.startswith("file:"):
        store = Path(urlparse(uri).path)
    else:
        return
    if not store.exists():
        raise InputError(f"model {model}: no model registry at {uri} ({store} does not exist; run the pipeline "
                         "or `safealign gate` there first, or set MLFLOW_TRACKING_URI)")


@dataclass
class GateResult:
    """Outcome of a gate: passed only when every rule holds; ``failures`` says which did not and why.

    ``unreadable`` marks a gate whose metrics file could not be used at all (the command then exits 1).
    """

    model: str
    passed: bool
    failures: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    unreadable: bool = False

    def summary(self) -> str:
        if self.passed:
            return f"gate {self.model}: PASS ({'; '.join(self.checked)})"
        return f"gate {self.model}: FAIL ({'; '.join(self.failures)})"


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metrics JSON to dotted keys ({"a": {"b": 1}} -> {"a.b": 1})."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(flatten_metrics(value, dotted))
        else:
            out[dotted] = value
    return out


def evaluate_gate(model: str, metrics: Mapping[str, Any], rules: Sequence[Any]) -> GateResult:
    """Check every rule (objects with ``metric``, ``op``, ``value``) against ``metrics`` (nested or flat).

    A value that is not a finite number (missing, null, NaN, +-inf, text) fails its rule, and so does a
    non-finite threshold.
    """
    flat = flatten_metrics(metrics)
    result = GateResult(model=model, passed=True)
    for rule in rules:
        value = flat.get(rule.metric)
        if not _finite_number(value) or not _finite_number(rule.value):
            result.passed = False
            # null / NaN / inf: the evaluation could not define the figure (a ratio over zero); the key is there
            where = "missing from" if rule.metric not in flat else f"undefined ({shorten(value)}) in"
            result.failures.append(f"{rule.metric} is {where} the metrics (required {rule.op} {rule.value})")
        elif not _OPS[rule.op](value, rule.value):
            result.passed = False
            result.failures.append(f"{rule.metric} = {value:.4g}, required {rule.op} {rule.value}")
        else:
            result.checked.append(f"{rule.metric} = {value:.4g} {rule.op} {rule.value}")
    return result


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_metrics(path: str | Path) -> dict[str, Any]:
    """A metrics JSON file as a mapping; ``InputError`` (one line, file named) when it is not one."""
    path = Path(path)
    with user_input(f"metrics file {path}"):
        text = path.read_text(encoding="utf-8")
        if not text.strip():
            raise InputError(f"metrics file {path}: empty")
        metrics = json.loads(text)
    if not isinstance(metrics, dict):
        raise InputError(f"metrics file {path}: expected a JSON object of metrics, "
                         f"received a {type(metrics).__name__} at the top level")
    return metrics


def promote_if_passed(result: GateResult) -> str:
    """Move ``champion`` to the ``candidate`` version when the gate passed; otherwise leave it. Returns a line."""
    import mlflow

    client = mlflow.MlflowClient()
    try:
        candidate = str(client.get_model_version_by_alias(result.model, CANDIDATE).version)
    except Exception:
        outcome = "" if result.passed else f"{result.summary().split(': ', 1)[1]}; "
        return f"gate {result.model}: {outcome}no '{CANDIDATE}' version registered; nothing to promote"
    try:
        previous = str(client.get_model_version_by_alias(result.model, CHAMPION).version)
    except Exception:
        previous = None
    if not result.passed:
        return (f"{result.summary()}; '{CHAMPION}' stays at "
                f"{'version ' + previous if previous else 'no version'}")
    client.set_registered_model_alias(result.model, CHAMPION, candidate)
    return f"{result.summary()}; '{CHAMPION}' -> version {candidate} (was {previous or 'none'})"


def gate_results(gates: Sequence[Any], root: str | Path = ".") -> list[tuple[Any, GateResult | None]]:
    """Each configured gate (params ``gates``) with its result; None where its metrics file is not produced.

    An unreadable metrics file fails its own gate (``unreadable``) and the later gates are still checked.
    """
    results: list[tuple[Any, GateResult | None]] = []
    for gate in gates:
        path = Path(root) / gate.metrics
        if not path.is_file():
            results.append((gate, None))
            continue
        try:
            result = evaluate_gate(gate.model, read_metrics(path), gate.rules)
        except InputError as exc:
            result = GateResult(gate.model, passed=False, failures=[format_error(exc)], unreadable=True)
        results.append((gate, result))
    return results


def gate_line(gate: Any, result: GateResult | None) -> str:
    """Promote on pass and say what happened; a gate whose metrics file is not produced yet is skipped."""
    if result is None:
        return f"gate {gate.model}: skipped, {gate.metrics} not produced yet"
    return promote_if_passed(result)


def run_gates(gates: Sequence[Any], root: str | Path = ".") -> list[str]:
    """Apply each configured gate whose metrics file exists (promoting on pass); return one line per gate."""
    return [gate_line(gate, result) for gate, result in gate_results(gates, root)]
