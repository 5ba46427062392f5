"""Report sections of the PoseGuard evaluation that look per action: view tiers with Wilson intervals, block
and false-block rates per action, the keypoint learnability ceiling and the guards' learning curves."""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from safealign.evaluation.summary import FUSED, adapter_name
from safealign.report.html import Report
from safealign.report.plots import line_plot

RATE_RANGE = (-0.02, 1.05)


def _fmt_rate(cell: Mapping) -> str:
    if not cell.get("n"):
        return "-"
    return f"{cell['rate']:.2f} [{cell['ci_low']:.2f}, {cell['ci_high']:.2f}] ({cell['blocked']}/{cell['n']})"


def tier_section(r: Report, metrics: Mapping, categories: Sequence[str]) -> None:
    """Fused block / false-block rates in the gated tier, the near-frontal tier and both, with intervals."""
    tiers = metrics["tiers"]
    r.section(
        "View tiers",
        f"The gate reads the non-frontal tier (|camera yaw| > {metrics['frontal_yaw_deg']:g} degrees, plus real and "
        "flagged clips of unknown yaw). In near-frontal views a kneel and a seated pose, or a salute and a raised "
        "hand, are the same 2-D picture, so that tier is reported here instead of being hidden or sinking the "
        "gate. Rates with Wilson 95 % intervals (blocked / clips).",
    )
    rows = []
    for group in [*categories, "near_miss", "benign"]:
        rows.append({"group": group, "gated tier": _fmt_rate(tiers["other"][group]),
                     "near-frontal tier": _fmt_rate(tiers["frontal"][group]), "all": _fmt_rate(tiers["all"][group])})
    r.table(rows, caption="fused guard on TEST clips: unsafe groups = block rate, near_miss / benign = false blocks")


def action_section(r: Report, actions: pd.DataFrame, categories: Sequence[str]) -> None:
    """Per action and tier: single adapter (its own category) and fused block rates; per near-miss action the
    fused false blocks."""
    r.section("Per action", "TEST clips judged on their active frames (the posture or motion itself).")
    rows = []
    unsafe = actions[actions["group"].isin(categories)]
    for (group, action, tier), g in unsafe.groupby(["group", "action", "tier"], sort=True):
        fused = g[g["model"] == FUSED]
        single = g[g["model"] == adapter_name(group)]
        rows.append({"category": group, "action": action, "tier": tier, "n": int(fused["n"].sum()),
                     "single": _cell(single), "fused": _cell(fused)})
    r.table(rows, caption="block rate per unsafe action (Wilson 95 % interval)")
    near = actions[(actions["group"] == "near_miss") & (actions["model"] == FUSED)]
    rows = [{"near-miss action": a, "tier": t, "n": int(g["n"].sum()), "false blocks": _cell(g)}
            for (a, t), g in near.groupby(["action", "tier"], sort=True)]
    r.table(rows, caption="fused guard: false blocks per near-miss action")


def _cell(g: pd.DataFrame) -> str:
    if g.empty:
        return "-"
    row = g.iloc[0]
    return f"{row['rate']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"


def ceiling_section(r: Report, table: pd.DataFrame | None, note: str) -> None:
    """The keypoint learnability ceiling: a classifier on the keypoint sequences alone, per action."""
    r.section(
        "Keypoint ceiling",
        "How well the unsafe decision can be learnt from the keypoint sequence alone at this data size: a "
        "gradient-boosted classifier on clip statistics of the token keypoints (active frames), trained on the "
        "train split, thresholded to flag 5 % of validation benign + near-miss clips, judged on TEST. The guard "
        "is measured against this ceiling. " + note,
    )
    if table is not None and len(table):
        r.table(table, caption="keypoint ceiling on TEST clips", float_fmt="{:.2f}")


def curve_section(r: Report, curves: Mapping[str, Sequence[Mapping]]) -> None:
    """Learning curve of each single adapter: validation block and near-miss false-block rate vs steps."""
    r.section("Learning curves", "Each category's adapter during training, judged on VALIDATION clips by the "
                                 "evaluation's rule (tau from benign validation clips).")
    if not curves:
        r.note("no learning curve recorded (train_guard.curve_every is 0)")
        return
    blocks = {c: ([p["step"] for p in pts], [p["block_rate"] for p in pts]) for c, pts in curves.items() if pts}
    false = {c: ([p["step"] for p in pts], [p["near_miss_false_block"] for p in pts])
             for c, pts in curves.items() if pts}
    r.figure(line_plot(blocks, "training step", "val block rate", "guard learning curves", ylim=RATE_RANGE))
    r.figure(line_plot(false, "training step", "val near-miss false-block rate", "false blocks while training",
                       ylim=RATE_RANGE))
