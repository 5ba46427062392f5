"""One MLflow run per stage execution, with params, metrics, git commit, DVC stage name, input hashes.

When MLflow is not importable (the lent GPU machine) or tracking is disabled, a no-op tracker is used so
that the training library runs with only the model libraries installed.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator, Mapping

from safealign.hashing import path_sha256


def default_tracking_uri(configured: str, root: Path) -> str:
    """MLFLOW_TRACKING_URI wins; else the params value, relative sqlite paths resolved against ``root``."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or configured
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri[len(prefix):].startswith("/"):
        uri = prefix + str((root / uri[len(prefix):]).resolve())
    return uri


def git_commit(root: Path) -> str:
    """Current git commit of ``root`` ('unknown' outside a repository)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _flatten(prefix: str, obj: Any, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = obj
    return out


class Tracker:
    """Thin wrapper over an active MLflow run; every method is a no-op when ``mlflow`` is None."""

    def __init__(self, mlflow: Any | None, run: Any | None) -> None:
        self._mlflow = mlflow
        self.run_id: str | None = run.info.run_id if run is not None else None

    @property
    def active(self) -> bool:
        return self._mlflow is not None

    def log_params(self, params: Mapping[str, Any], prefix: str = "") -> None:
        if self._mlflow:
            flat = {k: str(v)[:500] for k, v in _flatten(prefix, params, {}).items()}
            for chunk_start in range(0, len(flat), 100):
                self._mlflow.log_params(dict(list(flat.items())[chunk_start:chunk_start + 100]))

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None, prefix: str = "") -> None:
        """Log every finite number in a (nested) mapping; other values are ignored."""
        if not self._mlflow:
            return
        flat = _flatten(prefix, metrics, {})
        numeric = {k.replace("@", "_"): float(v) for k, v in flat.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v}
        if numeric:
            self._mlflow.log_metrics(numeric, step=step)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if self._mlflow:
            self._mlflow.set_tags({k: str(v) for k, v in tags.items()})

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        if not self._mlflow:
            return
        path = Path(path)
        if path.is_dir():
            self._mlflow.log_artifacts(str(path), artifact_path=artifact_path or path.name)
        elif path.exists():
            self._mlflow.log_artifact(str(path), artifact_path=artifact_path)

    def log_inputs(self, paths: list[str | Path]) -> dict[str, str]:
        """Hash each existing input (file or directory) and record the hashes as tags."""
        hashes = {str(p): path_sha256(p) for p in paths if Path(p).exists()}
        self.set_tags({f"input_sha256.{k}": v for k, v in hashes.items()})
        return hashes


@contextlib.contextmanager
def stage_run(stage: str, experiment: str, tracking_uri: str, root: Path, enabled: bool = True,
              params: Mapping[str, Any] | None = None) -> Iterator[Tracker]:
    """Open an MLflow run named after the DVC stage (or a no-op tracker when MLflow is unavailable)."""
    mlflow = None
    if enabled:
        try:
            import mlflow as _mlflow  # lazy: absent on the GPU machine

            mlflow = _mlflow
        except ImportError:
            mlflow = None
    if mlflow is None:
        yield Tracker(None, None)
        return
    mlflow.set_tracking_uri(default_tracking_uri(tracking_uri, root))
    _ensure_experiment(mlflow, experiment, root)
    with mlflow.start_run(run_name=stage) as run:
        tracker = Tracker(mlflow, run)
        tracker.set_tags({"dvc.stage": stage, "git.commit": git_commit(root)})
        if params:
            tracker.log_params(params)
        yield tracker


def _ensure_experiment(mlflow: Any, name: str, root: Path) -> None:
    # Artifact locations are stored as absolute paths at creation, so create it under this project.
    if mlflow.get_experiment_by_name(name) is None:
        artifacts = (root / "mlruns").resolve()
        mlflow.create_experiment(name, artifact_location=artifacts.as_uri())
    mlflow.set_experiment(name)
