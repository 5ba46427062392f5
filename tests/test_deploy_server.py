"""flows/deployments.py against a real Prefect server: `flag-pose` emits the event, the trigger runs the flow.

The session's server (tests/prefect_server.py: `prefect server start` on a free loopback port, tmp sqlite,
analytics and UI off) gets the deployments of a runner serving a tiny real DVC project; flagging a pose emits
``safealign.pose.flagged`` and the test waits for the triggered onboarding run to complete. The runner is
always stopped (SIGTERM, then SIGKILL); the server fixture stops the server the same way.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from tests.conftest import REPO
from tests.prefect_server import BIN, start, stop, tails, wait_for
from tests.tiny_dvc import make_tiny_dvc

pytestmark = pytest.mark.slow
DEADLINE_S = 150  # generous for a loaded 2-core machine; ~45 s on an idle one


def test_flag_event_triggers_the_served_onboarding_deployment(make_project, prefect_server, tmp_path):
    import httpx

    root = make_tiny_dvc(make_project({"gates": [], "guard.categories": ["sexual", "celebrity"],
                                       "operations.settle_seconds": 0, "operations.debounce_seconds": 5}))
    api, env = prefect_server.api, prefect_server.env
    logs = [tmp_path / "runner.log", prefect_server.log]
    deadline = time.monotonic() + DEADLINE_S
    runner = None
    try:
        runner = start([sys.executable, "-m", "flows.deployments", "--root", str(root)], env, logs[0], REPO)

        def deployment_id() -> str | None:
            r = httpx.get(f"{api}/deployments/name/onboard-flagged-poses/on-flag", timeout=5)
            return r.json()["id"] if r.status_code == 200 else None

        dep_id = wait_for(deployment_id, "the on-flag deployment", deadline, logs)
        automations = httpx.post(f"{api}/automations/filter", json={}, timeout=5).json()
        assert any(a["actions"][0].get("deployment_id") == dep_id for a in automations), automations
        time.sleep(2)  # let the server's trigger service load the new automation
        clip = tmp_path / "flagged.npz"
        np.savez_compressed(clip, pose=np.random.default_rng(3).random((4, 33, 4)).astype(np.float32))
        flagged = subprocess.run([str(BIN / "safealign"), "flag-pose", "--category", "sexual", str(clip)],
                                 cwd=root, env=env, capture_output=True, text=True, timeout=60)
        assert flagged.returncode == 0, flagged.stderr
        assert "event safealign.pose.flagged emitted" in flagged.stdout, flagged.stdout

        def finished_run() -> dict | None:
            runs = httpx.post(f"{api}/flow_runs/filter", timeout=5,
                              json={"deployments": {"id": {"any_": [dep_id]}}}).json()
            done = [r for r in runs if r["state"] and r["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED")]
            return done[0] if done else None

        run = wait_for(finished_run, "the triggered flow run", deadline, logs)
        assert run["state"]["type"] == "COMPLETED", f"{run['state']}\n{tails(logs[:1], 60)}"
        assert "adapter for" in (root / "models/guard/sexual.txt").read_text()
        assert (root / ".cache/onboarding/last_promoted.json").is_file()
    finally:
        stop(runner)
    assert runner.poll() is not None
