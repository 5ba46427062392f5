"""The contract every ``stages/<name>.py`` follows: parse argv, validate params.yaml, run, exit cleanly.

A stage module is::

    def main(argv: list[str] | None = None) -> int:
        return run_stage("name", argv, _run)          # _run(ctx) -> metrics dict or None

Errors a user can act on (``SafealignError``, or a library exception ``safealign.errors.user_error`` maps
to one) become one short line on stderr and the error's exit code (2 for invalid params); anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from safealign.errors import report_error
from safealign.offline import go_offline


@dataclass
class StageContext:
    """What a stage body gets: its DVC name, the validated params (with the ``--domain`` overrides applied),
    the project root, a tracker, its args."""

    name: str
    params: Any
    root: Path
    tracker: Any
    args: argparse.Namespace

    def section(self, key: str) -> Any:
        """The params section ``key`` (e.g. ``ctx.section('curate_poses')``)."""
        return getattr(self.params, key)


def run_stage(name: str, argv: list[str] | None, body: Callable[[StageContext], dict | None],
              add_args: Callable[[argparse.ArgumentParser], None] | None = None,
              section: str | None = None) -> int:
    """Run one stage. ``name`` may be completed by args (``train_guard@{category}``) via ``args.item``."""
    go_offline()
    parser = argparse.ArgumentParser(prog=f"python -m stages.{name}")
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    if add_args:
        add_args(parser)
    args = parser.parse_args(argv)
    domain = None
    if getattr(args, "domain", None):  # the shared guard stages: one dvc.yaml stage per --domain
        from safealign.domains import get_domain

        domain = get_domain(args.domain)
    dvc_name = domain.dvc_stage(name) if domain else name
    stage_name = f"{dvc_name}@{args.item}" if getattr(args, "item", None) else dvc_name
    try:
        from safealign.config import load_params
        from safealign.tracking.runs import stage_run

        params = load_params(args.params)
        if domain:  # the domain's overrides, before anything is logged: MLflow records what runs
            params = domain.params(params)
        root = Path.cwd()
        section_key = section or name
        section_dump = getattr(params, section_key).model_dump() if hasattr(params, section_key) else {}
        tp = params.tracking
        started = time.perf_counter()
        with stage_run(stage_name, tp.experiment, tp.tracking_uri, root, tp.enabled, section_dump) as tracker:
            ctx = StageContext(stage_name, params, root, tracker, args)
            metrics = body(ctx) or {}
            tracker.log_metrics(metrics)
            tracker.log_metrics({"stage_seconds": time.perf_counter() - started})
    except Exception as exc:
        return report_error(exc, stage_name)
    return 0
