"""flows/pipeline.py runs a tiny real DVC project in dependency order, one task per stage named after it."""

from __future__ import annotations

import pytest

from flows.pipeline import pipeline
from tests.tiny_dvc import dvc, make_tiny_dvc

pytestmark = pytest.mark.slow


def test_pipeline_runs_stages_in_dependency_order_as_named_tasks(make_project, prefect_api):
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    root = make_tiny_dvc(make_project({"gates": [], "guard.categories": ["sexual", "celebrity"]}))
    state = pipeline(root=str(root), gates=False, retries=0, return_state=True)
    order = list(state.result()["stages"])
    assert sorted(order) == ["curate", "evaluate", "fuse", "other", "train@celebrity", "train@sexual"]
    for before, after in [("curate", "train@sexual"), ("curate", "train@celebrity"), ("train@sexual", "fuse"),
                          ("train@celebrity", "fuse"), ("fuse", "evaluate")]:
        assert order.index(before) < order.index(after), order
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    assert sorted(run.name for run in runs) == sorted(order)
    assert all(run.state.is_completed() for run in runs)
    assert dvc(root, "status").stdout.strip().endswith("Data and pipelines are up to date.")
    assert (root / "metrics/evaluate.json").is_file()
