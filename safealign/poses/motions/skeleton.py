"""Kinematic MediaPipe-33 skeleton: body proportions and forward kinematics from keyframe parameters.

World frame (units: body heights): X to the camera's right, Y up, Z towards the camera. A subject facing
the camera has its left side at +X, as in MediaPipe images. Segment directions follow ``keyframes``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from safealign.poses import topology as tp
from safealign.poses.motions.keyframes import KEY_SLICES

# Segment lengths as fractions of body height (Drillis & Contini anthropometry, rounded).
STANDARD_PROPORTIONS: dict[str, float] = {
    "trunk": 0.29, "shoulder_width": 0.23, "hip_width": 0.12, "neck": 0.11, "head": 0.065,
    "upper_arm": 0.186, "forearm": 0.146, "hand": 0.075, "thigh": 0.245, "shank": 0.246,
    "foot": 0.13, "ankle_height": 0.04,
}


@dataclass(frozen=True)
class Body:
    """Segment lengths of one subject (body heights)."""

    lengths: dict[str, float]


def random_body(rng: np.random.Generator, spread: float = 0.06) -> Body:
    """A body whose segment lengths vary around the standard proportions (relative sd ``spread``)."""
    lengths = {k: v * float(np.clip(rng.normal(1.0, spread), 1 - 3 * spread, 1 + 3 * spread))
               for k, v in STANDARD_PROPORTIONS.items()}
    return Body(lengths)


def _seg_dir(angles: np.ndarray, side_sign: float) -> np.ndarray:
    """Unit directions [T, 3] from (side, front) degrees [T, 2]; ``side_sign`` +1 = subject's left."""
    side, front = np.radians(angles[:, 0]), np.radians(angles[:, 1])
    return np.stack([side_sign * np.sin(side), -np.cos(side) * np.cos(front), np.cos(side) * np.sin(front)], -1)


def _rot_y(points: np.ndarray, deg: np.ndarray) -> np.ndarray:
    """Rotate points [T, N, 3] about the vertical axis by ``deg`` [T] (positive turns the subject's face to +X)."""
    a = np.radians(deg)[:, None]
    x, z = points[..., 0], points[..., 2]
    return np.stack([x * np.cos(a) + z * np.sin(a), points[..., 1], -x * np.sin(a) + z * np.cos(a)], -1)


def forward_kinematics(params: np.ndarray, body: Body) -> np.ndarray:
    """World joint positions [T, 33, 3] for keyframe parameter vectors [T, POSE_DIM], pelvis at the origin.

    The body yaw key is applied; ground contact, lift and root travel are left to ``place_on_ground``.
    """
    L, T = body.lengths, params.shape[0]
    p = {k: params[:, sl] for k, sl in KEY_SLICES.items()}
    out = np.zeros((T, tp.N_MP33, 3))
    lean, bend = np.radians(p["lean"][:, 0]), np.radians(p["bend"][:, 0])
    trunk = np.stack([np.sin(bend), np.cos(bend) * np.cos(lean), np.cos(bend) * np.sin(lean)], -1)
    across = np.stack([np.cos(bend), -np.sin(bend), np.zeros(T)], -1)  # the shoulders' left direction
    neck_base = L["trunk"] * trunk
    for s, (sh, el, wr, pk, ix, th, hip, kn, an, he, fi) in (
        (1.0, (tp.L_SHOULDER, tp.L_ELBOW, tp.L_WRIST, tp.L_PINKY, tp.L_INDEX, tp.L_THUMB, tp.L_HIP, tp.L_KNEE,
               tp.L_ANKLE, tp.L_HEEL, tp.L_FOOT_INDEX)),
        (-1.0, (tp.R_SHOULDER, tp.R_ELBOW, tp.R_WRIST, tp.R_PINKY, tp.R_INDEX, tp.R_THUMB, tp.R_HIP, tp.R_KNEE,
                tp.R_ANKLE, tp.R_HEEL, tp.R_FOOT_INDEX)),
    ):
        tag = "l" if s > 0 else "r"
        out[:, sh] = neck_base + s * L["shoulder_width"] / 2 * across
        upper, fore = _seg_dir(p[f"upper_{tag}"], s), _seg_dir(p[f"fore_{tag}"], s)
        out[:, el] = out[:, sh] + L["upper_arm"] * upper
        out[:, wr] = out[:, el] + L["forearm"] * fore
        palm = np.cross(fore, np.array([0.0, 0.0, 1.0]))  # the hand's width axis, across the forearm
        palm /= np.maximum(np.linalg.norm(palm, axis=-1, keepdims=True), 1e-6)
        out[:, ix] = out[:, wr] + L["hand"] * fore - 0.15 * L["hand"] * s * palm
        out[:, pk] = out[:, wr] + 0.85 * L["hand"] * fore + 0.25 * L["hand"] * s * palm
        out[:, th] = out[:, wr] + 0.5 * L["hand"] * fore - 0.35 * L["hand"] * s * palm
        out[:, hip] = np.array([s * L["hip_width"] / 2, 0.0, 0.0])
        out[:, kn] = out[:, hip] + L["thigh"] * _seg_dir(p[f"thigh_{tag}"], s)
        shank = _seg_dir(p[f"shank_{tag}"], s)
        out[:, an] = out[:, kn] + L["shank"] * shank
        foot_front = np.radians(p[f"foot_{tag}"][:, 0])
        foot = np.stack([np.zeros(T), -np.cos(foot_front), np.sin(foot_front)], -1)
        out[:, he] = out[:, an] + L["ankle_height"] * shank - 0.25 * L["foot"] * foot
        out[:, fi] = out[:, an] + L["ankle_height"] * shank + 0.75 * L["foot"] * foot
    _place_face(out, trunk, np.radians(p["lean"][:, 0] + p["head"][:, 0]), neck_base, L)
    return _rot_y(out, p["yaw"][:, 0])


def _place_face(out: np.ndarray, trunk: np.ndarray, pitch: np.ndarray, neck_base: np.ndarray,
                L: dict[str, float]) -> None:
    up = np.stack([trunk[:, 0], np.cos(pitch), np.sin(pitch)], -1)
    fwd = np.stack([np.zeros_like(pitch), -np.sin(pitch), np.cos(pitch)], -1)
    left = np.array([1.0, 0.0, 0.0])
    centre = neck_base + L["neck"] * up
    h = L["head"]
    offsets = {  # (left, up, forward) in head radii
        tp.NOSE: (0, 0, 1.0), tp.L_EYE_INNER: (0.2, 0.35, 0.9), tp.L_EYE: (0.38, 0.35, 0.85),
        tp.L_EYE_OUTER: (0.55, 0.35, 0.75), tp.R_EYE_INNER: (-0.2, 0.35, 0.9), tp.R_EYE: (-0.38, 0.35, 0.85),
        tp.R_EYE_OUTER: (-0.55, 0.35, 0.75), tp.L_EAR: (0.95, 0.15, 0.0), tp.R_EAR: (-0.95, 0.15, 0.0),
        tp.MOUTH_L: (0.3, -0.45, 0.85), tp.MOUTH_R: (-0.3, -0.45, 0.85),
    }
    for idx, (a, b, c) in offsets.items():
        out[:, idx] = centre + h * (a * left + b * up + c * fwd)


def place_on_ground(world: np.ndarray, lift: np.ndarray, root: np.ndarray) -> np.ndarray:
    """Anchor the feet: mean ankle at (root x, root z), lowest contact point (knee or foot) at height ``lift``."""
    contacts = [tp.L_KNEE, tp.R_KNEE, tp.L_ANKLE, tp.R_ANKLE, tp.L_HEEL, tp.R_HEEL, tp.L_FOOT_INDEX,
                tp.R_FOOT_INDEX]
    feet = world[:, [tp.L_ANKLE, tp.R_ANKLE]].mean(axis=1)
    shift = np.stack([root[:, 0] - feet[:, 0], lift - world[:, contacts, 1].min(axis=1), root[:, 1] - feet[:, 2]], -1)
    return world + shift[:, None, :]
