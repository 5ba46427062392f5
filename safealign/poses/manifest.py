"""The pose-clip manifest schema (pose_contract.md): column order, label and split sets, visibility summary."""

from __future__ import annotations

import numpy as np

MANIFEST_COLUMNS = [
    "clip_id", "source", "subject", "category", "label", "action", "path", "parent_clip_id", "augmentation",
    "split", "fps", "width", "height", "n_frames", "visible_fraction",
]
SPLITS = ("train", "val", "test")
LABELS = ("benign", "near_miss", "unsafe")


def visible_fractions(poses: np.ndarray, threshold: float) -> np.ndarray:
    """Per clip of ``poses`` [N, T, 33, 4]: fraction of (frame, landmark) entries present with visibility
    >= ``threshold``."""
    ok = np.isfinite(poses[..., :2]).all(axis=-1) & (np.nan_to_num(poses[..., 3]) >= threshold)
    return ok.reshape(len(poses), -1).mean(axis=1) if ok.size else np.zeros(len(poses))


def visible_fraction(pose: np.ndarray, threshold: float) -> float:
    """``visible_fractions`` of one clip [T, 33, 4] (0 for an empty clip)."""
    return float(visible_fractions(pose[None], threshold)[0])
