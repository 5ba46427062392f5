"""flows/onboard.py on a tiny real DVC project: only affected stages run, retries, failure keeps artifacts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from flows.onboard import downstream_closure, onboard
from safealign.ops.changes import STATE_FILE, flagged_digest
from safealign.ops.flagging import flag_inputs
from tests.tiny_dvc import dvc, make_tiny_dvc

pytestmark = pytest.mark.slow


@pytest.fixture
def tiny(make_project, prefect_api):
    root = make_tiny_dvc(make_project({"gates": [], "guard.categories": ["sexual", "celebrity"]}))
    dvc(root, "repro", "-q")
    return root


def flag(root, category, seed):
    path = root.parent / f"clip{seed}.npz"
    np.savez_compressed(path, pose=np.random.default_rng(seed).random((4, 33, 4)).astype(np.float32))
    return flag_inputs(root, category, [path], who="test")[0]


def test_onboarding_runs_affected_stages_retries_skips_and_fails_safely(tiny):
    # 1. a new clip for one category, and a transient failure of the first train item (retried)
    flag(tiny, "sexual", 1)
    (tiny / "fail_once").write_text("")
    result = onboard(root=str(tiny), retries=1, retry_delay_seconds=0)
    assert list(result["status_before"]) == ["curate"]
    assert set(result["affected"]) == {"curate", "train@sexual", "train@celebrity", "fuse", "evaluate"}
    assert result["affected"][0] == "curate" and result["affected"][-2:] == ["fuse", "evaluate"]
    assert result["ran"] == ["curate", "train@sexual", "fuse", "evaluate"]
    assert result["cached"] == ["train@celebrity"]  # the other category's adapter stayed cached
    assert not (tiny / "fail_once").exists()
    state = (tiny / STATE_FILE).read_text()
    assert result["promoted"] and json.loads(state)["flagged_sha256"] == flagged_digest(tiny)
    assert "clip1" in (tiny / "models/guard/sexual.txt").read_text()

    # targets restrict the affected set to what they need ('other' is not upstream of fuse)
    assert downstream_closure(tiny, ["other", "curate"], targets=["fuse"])[-1] == "fuse"
    assert "other" not in downstream_closure(tiny, ["other", "curate"], targets=["fuse"])

    # 2. the scheduled variant skips when data/flagged is what the last promoted run onboarded
    skipped = onboard(root=str(tiny), only_if_changed=True)
    assert "unchanged since the last promoted run" in skipped["skipped"] and skipped["ran"] == []

    # 3. a stage that keeps failing: the run fails, artifacts and the promoted state stay as they were
    adapters = {p.name: p.read_text() for p in (tiny / "models/guard").iterdir()}
    flag(tiny, "celebrity", 2)
    (tiny / "fail_always").write_text("")
    with pytest.raises(RuntimeError, match="train@celebrity failed"):
        onboard(root=str(tiny), retries=1, retry_delay_seconds=0)
    # DVC removed the failing stage's output before running it; the flow restored it from the cache
    assert {p.name: p.read_text() for p in (tiny / "models/guard").iterdir()} == adapters
    assert (tiny / "models/fused.txt").exists()
    assert (tiny / STATE_FILE).read_text() == state
    assert "train@celebrity" in json.loads(dvc(tiny, "status", "--json").stdout)
