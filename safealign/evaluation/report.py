"""reports/poseguard.html: figures, gate verdict, block rule, robustness curves and example grids."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from safealign.evaluation.clips import ClipInputs
from safealign.evaluation.summary import COMBO, groups_of
from safealign.report.html import Report
from safealign.report.plots import bar_plot, line_plot

RATE_RANGE = (-0.02, 1.05)
GRID_ZOOM, GRID_MAX_WIDTH = 3, 960  # tiny frames are shown enlarged (pixelated) to be legible
GRID_COLUMNS = "reference | pose map | ground truth | base | guarded (fused)"


def example_grid(
    clips: Sequence[ClipInputs],
    base: Sequence[np.ndarray],
    guarded: Sequence[np.ndarray],
    labels: Sequence[str],
) -> np.ndarray:
    """One row per clip (middle sampled frame): reference | pose map | ground truth | base | guarded."""
    from safealign.video.grid import image_grid

    rows = []
    for clip, b, g in zip(clips, base, guarded, strict=True):
        mid = len(clip.pose_maps) // 2
        truth = clip.target[mid] if clip.target is not None else np.zeros_like(clip.reference)
        rows.append([clip.reference, clip.pose_maps[mid], truth, b[mid], g[mid]])
    return image_grid(rows, labels=list(labels))


def group_grids(
    meta: pd.DataFrame,
    clips: Sequence[ClipInputs],
    base: Sequence[np.ndarray],
    guarded: Sequence[np.ndarray],
    groups: Sequence[str],
    n: int,
) -> dict[str, np.ndarray]:
    """Up to ``n`` example rows per reporting group (benign, near_miss, each unsafe category)."""
    found = groups_of(meta)
    grids = {}
    for group in groups:
        idx = [i for i, g in enumerate(found) if g == group][:n]
        if idx:
            grids[group] = example_grid(
                [clips[i] for i in idx],
                [base[i] for i in idx],
                [guarded[i] for i in idx],
                [str(meta["clip_id"][i]) for i in idx],
            )
    return grids


def robustness_curves(rob: pd.DataFrame) -> dict[str, dict[str, tuple[list, list]]]:
    """family -> {group: (levels, block rates)}; numeric levels sorted numerically, others as listed."""
    out: dict[str, dict[str, tuple[list, list]]] = {}
    for family, fam in rob[rob["family"] != COMBO].groupby("family", sort=True):
        curves = {}
        for group, g in fam.groupby("group", sort=False):
            try:
                g = g.assign(x=g["level"].astype(float)).sort_values("x")
                xs = g["x"].tolist()
            except ValueError:
                xs = g["level"].tolist()
            curves[str(group)] = (xs, g["block_rate"].tolist())
        out[str(family)] = curves
    return out


def build_report(
    metrics: Mapping,
    table: pd.DataFrame,
    rob: pd.DataFrame,
    rule_text: str,
    gate_lines: Sequence[str],
    gate_rules: Sequence[Mapping],
    passed: bool,
    grids: Mapping[str, np.ndarray],
    real_note: str,
    categories: Sequence[str],
    title: str = "PoseGuard evaluation",
    gated_model: str = "poseguard-fused",
) -> Report:
    """Assemble the PoseGuard evaluation report (no I/O; call ``write`` on the result); ``title`` and
    ``gated_model`` name the domain (the face variant: FaceGuard, faceguard-fused)."""
    r = Report(
        title,
        "base generator vs single-category adapters vs fused guard (poseguard.md sections 2.4, 2.5)",
    )
    r.section(
        "Gate",
        f"Thresholds from params.yaml `gates` for model {gated_model}. "
        f"Verdict: {'PASS' if passed else 'FAIL'}.",
    )
    r.table(list(gate_rules), caption="gate rules and measured values", float_fmt="{:.4f}")
    for line in gate_lines:
        r.note(line)
    r.section("Block rule", rule_text)
    r.table(
        [{"model": m, "tau (SSIM to base)": t} for m, t in metrics["threshold"].items()],
        caption="threshold per guarded model (each calibrated on its own benign validation outputs)",
        float_fmt="{:.4f}",
    )
    r.section(
        "Block rates",
        "Share of unsafe TEST clips blocked by the fused guard and by the single adapter of "
        "the category; fusion retention = fused / single. False-block rates use the same rule on benign "
        "and near-miss TEST clips.",
    )
    r.table(
        [
            {
                "category": c,
                "fused": metrics["block_rate"][c],
                "single adapter": metrics["single_block_rate"][c],
                "fusion retention": metrics["fusion_retention"][c],
            }
            for c in categories
        ]
    )
    undefined = [c for c in categories if not np.isfinite(metrics["fusion_retention"][c])]
    if undefined:
        r.note(
            f"fusion retention undefined for {', '.join(undefined)}: the single adapter blocks no clip there "
            "(retention = fused / single), so the gate reports it as missing"
        )
    r.table(
        [
            {"set": "benign (test)", "false-block rate": metrics["benign_false_block_rate"]},
            {"set": "near-miss (test)", "false-block rate": metrics["near_miss_false_block_rate"]},
            {"set": "benign real motion", "false-block rate": metrics["real_false_block_rate"]},
        ],
        caption="false blocks (fused)",
    )
    r.table(
        [{"model": "fused", "SSIM to base": metrics["real_ssim_vs_base"],
          "false-block rate": metrics["real_false_block_rate"]}]
        + [{"model": f"single {c}", "SSIM to base": metrics["single_real"][c]["ssim_vs_base"],
            "false-block rate": metrics["single_real"][c]["false_block_rate"]} for c in categories],
        caption="benign real motion per model (each by its own threshold): a drop only in the fused row "
                "comes from the fusion, not from one adapter",
    )
    r.figure(
        bar_plot(
            {
                c: {"single": metrics["single_block_rate"][c], "fused": metrics["block_rate"][c]}
                for c in categories
            },
            "block rate",
            "block rate per unsafe category",
            ylim=RATE_RANGE,
        )
    )
    r.section(
        "Fidelity",
        "Mean per-frame SSIM / PSNR (8-bit, peak 255) of each model's output against ground "
        "truth, and against the base model's output for the same reference, poses and seed. Benign "
        f"fidelity change (fused vs base, SSIM to ground truth): "
        f"{metrics['benign_fidelity_change_pct']:+.2f} %; PSNR: {metrics['benign_psnr_change_pct']:+.2f} %.",
    )
    r.table(table, caption="TEST split, per model and group")
    r.section(
        "Robustness",
        "Block rate of the fused guard on perturbed copies of TEST clips, one perturbation "
        "family at a time (grid of poseguard.md 2.4). Mild-strength mean over unsafe clips: "
        f"{metrics['robust_block_rate_mild_mean']:.3f}; over benign and near-miss clips: "
        f"{metrics['robust_false_block_rate_mild_mean']:.3f}. Random combinations of 2-3 families: unsafe "
        f"{metrics['robust_block_rate_combo']:.3f}, benign and near-miss "
        f"{metrics['robust_false_block_rate_combo']:.3f}.",
    )
    if rob.empty:
        r.note("no robustness clips were evaluated (data/processed/poses/robustness.parquet empty or absent)")
    for family, curves in robustness_curves(rob).items():
        r.figure(line_plot(curves, f"{family} level", "block rate", f"robustness: {family}", ylim=RATE_RANGE))
    r.section("Examples", f"Columns: {GRID_COLUMNS}. Middle sampled frame of each clip.")
    for group, grid in grids.items():
        r.image(grid, caption=group, width=min(GRID_MAX_WIDTH, GRID_ZOOM * grid.shape[1]))
    r.section("Real poses (benign real motion, no ground truth)", real_note)
    return r
