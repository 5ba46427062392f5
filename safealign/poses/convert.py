"""Conversion between MediaPipe-33 (canonical), COCO-17 and OpenPose-18 keypoint arrays (vectorised).

MediaPipe-33: ``[..., 33, 4]`` (x, y, z, visibility), missing = NaN coordinates with visibility 0.
COCO-17 / OpenPose-18: ``[..., K, 3]`` (x, y, confidence), missing = NaN coordinates with confidence 0.
"""

from __future__ import annotations

import numpy as np

from safealign.poses.topology import (
    L_SHOULDER,
    MP33_TO_COCO17,
    MP33_TO_OPENPOSE18,
    N_MP33,
    N_OPENPOSE18,
    OP_NECK,
    OPENPOSE_THRESHOLD,
    R_SHOULDER,
)

_OP_SLOTS = np.array([i for i, m in enumerate(MP33_TO_OPENPOSE18) if m is not None])
_OP_SOURCES = np.array([m for m in MP33_TO_OPENPOSE18 if m is not None])


def _check(pose: np.ndarray, k: int, c: int, what: str) -> np.ndarray:
    pose = np.asarray(pose, dtype=np.float32)
    if pose.ndim < 2 or pose.shape[-2:] != (k, c):
        raise ValueError(f"{what}: expected shape [..., {k}, {c}], got {list(pose.shape)}")
    return pose


def _xyc(pose: np.ndarray, index: np.ndarray | tuple[int, ...]) -> np.ndarray:
    """Pick MediaPipe landmarks as (x, y, conf); NaN coordinates get confidence 0."""
    picked = pose[..., list(index), :]
    out = np.concatenate([picked[..., :2], picked[..., 3:4]], axis=-1)
    missing = ~np.isfinite(out[..., :2]).all(axis=-1)
    out[..., 2] = np.where(missing | ~np.isfinite(out[..., 2]), 0.0, out[..., 2])
    out[missing, :2] = np.nan
    return out


def mediapipe_to_coco17(pose: np.ndarray) -> np.ndarray:
    """``[..., 33, 4]`` MediaPipe -> ``[..., 17, 3]`` COCO-17 (x, y, visibility as confidence)."""
    return _xyc(_check(pose, N_MP33, 4, "mediapipe_to_coco17"), MP33_TO_COCO17)


def mediapipe_to_openpose18(pose: np.ndarray, threshold: float = OPENPOSE_THRESHOLD) -> np.ndarray:
    """``[..., 33, 4]`` MediaPipe -> ``[..., 18, 3]`` OpenPose-18.

    The neck is the shoulder midpoint; as in DWPose it is visible only when both shoulders score above
    ``threshold`` (its confidence is then the lower shoulder score, else 0 with NaN coordinates).
    """
    pose = _check(pose, N_MP33, 4, "mediapipe_to_openpose18")
    out = np.full(pose.shape[:-2] + (N_OPENPOSE18, 3), np.nan, dtype=np.float32)
    out[..., _OP_SLOTS, :] = _xyc(pose, tuple(_OP_SOURCES))
    shoulders = _xyc(pose, (L_SHOULDER, R_SHOULDER))
    both = (shoulders[..., 2] > threshold).all(axis=-1)
    neck_xy = shoulders[..., :2].mean(axis=-2)
    out[..., OP_NECK, :2] = np.where(both[..., None], neck_xy, np.nan)
    out[..., OP_NECK, 2] = np.where(both, shoulders[..., 2].min(axis=-1), 0.0)
    return out


def openpose18_to_mediapipe(keypoints: np.ndarray) -> np.ndarray:
    """``[..., 18, 3]`` OpenPose-18 -> ``[..., 33, 4]`` MediaPipe (z = 0; unmapped or zero-confidence = NaN).

    The neck has no MediaPipe slot and is dropped (it is recomputed from the shoulders when rendering).
    """
    keypoints = _check(keypoints, N_OPENPOSE18, 3, "openpose18_to_mediapipe")
    out = np.full(keypoints.shape[:-2] + (N_MP33, 4), np.nan, dtype=np.float32)
    out[..., 3] = 0.0
    src = keypoints[..., _OP_SLOTS, :]
    present = (src[..., 2] > 0) & np.isfinite(src[..., :2]).all(axis=-1)
    values = np.concatenate([src[..., :2], np.zeros_like(src[..., :1]), src[..., 2:3]], axis=-1)
    missing = np.array([np.nan, np.nan, np.nan, 0.0], dtype=np.float32)
    out[..., _OP_SOURCES, :] = np.where(present[..., None], values, missing)
    return out
