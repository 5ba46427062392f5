"""Onboarding time on the embedded default: ``safealign flag-pose`` of a new unsafe clip -> promoted champion.

Runs in a tmp copy of the reproduced project (bench_orchestration.copy_project; its own MLflow store copy and
experiment, so the real registry is untouched): flags a new clip of the first unsafe category (a synthesized
clip of that category played backwards: a new motion, same subject style), runs ``python -m flows.onboard``
and times both. Baseline: an onboarding run when nothing changed (DVC checks and gates only), same copy.
Needs ``make run`` first; otherwise the row says it was skipped and why.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.bench_orchestration import REPO, copy_project, dvc

FIGURE = "onboarding: flag-pose -> promoted champion"
MOTIONS_MANIFEST = Path("data/interim/motions/manifest.parquet")


def _skip(reason: str) -> list[dict]:
    return [{"figure": FIGURE, "value": None, "baseline": None, "ratio": None, "unit": "s",
             "note": f"not measured: {reason}"}]


def _private_tracking(copy: Path, source: Path) -> None:
    """Own MLflow store and experiment in the copy (params.yaml is rewritten, never edited in place)."""
    if (source / "mlflow.db").is_file():
        shutil.copy2(source / "mlflow.db", copy / "mlflow.db")
    params = copy / "params.yaml"
    text = re.sub(r"(?m)^(  experiment: )\S+", r"\g<1>onboarding-bench", params.read_text(encoding="utf-8"))
    tmp = params.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, params)


def new_unsafe_clip(copy: Path, out: Path) -> tuple[str, Path]:
    """(category, .npz path): a synthesized unsafe clip reversed in time, written to ``out``."""
    import pandas as pd

    from safealign.config import load_params

    category = load_params(copy / "params.yaml").guard.categories[0]
    manifest = pd.read_parquet(copy / MOTIONS_MANIFEST)
    row = manifest[manifest["category"] == category].iloc[0]
    with np.load(copy / row["path"], allow_pickle=False) as data:
        arrays = {key: data[key][::-1].copy() if data[key].ndim >= 1 and len(data[key]) == len(data["pose"])
                  else data[key] for key in data.files}
    np.savez_compressed(out, **arrays)
    return category, out


def _cli(copy: Path, *argv: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    out = subprocess.run([sys.executable, *argv], cwd=copy, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{(out.stdout + out.stderr)[-1500:]}")
    return out.stdout


def run(source: Path = REPO) -> list[dict]:
    """One row: onboarding wall time vs a no-change onboarding run (``source``: the reproduced project)."""
    from safealign.offline import go_offline

    go_offline()
    with tempfile.TemporaryDirectory(prefix="bench_onboard_") as tmp_name:
        copy = copy_project(Path(tmp_name) / "project", source)
        pending = dvc(copy, "status", "--json").stdout.strip()
        if pending not in ("", "{}"):
            return _skip("the embedded default is not reproduced here (`dvc status` is not clean); run `make run`")
        _private_tracking(copy, source)
        category, clip = new_unsafe_clip(copy, Path(tmp_name) / "flagged_clip.npz")
        started = time.perf_counter()
        _cli(copy, "-m", "safealign.cli", "flag-pose", "--category", category, "--who", "bench", str(clip))
        report = _cli(copy, "-m", "flows.onboard", "--root", str(copy))
        wall = time.perf_counter() - started
        started = time.perf_counter()
        _cli(copy, "-m", "flows.onboard", "--root", str(copy))
        idle = time.perf_counter() - started
    lines = [line for line in report.splitlines() if line.startswith(("ran:", "cached:", "gate ", "champion"))]
    return [{"figure": FIGURE, "value": wall, "baseline": idle, "ratio": wall / idle, "unit": "s",
             "note": f"category {category}; " + " | ".join(" ".join(line.split()) for line in lines)
                     + "; baseline: onboarding with nothing changed"}]


if __name__ == "__main__":
    for row in run(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO):
        print(row)
