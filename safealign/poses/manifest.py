"""The pose-clip manifest schema (pose_contract.md): column order, label and split sets, visibility summary."""

from __future__ import annotations

import numpy as np

MANIFEST_COLUMNS = [
    "clip_id", "source", "subject", "category", "label", "action", "path", "parent_clip_id", "augmentation",
    "split", "fps", "width", "height", "n_frames", "visible_fraction", "yaw",
]
# Canonical column types: a manifest is written with these whatever the rows came from, so equal content
# gives equal parquet bytes (DVC then keeps downstream stages cached). yaw: camera yaw in degrees where the
# source knows it (synthetic clips), NaN elsewhere.
FLOAT_COLUMNS = ("fps", "visible_fraction", "yaw", "level_value")
INT_COLUMNS = ("width", "height", "n_frames")
SPLITS = ("train", "val", "test")
LABELS = ("benign", "near_miss", "unsafe")


def canonical(df: "pd.DataFrame") -> "pd.DataFrame":
    """``df`` with canonical dtypes: numbers as float64 / int64, every other column as Python strings."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if col in FLOAT_COLUMNS:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
        elif col in INT_COLUMNS:
            out[col] = pd.to_numeric(out[col]).astype("int64")
        elif not pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v)
                                    ).astype(object)
    return out.reset_index(drop=True)


def visible_fractions(poses: np.ndarray, threshold: float) -> np.ndarray:
    """Per clip of ``poses`` [N, T, 33, 4]: fraction of (frame, landmark) entries present with visibility
    >= ``threshold``."""
    ok = np.isfinite(poses[..., :2]).all(axis=-1) & (np.nan_to_num(poses[..., 3]) >= threshold)
    return ok.reshape(len(poses), -1).mean(axis=1) if ok.size else np.zeros(len(poses))


def visible_fraction(pose: np.ndarray, threshold: float) -> float:
    """``visible_fractions`` of one clip [T, 33, 4] (0 for an empty clip)."""
    return float(visible_fractions(pose[None], threshold)[0])
