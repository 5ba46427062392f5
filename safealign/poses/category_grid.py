"""A contact sheet of the curated data: per action, a few ground-truth frames next to their pose maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from safealign.poses.render import render_openpose_sequence
from safealign.video.grid import image_grid


def categories_grid(manifest: pd.DataFrame, root: Path, n_frames: int, cell: int = 64) -> np.ndarray:
    """One row per (category, action): ``n_frames`` RGB frames (when the clip has them) then their pose maps.

    One original clip per action is shown (subjects vary by row); real clips without frames show pose maps only.
    """
    originals = manifest[manifest["parent_clip_id"] == ""].sort_values(["label", "category", "action", "clip_id"])
    rows, labels = [], []
    for (category, action), group in originals.groupby(["category", "action"], sort=False):
        row = group.iloc[len(rows) % len(group)]   # a different subject per row, for variety
        with np.load(root / row["path"], allow_pickle=False) as data:
            pose = np.asarray(data["pose"], dtype=np.float32)
            frames = np.asarray(data["frames"]) if "frames" in data else None
        pick = np.linspace(0, len(pose) - 1, n_frames).round().astype(int)
        height = cell
        width = max(1, round(cell * row["width"] / row["height"]))
        maps = render_openpose_sequence(pose[pick], width, height)
        cells = [frames[i] for i in pick] if frames is not None else []
        rows.append(cells + list(maps))
        labels.append(f"{category}/{action}")
    if not rows:
        raise ValueError("categories_grid: the manifest has no clips to show")
    return image_grid(rows, labels=labels)
