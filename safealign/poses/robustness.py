"""The robustness set: test clips under the perturbation grid of poseguard.md 2.4 plus random combinations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from safealign.poses.curate import Derived, Poses, batch_rngs, batches, collect, derived_rows
from safealign.layouts import BODY, get_layout
from safealign.poses.perturb import compose_time_maps, level_label, perturb_timed


def robustness_parents(df: pd.DataFrame, benign_clips: int, seed: int) -> pd.DataFrame:
    """Test clips for the robustness set: every unsafe and near-miss one plus up to ``benign_clips`` benign."""
    test = df[(df["split"] == "test") & (df["source"] != "augmented")]
    benign = test[test["label"] == "benign"]
    benign = benign.sample(n=min(benign_clips, len(benign)), random_state=seed) if len(benign) else benign
    return pd.concat([test[test["label"] != "benign"], benign]).sort_values("clip_id").reset_index(drop=True)


def build_robustness(parents: pd.DataFrame, poses: Poses, combos: int, rng: np.random.Generator,
                     threshold: float, layout: str = BODY) -> Derived:
    """Every parent (test) clip under each entry of the layout's grid (poseguard.md 2.4; for bodies
    ``PERTURBATION_GRID``), plus ``combos`` random combinations.

    Extra columns: ``family``, ``level`` (text, e.g. '-5.0' or 'hands') and ``level_value`` (float, NaN when
    the level is not a number). A combination applies 2-3 grid entries of different families in a row.
    """
    if (parents["split"] != "test").any():
        raise ValueError("build_robustness: parents must all be test clips (evaluation must not see training data)")
    grid = get_layout(layout).grid
    plan = [((fam, level),) for fam, level in grid]
    families = sorted({f for f, _ in grid})
    for _ in range(combos):
        chosen = rng.choice(families, size=int(rng.integers(2, 4)), replace=False)
        plan.append(tuple(_pick_level(str(f), rng, grid) for f in chosen))
    out_rows, out_poses, out_times = [], {}, {}
    rng_of = batch_rngs(rng)
    for key, batch in batches(parents):
        (_source, n_frames, width, height), rng = key, rng_of(key)
        stack = np.stack([poses[c] for c in batch["clip_id"]])
        for k, steps in enumerate(plan):
            y = stack
            src = np.broadcast_to(np.arange(n_frames, dtype=np.float64), (len(stack), n_frames))
            for family, level in steps:
                y, step_src = perturb_timed(y, family, level, rng, aspect=width / height, layout=layout)
                src = compose_time_maps(src, step_src)
            label = "+".join(level_label(f, lv) for f, lv in steps)
            if len(steps) == 1:
                family, level = steps[0][0], _level_text(steps[0][1])
            else:
                family, level = "combo", str(k - len(grid))
            tag = label.replace(":", "_") if family != "combo" else f"combo{level}"
            ids = [f"{c}__{tag}" for c in batch["clip_id"]]
            rows = derived_rows(batch, ids, "robustness", [label] * len(ids), "test", y, threshold)
            rows["family"] = family
            rows["level"] = level
            rows["level_value"] = _level_value(level) if family != "combo" else np.nan
            out_rows.append(rows)
            out_poses.update(zip(ids, y))
            out_times.update(zip(ids, src))
    return collect(out_rows, out_poses, out_times)


def _pick_level(family: str, rng: np.random.Generator, grid: tuple) -> tuple[str, float | str]:
    levels = [lv for f, lv in grid if f == family]
    return family, levels[int(rng.integers(len(levels)))]


def _level_text(level: float | str) -> str:
    return level if isinstance(level, str) else str(float(level))


def _level_value(level: str) -> float:
    try:
        return float(level)
    except ValueError:
        return float("nan")
