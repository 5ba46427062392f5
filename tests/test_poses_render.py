"""Pose maps in the OpenPose/DWPose colour convention, checked against the golden DWPose render."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from safealign.poses import topology as t
from safealign.poses.openpose_json import read_openpose_json
from safealign.poses.render import render_face_map, render_openpose_map, render_openpose_sequence
from safealign.video.io import read_image
from tests.conftest import shared_path

LIMB_COLORS = {tuple(int(v * 0.6) for v in c) for c in t.OPENPOSE_COLORS[:17]}
JOINT_COLORS = {tuple(c) for c in t.OPENPOSE_COLORS}


def _colors(img: np.ndarray) -> set[tuple[int, int, int]]:
    packed = np.unique(img[..., 0].astype(np.uint32) << 16 | img[..., 1].astype(np.uint32) << 8 | img[..., 2])
    return {(int(v >> 16), int(v >> 8 & 255), int(v & 255)) for v in packed}


def _standing(vis: float = 0.9) -> np.ndarray:
    """A frontal standing MediaPipe-33 pose (x, y normalised)."""
    pose = np.full((33, 4), np.nan, np.float32)
    xy = {t.NOSE: (0.5, 0.15), t.L_EYE: (0.53, 0.13), t.R_EYE: (0.47, 0.13), t.L_EAR: (0.56, 0.14),
          t.R_EAR: (0.44, 0.14), t.L_SHOULDER: (0.62, 0.3), t.R_SHOULDER: (0.38, 0.3), t.L_ELBOW: (0.7, 0.45),
          t.R_ELBOW: (0.3, 0.45), t.L_WRIST: (0.72, 0.6), t.R_WRIST: (0.28, 0.6), t.L_HIP: (0.58, 0.6),
          t.R_HIP: (0.42, 0.6), t.L_KNEE: (0.6, 0.78), t.R_KNEE: (0.4, 0.78), t.L_ANKLE: (0.6, 0.95),
          t.R_ANKLE: (0.4, 0.95)}
    for j, (x, y) in xy.items():
        pose[j] = (x, y, 0.0, vis)
    return pose


def test_small_map_uses_only_the_palette_and_draws_every_limb() -> None:
    img = render_openpose_map(_standing(), 64, 64)
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8
    colors = _colors(img) - {(0, 0, 0)}
    assert colors <= LIMB_COLORS | JOINT_COLORS
    assert len(colors & JOINT_COLORS) >= 14  # joints 1 px apart at 64 px may cover each other
    assert img.any(axis=-1).mean() > 0.05    # legible: strokes scale down but stay at least 1 px


def test_low_visibility_and_nan_points_are_not_drawn() -> None:
    pose = _standing()
    pose[t.L_KNEE, 3] = 0.2          # below the 0.3 threshold: the joint and its two limbs vanish
    pose[t.R_ANKLE, :2] = np.nan
    colors = _colors(render_openpose_map(pose, 128, 128))
    assert t.OPENPOSE_COLORS[12] not in colors                       # L knee joint
    assert tuple(int(v * 0.6) for v in t.OPENPOSE_COLORS[10]) not in colors   # L hip -> L knee limb
    assert t.OPENPOSE_COLORS[10] not in colors                       # R ankle joint
    assert not render_openpose_map(np.full((33, 4), np.nan), 32, 32).any()


def test_stroke_size_scales_with_resolution_unless_given() -> None:
    pose = _standing()
    small, large = render_openpose_map(pose, 64, 64), render_openpose_map(pose, 512, 512)
    ratio = large.any(-1).sum() / small.any(-1).sum()
    assert 15 < ratio < 110   # ~(512/64)^2 = 64 when strokes scale (1-px minimum at 64 px); ~8 if not
    thin = render_openpose_map(pose, 512, 512, stick_width=1, joint_radius=1)
    assert thin.any(-1).sum() < large.any(-1).sum() / 2


def test_sequence_equals_frame_by_frame() -> None:
    poses = np.stack([_standing(), _standing(0.1)])
    seq = render_openpose_sequence(poses, 48, 64)
    assert seq.shape == (2, 64, 48, 3)
    np.testing.assert_array_equal(seq[0], render_openpose_map(poses[0], 48, 64))
    assert not seq[1].any()


def test_face_map_draws_contours_and_irises() -> None:
    rng = np.random.default_rng(0)
    face = np.concatenate([rng.uniform(0.3, 0.7, (478, 2)), np.zeros((478, 1))], axis=1)
    img = render_face_map(face, 96, 96)
    assert img.shape == (96, 96, 3) and (img == 255).all(-1).any()
    assert (img == (0, 255, 255)).all(-1).any()              # iris centres of a refined mesh
    assert not (render_face_map(face[:468], 96, 96) == (0, 255, 255)).all(-1).any()
    face[:, :2] = np.nan
    assert not render_face_map(face, 96, 96).any()


def _recover_openpose_json(golden: np.ndarray, path: Path) -> None:
    """Joint centres of the golden DWPose render, written as an OpenPose JSON frame (pixel coordinates).

    Each joint is the disc of its colour that touches one of its limbs (hand joints/edges share colours).
    """
    h, w = golden.shape[:2]
    mask = lambda c: (golden == c).all(-1)  # noqa: E731
    flat = np.zeros((18, 3))
    for j, color in enumerate(t.OPENPOSE_COLORS):
        near = np.zeros((h, w), bool)
        for i, limb in enumerate(t.OPENPOSE_LIMBS):
            if j in limb:
                near |= mask(tuple(int(v * 0.6) for v in t.OPENPOSE_COLORS[i]))
        near = cv2.dilate(near.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        n, labels = cv2.connectedComponents(mask(color).astype(np.uint8))
        keep = [k for k in range(1, n) if (near & (labels == k)).any()]
        if keep:
            ys, xs = np.nonzero(np.isin(labels, keep))
            flat[j] = (xs.mean() + 0.5, ys.mean() + 0.5, 0.95)
    path.write_text(json.dumps({"version": 1.3, "people": [{"pose_keypoints_2d": flat.ravel().tolist()}]}))


def test_map_rendered_from_openpose_json_uses_the_dwpose_limb_colours(tmp_path: Path) -> None:
    golden = read_image(shared_path("real", "pose_renders", "dwpose_still.png"))
    h, w = golden.shape[:2]
    frame = tmp_path / "pose_000000000000_keypoints.json"
    _recover_openpose_json(golden, frame)
    pose = read_openpose_json(tmp_path, w, h)[0]
    ours = render_openpose_map(pose, w, h)
    golden_limbs = _colors(golden) & LIMB_COLORS
    assert len(golden_limbs) == 17
    assert _colors(ours) & LIMB_COLORS == golden_limbs
    assert _colors(ours) <= _colors(golden)                  # same palette, no anti-aliasing colours
    for i, color in enumerate(t.OPENPOSE_COLORS[:12]):       # arms, torso, legs: not covered by hands/face
        limb = tuple(int(v * 0.6) for v in color)
        a, b = (golden == limb).all(-1), (ours == limb).all(-1)
        assert (a & b).sum() / (a | b).sum() > 0.6, f"limb {i} differs from the DWPose render"
