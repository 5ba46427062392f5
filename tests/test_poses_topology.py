"""Skeleton layouts and MediaPipe-33 <-> COCO-17 / OpenPose-18 conversion."""

from __future__ import annotations

import numpy as np
import pytest

from safealign.poses import topology as t
from safealign.poses.convert import mediapipe_to_coco17, mediapipe_to_openpose18, openpose18_to_mediapipe


def _pose(rng: np.random.Generator, shape: tuple[int, ...] = ()) -> np.ndarray:
    pose = rng.random(shape + (33, 4)).astype(np.float32)
    pose[..., 3] = rng.uniform(0.5, 1.0, shape + (33,))
    return pose


def test_layout_tables_are_consistent() -> None:
    assert len(t.MP33_NAMES) == 33 and len(set(t.MP33_NAMES)) == 33
    assert t.MP33_NAMES[t.L_SHOULDER] == "left_shoulder" and t.MP33_NAMES[t.R_HIP] == "right_hip"
    assert len(t.MP33_CONNECTIONS) == 35
    assert len(t.OPENPOSE18_NAMES) == 18 == len(t.OPENPOSE_COLORS) == len(t.MP33_TO_OPENPOSE18)
    assert len(t.OPENPOSE_LIMBS) == 17
    for op_idx, mp_idx in enumerate(t.MP33_TO_OPENPOSE18):
        if mp_idx is not None:  # names agree once the left/right spelling is normalised
            assert t.MP33_NAMES[mp_idx] == t.OPENPOSE18_NAMES[op_idx]
    for coco_idx, mp_idx in enumerate(t.MP33_TO_COCO17):
        assert t.COCO17_NAMES[coco_idx] == t.MP33_NAMES[mp_idx]
    assert sorted(t.MP33_FLIP) == list(range(33))
    assert all(t.MP33_FLIP[t.MP33_FLIP[i]] == i for i in range(33))
    assert max(max(e) for e in t.FACE_CONTOURS) < t.FACE_N
    assert max(max(e) for e in t.FACE_IRIS_EDGES) < t.FACE_N_REFINED


def test_openpose18_round_trip_keeps_the_17_mapped_points() -> None:
    pose = _pose(np.random.default_rng(0), (4, 6))
    back = openpose18_to_mediapipe(mediapipe_to_openpose18(pose))
    mapped = [m for m in t.MP33_TO_OPENPOSE18 if m is not None]
    np.testing.assert_allclose(back[..., mapped, :2], pose[..., mapped, :2])
    np.testing.assert_allclose(back[..., mapped, 3], pose[..., mapped, 3])
    unmapped = sorted(set(range(33)) - set(mapped))
    assert np.isnan(back[..., unmapped, :3]).all() and (back[..., unmapped, 3] == 0).all()


def test_neck_is_shoulder_midpoint_only_when_both_shoulders_pass() -> None:
    pose = _pose(np.random.default_rng(1))
    op = mediapipe_to_openpose18(pose)
    np.testing.assert_allclose(op[t.OP_NECK, :2], (pose[t.L_SHOULDER, :2] + pose[t.R_SHOULDER, :2]) / 2)
    assert op[t.OP_NECK, 2] > 0.3
    pose[t.R_SHOULDER, 3] = 0.2
    op = mediapipe_to_openpose18(pose)
    assert op[t.OP_NECK, 2] == 0 and np.isnan(op[t.OP_NECK, :2]).all()


def test_missing_landmarks_stay_missing() -> None:
    pose = _pose(np.random.default_rng(2))
    pose[t.NOSE] = [np.nan, np.nan, np.nan, 0.0]
    pose[t.L_SHOULDER, :2] = np.nan
    op = mediapipe_to_openpose18(pose)
    assert op[0, 2] == 0 and np.isnan(op[0, :2]).all()
    assert op[5, 2] == 0 and op[t.OP_NECK, 2] == 0
    coco = mediapipe_to_coco17(pose)
    assert coco.shape == (17, 3) and coco[0, 2] == 0 and coco[5, 2] == 0
    np.testing.assert_allclose(coco[16, :2], pose[t.R_ANKLE, :2])


def test_wrong_shapes_are_refused_with_the_expected_shape() -> None:
    with pytest.raises(ValueError, match=r"\[\.\.\., 33, 4\]"):
        mediapipe_to_openpose18(np.zeros((17, 3)))
    with pytest.raises(ValueError, match=r"\[\.\.\., 18, 3\]"):
        openpose18_to_mediapipe(np.zeros((33, 4)))
