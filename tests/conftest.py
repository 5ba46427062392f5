"""Shared fixtures. Tests shrink the real params.yaml (``make_project``); there is no second config copy.

Branch fixtures (tiny datasets built once per session) are appended below by each branch.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from safealign.config import apply_overrides, load_raw
from safealign.offline import go_offline

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / load_raw(REPO / "params.yaml")["project"]["shared_data"]).resolve()

go_offline()
os.environ.setdefault("MPLCONFIGDIR", str(REPO / ".cache" / "matplotlib"))


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (../shared/data is absent on this machine)")
    return path


def write_project(dest: Path, overrides: dict[str, Any] | None = None) -> Path:
    """Lay out a runnable project in ``dest``: the real params.yaml shrunk by ``overrides``, dvc.yaml, stages."""
    dest.mkdir(parents=True, exist_ok=True)
    raw = apply_overrides(load_raw(REPO / "params.yaml"), overrides or {})
    raw["project"]["shared_data"] = str(SHARED_DATA)
    raw["tracking"]["tracking_uri"] = f"sqlite:///{dest / 'mlflow.db'}"
    (dest / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    shutil.copy(REPO / "dvc.yaml", dest / "dvc.yaml")
    for name in ("data", "models", "metrics", "reports"):
        (dest / name).mkdir(exist_ok=True)
    return dest


@pytest.fixture
def make_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """``make_project({"key.sub": value})`` -> a tmp project dir (cwd switched to it) with shrunk params."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)

    def _make(overrides: dict[str, Any] | None = None, subdir: str = "proj") -> Path:
        dest = write_project(tmp_path / subdir, overrides)
        monkeypatch.chdir(dest)
        return dest

    return _make
