"""Run the DVC stages as Prefect tasks in dependency order, then apply the registry gates.

    python -m flows.pipeline [STAGE ...] [--force] [--no-gates]

Each task calls ``dvc repro --single-item <stage>``, so DVC decides what is up to date and ``dvc repro``
alone reproduces exactly the same artifacts. Prefect adds retries, names, timing and the UI.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from safealign.offline import go_offline

go_offline()  # before Prefect is imported: it reads its settings (startup timeout, analytics) at import

from prefect import flow, get_run_logger, task  # noqa: E402

from flows.dag import stage_order  # noqa: E402


def _dvc(args: list[str], root: Path) -> subprocess.CompletedProcess:
    # dvc.yaml commands call `python`: this interpreter (the project's venv) must come first on PATH.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, capture_output=True, text=True, env=env)


@task
def run_dvc_stage(stage: str, root: str, force: bool = False) -> float:
    """Reproduce one stage through DVC; returns its wall time. Fails (and is retried) on a non-zero exit."""
    started = time.perf_counter()
    out = _dvc(["repro", "--single-item", *(["--force"] if force else []), stage], Path(root))
    elapsed = time.perf_counter() - started
    logger = get_run_logger()
    if out.returncode != 0:
        tail = "\n".join((out.stdout + out.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"stage {stage} failed (exit {out.returncode}):\n{tail}")
    logger.info("%s: %.1fs%s", stage, elapsed, " (cached)" if "didn't change" in out.stdout else "")
    return elapsed


@task
def apply_gates(root: str, params_file: str = "params.yaml") -> list[str]:
    """Move ``champion`` for every gate that passes; a failing gate leaves it and says why."""
    out = subprocess.run([sys.executable, "-m", "safealign.cli", "gate", "--params", params_file],
                         cwd=root, capture_output=True, text=True)
    lines = (out.stdout + out.stderr).strip().splitlines()
    for line in lines:
        get_run_logger().info(line)
    if out.returncode != 0:
        raise RuntimeError("gate step failed:\n" + "\n".join(lines[-10:]))
    return lines


@flow(name="safealign-pipeline")
def pipeline(targets: list[str] | None = None, root: str = ".", force: bool = False, gates: bool = True,
             retries: int | None = None, retry_delay_seconds: float | None = None) -> dict:
    """Run ``targets`` (default: every stage) and their upstream stages in order, then the gates."""
    from safealign.config import load_params

    params = load_params(Path(root) / "params.yaml")
    retries = params.orchestration.retries if retries is None else retries
    delay = params.orchestration.retry_delay_seconds if retry_delay_seconds is None else retry_delay_seconds
    timings: dict[str, float] = {}
    for stage in stage_order(root, targets):
        runner = run_dvc_stage.with_options(name=stage, task_run_name=stage, retries=retries,
                                            retry_delay_seconds=delay)
        timings[stage] = runner(stage, root, force)
    gate_lines = apply_gates(root) if gates else []
    return {"stages": timings, "gates": gate_lines}


def main(argv: list[str] | None = None) -> int:
    """CLI of ``python -m flows.pipeline``."""
    go_offline()
    parser = argparse.ArgumentParser(prog="python -m flows.pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help="stages to run with their upstream (default: all)")
    parser.add_argument("--force", action="store_true", help="rerun even when DVC says up to date")
    parser.add_argument("--no-gates", action="store_true", help="skip the registry gates")
    args = parser.parse_args(argv)
    result = pipeline(targets=args.targets or None, root=str(Path.cwd()), force=args.force, gates=not args.no_gates)
    for stage, seconds in result["stages"].items():
        print(f"{stage:40s} {seconds:8.1f}s")
    for line in result["gates"]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
