"""Offline by construction: a stage runs with every network route pointing nowhere."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from safealign.offline import OFFLINE_ENV, go_offline

DEAD = "http://127.0.0.1:9"  # discard port: every connection attempt fails at once


def test_offline_switches_are_set(monkeypatch):
    for key in OFFLINE_ENV:
        monkeypatch.delenv(key, raising=False)
    go_offline()
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["DVC_NO_ANALYTICS"] == "1"
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"


@pytest.mark.slow
def test_stage_runs_with_network_pointing_nowhere(make_project):
    root = make_project()
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV}
    env.update({"HTTP_PROXY": DEAD, "HTTPS_PROXY": DEAD, "ALL_PROXY": DEAD, "http_proxy": DEAD,
                "https_proxy": DEAD, "NO_PROXY": "", "HF_ENDPOINT": DEAD, "HOME": str(root / "home")})
    out = subprocess.run([sys.executable, "-m", "stages.build_genderpair"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (root / "data" / "processed" / "genderpair" / "genderpair.parquet").is_file()
