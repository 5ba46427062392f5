"""Wall time of ``make run`` (``dvc repro`` of the embedded default) and each stage's share of it.

Reads the ``stage_seconds`` every stage logs to the project's MLflow store (safealign/stage.py) and takes,
per DVC stage, its most recent run: after a ``make run`` on a fresh clone that is the run of that
``make run``. Stages DVC skipped keep their older run, so measure on a fresh clone for a true total.
Baseline: the 30-minute budget the embedded default is sized for (1800 s), so the ratio reads as the share
of the budget used. Needs ``make run`` first; otherwise the row says it was skipped and why.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from bench.bench_orchestration import REPO

BUDGET_SECONDS = 1800.0
PAPER_OF = {"pose": "PoseGuard", "face": "PoseGuard", "guard": "PoseGuard", "motions": "PoseGuard",
            "generator": "PoseGuard"}


def paper_of(stage: str) -> str:
    """'PoseGuard' or 'GenderCARE' for a DVC stage name (by the words in it)."""
    base = stage.split("@")[0]
    return next((paper for word, paper in PAPER_OF.items() if word in base), "GenderCARE")


def latest_stage_seconds(db: Path) -> dict[str, float]:
    """Per DVC stage name: ``stage_seconds`` of its most recent MLflow run in the store ``db``."""
    import mlflow

    client = mlflow.tracking.MlflowClient(tracking_uri=f"sqlite:///{db}")
    seconds: dict[str, float] = {}
    for experiment in client.search_experiments():
        runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"],
                                  max_results=5000)
        for run in runs:
            stage = run.data.tags.get("dvc.stage")
            value = run.data.metrics.get("stage_seconds")
            if stage and value is not None and stage not in seconds:
                seconds[stage] = float(value)
    return seconds


def run() -> list[dict]:
    """One row for the total and one per paper, then one per stage (largest first)."""
    db = REPO / "mlflow.db"
    if not db.is_file():
        return [{"figure": "make run wall time", "value": None, "baseline": BUDGET_SECONDS, "ratio": None,
                 "unit": "s", "note": "not measured: no mlflow.db (run `make run` first)"}]
    seconds = latest_stage_seconds(db)
    total = sum(seconds.values())
    per_paper: dict[str, float] = defaultdict(float)
    for stage, value in seconds.items():
        per_paper[paper_of(stage)] += value
    rows = [{"figure": "make run wall time (sum of stages)", "value": round(total, 1),
             "baseline": BUDGET_SECONDS, "ratio": round(total / BUDGET_SECONDS, 3), "unit": "s",
             "note": f"{len(seconds)} stages; baseline = the 30-minute budget"}]
    for paper, value in sorted(per_paper.items()):
        rows.append({"figure": f"{paper} stages", "value": round(value, 1), "baseline": round(total, 1),
                     "ratio": round(value / total, 3) if total else None, "unit": "s", "note": "share of the total"})
    for stage, value in sorted(seconds.items(), key=lambda kv: -kv[1]):
        rows.append({"figure": f"stage {stage}", "value": round(value, 1), "baseline": round(total, 1),
                     "ratio": round(value / total, 3) if total else None, "unit": "s", "note": "share of the total"})
    return rows
