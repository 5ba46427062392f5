"""flows/deployments.py builds the nightly and on-flag deployments from params.yaml ``operations``."""

from __future__ import annotations

import pytest

from safealign.config import load_params
from safealign.errors import ConfigError


def test_deployments_follow_the_operations_section(make_project):
    from flows.deployments import NIGHTLY, ON_FLAG, build_deployments

    root = make_project({"operations.cron": "30 3 * * *", "operations.debounce_seconds": 42,
                         "operations.settle_seconds": 7})
    nightly, on_flag = build_deployments(root)
    assert (nightly.name, on_flag.name) == (NIGHTLY, ON_FLAG)
    schedule = nightly.schedules[0].schedule
    assert schedule.cron == "30 3 * * *" and schedule.timezone == "UTC"
    assert nightly.parameters == {"root": str(root.resolve()), "only_if_changed": True}
    assert not on_flag.schedules
    trigger = on_flag.triggers[0]
    assert trigger.expect == {"safealign.pose.flagged"} and trigger.within.total_seconds() == 42
    assert trigger.posture == "Reactive" and trigger.threshold == 1
    assert on_flag.parameters["settle_seconds"] == 7 and on_flag.parameters["only_if_changed"] is False
    assert nightly.entrypoint.endswith("onboard.py:onboard")


@pytest.mark.parametrize("key, value, message", [
    ("operations.cron", "every night", "operations.cron"),
    ("operations.timezone", "Mars/Olympus", "operations.timezone"),
    ("operations.debounce_seconds", -1, "operations.debounce_seconds"),
])
def test_bad_operations_settings_fail_with_the_key(make_project, key, value, message):
    root = make_project({key: value})
    with pytest.raises(ConfigError, match=message) as info:
        load_params(root / "params.yaml")
    assert info.value.exit_code == 2


def test_serving_without_a_server_is_refused(monkeypatch, capsys):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.deployments import main

    with temporary_settings(updates={PREFECT_API_URL: None}):
        assert main(["--root", "."]) == 2
    assert "PREFECT_API_URL is not set" in capsys.readouterr().err
