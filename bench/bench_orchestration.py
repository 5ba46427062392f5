"""Orchestration cost: no-op ``dvc repro`` and Prefect's overhead per stage, in tmp copies.

Rows:
- no-op ``dvc repro`` of the project (a hard-linked tmp copy sharing the DVC cache); baseline: ``dvc version``
  (bare DVC CLI start) in the same run. When the project is not reproduced yet (``dvc status`` not clean), the
  figure is ``dvc status`` (the same graph and hash checks, runs nothing) and the note says so.
- no-op ``dvc repro`` of a synthetic chain of trivial stages (always up to date after its first run).
- Prefect overhead per stage: ``flows.pipeline`` wall time minus the stages' own task time, per stage;
  baseline: the same stages run by plain ``dvc repro --force``, per stage.
- Flow cost per stage (one ``dvc repro --single-item`` process per task) vs plain ``dvc repro`` per stage.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Never copied: environments, VCS, caches, local stores (they are not part of the DAG's inputs).
SKIP = {".venv", ".git", ".cache", ".pytest_cache", "mlruns", "mlflow.db", "__pycache__", ".prefect"}
CHAIN_STAGES = 6
REPEATS = 3


def dvc(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The DVC CLI of this interpreter in ``root``."""
    out = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise RuntimeError(f"dvc {' '.join(args)} in {root} failed: {(out.stdout + out.stderr)[-600:]}")
    return out


def timed(fn, repeats: int = REPEATS) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def copy_project(dest: Path, source: Path = REPO) -> Path:
    """A tmp copy of the project with the DVC cache shared and local stores left out.

    Files under data/ and models/ are hard-linked (stages and DVC replace outputs by unlink/rename, never in
    place); everything else (dvc.lock, params.yaml, code, metrics) is copied, as DVC rewrites some in place.
    """
    linked = [source / "data", source / "models"]

    def copy(src: str, dst: str) -> None:
        if any(Path(src).is_relative_to(top) for top in linked):
            try:
                os.link(src, dst)
                return
            except OSError:
                pass
        shutil.copy2(src, dst)

    ignore = shutil.ignore_patterns(*SKIP)
    shutil.copytree(source, dest, ignore=lambda d, names: set(ignore(d, names)) | (
        {"cache", "tmp"} if Path(d).name == ".dvc" else set()), copy_function=copy, symlinks=True)
    (dest / ".dvc" / "config.local").write_text(  # no .git in the copy; the original's cache is shared
        f"[core]\n    no_scm = true\n[cache]\n    dir = {_cache_dir(source)}\n")
    _link_shared_data(source, dest)
    return dest


def _link_shared_data(source: Path, dest: Path) -> None:
    """Make a ``project.shared_data`` outside the project (../shared/data) resolve from the copy as from the
    source, with a symlink, instead of editing the param (DVC would then see a changed parameter)."""
    from safealign.config import load_raw

    shared = Path(load_raw(source / "params.yaml")["project"]["shared_data"])
    ups = len(shared.parts) - len([p for p in shared.parts if p != ".."])
    if shared.is_absolute() or ups == 0 or not (source / shared).exists():
        return  # absolute, inside the project (copied with it) or absent
    top = Path(*shared.parts[:ups + 1])  # e.g. ../shared
    link = Path(os.path.normpath(dest / top))
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path(os.path.normpath(source / top)), target_is_directory=True)


def _cache_dir(root: Path) -> Path:
    """The DVC cache of ``root`` (``cache.dir`` of its config.local when set, else .dvc/cache)."""
    local = root / ".dvc" / "config.local"
    for line in local.read_text().splitlines() if local.is_file() else []:
        if line.strip().startswith("dir ="):
            return Path(line.split("=", 1)[1].strip())
    return root / ".dvc" / "cache"


def write_chain(root: Path, n: int = CHAIN_STAGES) -> Path:
    """A DVC project whose ``n`` stages each copy the previous stage's output (pure orchestration cost)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")  # the flow reads its retry settings there
    (root / "s0.txt").write_text("0\n")
    lines = ["stages:"]
    for i in range(1, n + 1):
        code = f"import shutil; shutil.copy('s{i - 1}.txt', 's{i}.txt')"
        lines += [f"  s{i}:", f'    cmd: {sys.executable} -c "{code}"', f"    deps: [s{i - 1}.txt]",
                  f"    outs: [s{i}.txt]"]
    (root / "dvc.yaml").write_text("\n".join(lines) + "\n")
    dvc(root, "init", "--no-scm", "-q")
    return root


def prefect_pipeline_times(root: Path) -> tuple[float, float]:
    """(flow wall time, sum of the stage tasks' own times) of ``flows.pipeline`` forcing every stage."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows.pipeline import pipeline

    with contextlib.chdir(root), temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        pipeline(root=str(root), gates=False, retries=0, targets=["s1"])  # warm-up: ephemeral API start-up
        started = time.perf_counter()
        result = pipeline(root=str(root), force=True, gates=False, retries=0)
        wall = time.perf_counter() - started
    return wall, sum(result["stages"].values())


def project_rows(tmp: Path, dvc_start: float) -> list[dict]:
    copy = copy_project(tmp / "project")
    pending = dvc(copy, "status", "--json").stdout.strip()
    clean = pending in ("", "{}")
    args = ["repro"] if clean else ["status"]
    value = timed(lambda: dvc(copy, *args))
    note = ("no-op `dvc repro` of the reproduced project" if clean else
            "project not reproduced yet: `dvc status` instead (the same graph and hash checks, runs nothing)")
    return [{"figure": "no-op dvc repro, project", "value": value, "baseline": dvc_start,
             "ratio": value / dvc_start, "unit": "s", "note": f"{note}; baseline `dvc version`"}]


def run() -> list[dict]:
    """Benchmark rows (see module docstring)."""
    from safealign.offline import go_offline

    go_offline()
    with tempfile.TemporaryDirectory(prefix="bench_orch_") as tmp_name:
        tmp = Path(tmp_name)
        dvc_start = timed(lambda: dvc(tmp, "version"))
        rows = project_rows(tmp, dvc_start)
        chain = write_chain(tmp / "chain")
        dvc(chain, "repro", "-q")
        noop = timed(lambda: dvc(chain, "repro"))
        plain = timed(lambda: dvc(chain, "repro", "--force", "-q"), repeats=1) / CHAIN_STAGES
        wall, own = prefect_pipeline_times(chain)
        overhead = (wall - own) / CHAIN_STAGES
        per_stage_flow = wall / CHAIN_STAGES
    rows += [
        {"figure": f"no-op dvc repro, {CHAIN_STAGES}-stage chain", "value": noop, "baseline": dvc_start,
         "ratio": noop / dvc_start, "unit": "s", "note": "synthetic chain, up to date; baseline `dvc version`"},
        {"figure": "Prefect overhead per stage", "value": overhead, "baseline": plain, "ratio": overhead / plain,
         "unit": "s", "note": f"(flow wall - task time) / {CHAIN_STAGES}; baseline plain `dvc repro --force` per stage"},
        {"figure": "flow cost per stage (dvc process per task)", "value": per_stage_flow, "baseline": plain,
         "ratio": per_stage_flow / plain, "unit": "s",
         "note": "flows.pipeline wall / stages (ephemeral API warm, heartbeats off) vs plain `dvc repro` per stage"},
    ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
