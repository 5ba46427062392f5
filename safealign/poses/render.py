"""Pose maps in the OpenPose / DWPose colour convention (poseguard.md section 3.4), at any resolution.

Procedure (as DWPose ``draw_bodypose``): on a black RGB canvas each limb whose two joints score above the
threshold is a filled ellipse in its colour; the canvas is scaled by 0.6; each visible joint is then a filled
disc in its full colour. Stick width and joint radius are 4 px at a 512-px short side and scale with the
canvas when not given, so 64-px maps stay legible. No anti-aliasing: every pixel is a palette colour.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from safealign.poses.convert import mediapipe_to_openpose18
from safealign.poses.topology import (
    FACE_CONTOURS,
    FACE_LEFT_IRIS_CENTER,
    FACE_N,
    FACE_RIGHT_IRIS_CENTER,
    OPENPOSE_COLORS,
    OPENPOSE_LIMB_DIM,
    OPENPOSE_LIMBS,
    OPENPOSE_REF_SIZE,
    OPENPOSE_THRESHOLD,
)

FACE_DOTS_MIN_SIZE = 256


def scaled_size(width: int, height: int, size_at_512: float) -> int:
    """A stroke size defined at a 512-px short side, scaled to this canvas (at least 1 px)."""
    return max(1, int(round(size_at_512 * min(width, height) / OPENPOSE_REF_SIZE)))


def render_openpose18(keypoints: np.ndarray, width: int, height: int, threshold: float = OPENPOSE_THRESHOLD,
                      stick_width: int | None = None, joint_radius: int | None = None,
                      canvas: np.ndarray | None = None) -> np.ndarray:
    """Draw OpenPose-18 keypoints ``[18, 3]`` (x, y normalised, confidence) -> uint8 RGB ``[H, W, 3]``.

    Points with NaN coordinates or confidence <= ``threshold`` are not drawn, nor limbs that touch them.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.shape != (18, 3):
        raise ValueError(f"render_openpose18: expected keypoints [18, 3], got {list(kp.shape)}")
    stick = stick_width if stick_width is not None else scaled_size(width, height, 4)
    radius = joint_radius if joint_radius is not None else scaled_size(width, height, 4)
    out = np.zeros((height, width, 3), np.uint8) if canvas is None else canvas
    visible = np.isfinite(kp[:, :2]).all(axis=1) & (np.nan_to_num(kp[:, 2]) > threshold)
    px = np.where(visible[:, None], kp[:, :2], 0.0) * np.array([width, height])
    limbs = np.zeros_like(out)
    for i, (a, b) in enumerate(OPENPOSE_LIMBS):
        if not (visible[a] and visible[b]):
            continue
        (xa, ya), (xb, yb) = px[a], px[b]
        length = math.hypot(xa - xb, ya - yb)
        angle = math.degrees(math.atan2(ya - yb, xa - xb))
        poly = cv2.ellipse2Poly((int((xa + xb) / 2), int((ya + yb) / 2)), (int(length / 2), stick),
                                int(angle), 0, 360, 1)
        cv2.fillConvexPoly(limbs, poly, OPENPOSE_COLORS[i])
    drawn = limbs.any(axis=-1)
    out[drawn] = (limbs[drawn] * OPENPOSE_LIMB_DIM).astype(np.uint8)
    for j in np.flatnonzero(visible):
        cv2.circle(out, (int(px[j, 0]), int(px[j, 1])), radius, OPENPOSE_COLORS[j], thickness=-1)
    return out


def render_openpose_map(pose: np.ndarray, width: int, height: int, threshold: float = OPENPOSE_THRESHOLD,
                        stick_width: int | None = None, joint_radius: int | None = None) -> np.ndarray:
    """Render one MediaPipe-33 pose ``[33, 4]`` as an OpenPose/DWPose body map, uint8 RGB ``[H, W, 3]``."""
    keypoints = mediapipe_to_openpose18(pose, threshold)
    return render_openpose18(keypoints, width, height, threshold, stick_width, joint_radius)


def render_openpose_sequence(poses: np.ndarray, width: int, height: int,
                             threshold: float = OPENPOSE_THRESHOLD,
                             stick_width: int | None = None, joint_radius: int | None = None) -> np.ndarray:
    """Render ``[T, 33, 4]`` poses -> uint8 ``[T, H, W, 3]`` pose maps."""
    keypoints = mediapipe_to_openpose18(poses, threshold)
    out = np.zeros((len(keypoints), height, width, 3), np.uint8)
    for t, kp in enumerate(keypoints):
        render_openpose18(kp, width, height, threshold, stick_width, joint_radius, canvas=out[t])
    return out


def render_face_map(face: np.ndarray, width: int, height: int, contours: bool = True,
                    color: tuple[int, int, int] = (255, 255, 255),
                    iris_color: tuple[int, int, int] = (0, 255, 255)) -> np.ndarray:
    """Render MediaPipe face-mesh landmarks ``[468 | 478, 3]`` (x, y normalised) -> uint8 RGB ``[H, W, 3]``.

    White contour lines (face oval, eyes, brows, lips) on black and, on canvases of at least
    ``FACE_DOTS_MIN_SIZE`` px, white landmark dots (the DWPose face convention). The iris centres of a
    refined mesh (478 points) are drawn in ``iris_color``, as Moore's landmark-guided variant marks pupils.
    NaN landmarks are skipped.
    """
    face = np.asarray(face, dtype=np.float64)
    if face.ndim != 2 or face.shape[0] not in (FACE_N, FACE_N + 10) or face.shape[1] < 2:
        raise ValueError(f"render_face_map: expected face landmarks [468|478, 3], got {list(face.shape)}")
    out = np.zeros((height, width, 3), np.uint8)
    ok = np.isfinite(face[:, :2]).all(axis=1)
    px = np.round(np.where(ok[:, None], face[:, :2], 0.0) * np.array([width, height])).astype(np.int32)
    thickness = scaled_size(width, height, 2)
    if contours:
        for a, b in FACE_CONTOURS:
            if ok[a] and ok[b]:
                cv2.line(out, tuple(px[a]), tuple(px[b]), color, thickness)
    if min(width, height) >= FACE_DOTS_MIN_SIZE:  # below this, 468 dots fill the face and hide the contours
        dot = scaled_size(width, height, 1) if min(width, height) >= OPENPOSE_REF_SIZE else 0
        for j in np.flatnonzero(ok[:FACE_N]):
            cv2.circle(out, tuple(px[j]), dot, color, thickness=-1)
    if face.shape[0] > FACE_N:
        for j in (FACE_RIGHT_IRIS_CENTER, FACE_LEFT_IRIS_CENTER):
            if ok[j]:
                cv2.circle(out, tuple(px[j]), scaled_size(width, height, 3), iris_color, thickness=-1)
    return out
