"""Serve the two deployments of the onboarding flow against a Prefect server.

    PREFECT_API_URL=http://127.0.0.1:4200/api python -m flows.deployments [--root DIR]

- ``onboard-flagged-poses/nightly``: cron ``operations.cron`` (``operations.timezone``); runs with
  ``only_if_changed`` so it does work only when data/flagged changed since the last promoted run.
- ``onboard-flagged-poses/on-flag``: triggered by the ``safealign.pose.flagged`` event (``safealign flag-pose``
  emits it). Debounce: the reactive trigger fires on the first event and ignores the others for
  ``operations.debounce_seconds``; the run itself waits until data/flagged is quiet for
  ``operations.settle_seconds``, so a batch of flags becomes one run. Clips flagged while a run is underway
  are picked up by the next event or by the nightly run.

One runner, at most one flow run at a time: DVC cannot reproduce two stages of one workspace at once.
Schedules and triggers need a real server (``prefect server start``); in ephemeral mode nothing fires.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from flows.onboard import onboard
from safealign.offline import go_offline
from safealign.ops.events import POSE_FLAGGED, prefect_api_url

NIGHTLY = "nightly"
ON_FLAG = "on-flag"


def build_deployments(root: str | Path = ".") -> list:
    """The nightly and the event-triggered RunnerDeployment of ``onboard-flagged-poses`` for project ``root``."""
    from prefect.events import DeploymentEventTrigger
    from prefect.schedules import Cron

    from safealign.config import load_params

    root = str(Path(root).resolve())
    ops = load_params(Path(root) / "params.yaml").operations
    nightly = onboard.to_deployment(
        name=NIGHTLY, schedules=[Cron(ops.cron, timezone=ops.timezone)],
        parameters={"root": root, "only_if_changed": True},
        description="Nightly: onboard data/flagged when it changed since the last promoted run.")
    on_flag = onboard.to_deployment(
        name=ON_FLAG,
        triggers=[DeploymentEventTrigger(
            name="on safealign.pose.flagged", expect={POSE_FLAGGED},
            match={"prefect.resource.id": "safealign.category.*"}, posture="Reactive", threshold=1,
            within=timedelta(seconds=ops.debounce_seconds))],
        parameters={"root": root, "only_if_changed": False, "settle_seconds": ops.settle_seconds},
        description=f"On {POSE_FLAGGED}: onboard newly flagged poses (debounced).")
    return [nightly, on_flag]


def main(argv: list[str] | None = None) -> int:
    """CLI of ``python -m flows.deployments``: serve both deployments until SIGTERM/Ctrl-C."""
    from prefect import serve

    go_offline()
    parser = argparse.ArgumentParser(prog="python -m flows.deployments", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="DVC project the deployments onboard (default: .)")
    args = parser.parse_args(argv)
    if not prefect_api_url():
        print("PREFECT_API_URL is not set: schedules and triggers need a Prefect server "
              "(prefect server start; see README 'Operations')", file=sys.stderr)
        return 2
    serve(*build_deployments(args.root), limit=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
