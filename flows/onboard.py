"""Onboard flagged poses: reproduce exactly the DVC stages that data/flagged affects, then gate ``champion``.

    python -m flows.onboard [--root DIR] [--only-if-changed] [--settle SECONDS] [--target STAGE ...]

1. (event-triggered runs) wait until data/flagged has been quiet for ``settle_seconds``;
2. skip when ``only_if_changed`` and data/flagged is what the last promoted run onboarded;
3. ``dvc status`` names the changed stages; they and every stage downstream of them are the affected set
   (curate_poses, the train_guard@<category> items, fuse_guard, evaluate_guard, extraction when it reads
   data/flagged). Each runs through flows.pipeline's ``run_dvc_stage`` task (``dvc repro --single-item``, with
   retries), so an item whose inputs came out unchanged, e.g. another category's adapter, stays cached;
4. the registry gates move ``champion`` or leave it, with the reason;
5. a promoted run records the hash of data/flagged, so the nightly schedule skips when nothing changed.

A failed stage (after its retries) stops the run before the gates: ``champion`` stays, and ``dvc checkout``
puts the outputs DVC removed before running the stage back from the cache, so every artifact matches dvc.lock.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

from safealign.offline import go_offline

go_offline()  # before Prefect is imported: it reads its settings (e.g. the ephemeral start-up timeout) once

from prefect import flow, get_run_logger, task  # noqa: E402

from flows.dag import stage_order  # noqa: E402
from flows.pipeline import _dvc, apply_gates, run_dvc_stage  # noqa: E402
from safealign.ops.changes import flagged_changed, flagged_digest, record_promoted  # noqa: E402


def dvc_status(root: str | Path) -> dict:
    """``dvc status --json``: changed stage -> what changed (empty when everything is up to date)."""
    out = _dvc(["status", "--json"], Path(root))
    if out.returncode != 0:
        raise RuntimeError(f"dvc status failed (exit {out.returncode}): {(out.stdout + out.stderr).strip()[-800:]}")
    text = out.stdout.strip()
    return json.loads(text[text.index("{"):]) if "{" in text else {}


def downstream_closure(root: str | Path, changed: list[str], targets: list[str] | None = None) -> list[str]:
    """``changed`` plus every stage that depends on them, in the DAG's dependency order (with ``targets``:
    only stages those targets need)."""
    import contextlib

    import networkx as nx
    from dvc.repo import Repo

    # DVC names stages relative to the working directory ("../p/dvc.yaml:x" elsewhere); from the root they
    # are the plain names that `dvc status` prints and `dvc repro --single-item` takes.
    with contextlib.chdir(root), Repo(".") as repo:
        graph = repo.index.graph  # edge A -> B: stage A depends on stage B
        by_name = {stage.addressing: stage for stage in graph.nodes}
        affected = set()
        for name in changed:
            if name in by_name:
                affected.add(name)
                affected |= {dependent.addressing for dependent in nx.ancestors(graph, by_name[name])}
        order = stage_order(".", targets)
    return [name for name in order if name in affected]


def lock_entries(root: str | Path) -> dict:
    """Stage entries of dvc.lock (a stage that ran has a new entry; a cached one keeps its entry)."""
    path = Path(root) / "dvc.lock"
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("stages", {}) if path.is_file() else {}


@task(name="wait-until-quiet")
def wait_until_quiet(root: str, settle_seconds: float, max_rounds: int = 20) -> str:
    """Wait until data/flagged has not changed for ``settle_seconds`` (one run for a batch of flags)."""
    digest = flagged_digest(root)
    for _ in range(max_rounds):
        time.sleep(settle_seconds)
        now = flagged_digest(root)
        if now == digest:
            break
        digest = now
    return digest


@task(name="affected-stages")
def affected_stages(root: str, targets: list[str] | None = None) -> tuple[dict, list[str]]:
    """(``dvc status`` before the run, the affected stages in order)."""
    status = dvc_status(root)
    affected = downstream_closure(root, list(status), targets)
    logger = get_run_logger()
    logger.info("dvc status before: %s", json.dumps(status) if status else "up to date")
    logger.info("affected stages: %s", ", ".join(affected) or "none")
    return status, affected


@task(name="restore-artifacts")
def restore_artifacts(root: str) -> str:
    """``dvc checkout``: outputs back to what dvc.lock records (a failed stage's outs were removed by DVC)."""
    out = _dvc(["checkout", "--quiet"], Path(root))
    return "restored outputs from the DVC cache" if out.returncode == 0 else \
        f"dvc checkout exit {out.returncode}: {(out.stdout + out.stderr).strip()[-400:]}"


@flow(name="onboard-flagged-poses")
def onboard(root: str = ".", only_if_changed: bool = False, settle_seconds: float = 0.0,
            retries: int | None = None, retry_delay_seconds: float | None = None,
            targets: list[str] | None = None) -> dict:
    """Turn flagged clips into a promoted guard: affected stages only, then the gates (see module doc)."""
    from prefect.runtime import flow_run

    from safealign.config import load_params

    root = str(Path(root).resolve())
    logger = get_run_logger()
    params = load_params(Path(root) / "params.yaml")
    retries = params.orchestration.retries if retries is None else retries
    delay = params.orchestration.retry_delay_seconds if retry_delay_seconds is None else retry_delay_seconds
    if settle_seconds > 0:
        wait_until_quiet(root, settle_seconds)
    changed, digest = flagged_changed(root)
    if only_if_changed and not changed:
        reason = f"data/flagged unchanged since the last promoted run (sha256 {digest[:12]}); nothing to do"
        logger.info("skipped: %s", reason)
        return {"skipped": reason, "ran": [], "cached": [], "gates": [], "promoted": False}
    status, affected = affected_stages(root, targets)
    before = lock_entries(root)
    timings: dict[str, float] = {}
    for stage in affected:
        runner = run_dvc_stage.with_options(name=stage, task_run_name=stage, retries=retries,
                                            retry_delay_seconds=delay)
        try:
            timings[stage] = runner(stage, root)
        except Exception:
            logger.error("stage %s failed; champion untouched; %s", stage, restore_artifacts(root))
            raise
    after = lock_entries(root)
    ran = [s for s in affected if before.get(s) != after.get(s)]
    cached = [s for s in affected if s not in ran]
    gate_lines = apply_gates(root) if params.gates else []  # no gates: skip the MLflow start-up
    promoted = all("PASS" in line for line in gate_lines)
    for line in gate_lines:
        logger.info(line)
    if promoted:
        record_promoted(root, digest, gate_lines, flow_run.id)
    logger.info("ran: %s | cached: %s | promoted: %s", ", ".join(ran) or "none", ", ".join(cached) or "none",
                promoted)
    return {"skipped": "", "status_before": status, "affected": affected, "ran": ran, "cached": cached,
            "seconds": timings, "gates": gate_lines, "promoted": promoted, "flagged_sha256": digest}


def main(argv: list[str] | None = None) -> int:
    """CLI of ``python -m flows.onboard``."""
    go_offline()
    parser = argparse.ArgumentParser(prog="python -m flows.onboard", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="DVC project root (default: .)")
    parser.add_argument("--only-if-changed", action="store_true",
                        help="do nothing when data/flagged is unchanged since the last promoted run")
    parser.add_argument("--settle", type=float, default=0.0, help="wait until data/flagged is quiet this long")
    parser.add_argument("--target", action="append", dest="targets",
                        help="only stages this target needs (repeatable; default: the whole DAG)")
    args = parser.parse_args(argv)
    result = onboard(root=args.root, only_if_changed=args.only_if_changed, settle_seconds=args.settle,
                     targets=args.targets)
    if result["skipped"]:
        print(f"skipped: {result['skipped']}")
        return 0
    print("dvc status before:", json.dumps(result["status_before"], indent=1) if result["status_before"] else "up to date")
    print("ran:   ", ", ".join(result["ran"]) or "none")
    print("cached:", ", ".join(result["cached"]) or "none")
    for line in result["gates"]:
        print(line)
    if not result["gates"]:
        print("no gates configured in params.yaml: nothing to promote")
    print("champion", "moved or confirmed (every gate passed)" if result["promoted"] else "stays (see the gate lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
