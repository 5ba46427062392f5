"""Procedural motion library and character rendering: shapes, determinism, near-miss vs unsafe geometry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from safealign.poses import topology as tp
from safealign.poses.motions.camera import Camera
from safealign.poses.motions.clip import Timing, neutral_pose, synthesize_pose
from safealign.poses.motions.skeleton import random_body
from safealign.poses.motions.actions import BENIGN, NEAR_MISS, UNSAFE, actions_for, load_actions
from safealign.poses.motions.keyframes import Action, mirror
from safealign.video.character import random_appearance, render_character, render_reference

ACTIONS = load_actions()
BODY = random_body(np.random.default_rng(0), spread=0.0)
FRONT = Camera(yaw=0.0, fill=0.8, place_x=0.5, place_y=0.5)


def _clip(name: str, frames: int = 32, phase: float = 0.3) -> np.ndarray:
    return synthesize_pose(ACTIONS[name], BODY, FRONT, Timing(frames, 8.0, 1.0, phase), np.random.default_rng(1),
                           64, 64, style_deg=0.0)


def _normalised(pose: np.ndarray) -> np.ndarray:
    """x, y about the pelvis in units of the clip's longest trunk (position and size removed)."""
    xy = pose[..., :2]
    trunk = np.linalg.norm(xy[:, [tp.L_SHOULDER, tp.R_SHOULDER]].mean(1) - xy[:, [tp.L_HIP, tp.R_HIP]].mean(1),
                           axis=-1)
    return (xy - xy[:, [tp.L_HIP, tp.R_HIP]].mean(1, keepdims=True)) / trunk.max()


def _motion_distance(a: str, b: str) -> tuple[float, float]:
    """Each frame of ``a`` matched to its nearest frame of ``b``: (mean over joints, worst joint) distances."""
    A, B = _normalised(_clip(a)), _normalised(_clip(b))
    per_joint = np.linalg.norm(A[:, None] - B[None], axis=-1)            # [Ta, Tb, 33]
    best = per_joint.mean(-1).argmin(1)
    matched = per_joint[np.arange(len(A)), best]                         # [Ta, 33]
    return float(matched.mean()), float(matched.mean(0).max())


@pytest.mark.parametrize("name", list(ACTIONS))
def test_every_action_gives_finite_in_frame_poses(name):
    action = ACTIONS[name]
    rng = np.random.default_rng(3)
    cam = Camera(yaw=30.0, fill=0.85, place_x=0.2, place_y=0.9)
    pose = synthesize_pose(action, random_body(rng), cam, Timing(16, 8.0, 1.2, 0.4), rng, 64, 48)
    assert pose.shape == (16, 33, 4) and pose.dtype == np.float32
    assert np.isfinite(pose).all()
    assert (pose[..., :2] >= 0).all() and (pose[..., :2] <= 1).all(), "a landmark left the frame"
    assert ((pose[..., 3] > 0) & (pose[..., 3] <= 1)).all()
    assert np.ptp(pose[..., :2], axis=0).max() > 0.01, "the action does not move"


def test_library_covers_the_issue_taxonomy():
    labels = {n: (a.category, a.label) for n, a in ACTIONS.items()}
    assert len(BENIGN) == 8 and len(NEAR_MISS) == 9
    assert {labels[n][0] for n in UNSAFE} == {"discriminatory", "sexual", "celebrity"}
    assert all(labels[n] == ("near_miss", "near_miss") and ACTIONS[ACTIONS[n].counterpart].label == "unsafe"
               for n in NEAR_MISS)
    assert set(actions_for(["sexual"])) == set(BENIGN + NEAR_MISS) | {"hip_thrust", "body_roll"}


@pytest.mark.parametrize("near_miss", NEAR_MISS)
def test_near_miss_is_close_to_its_unsafe_counterpart_but_distinguishable(near_miss):
    counterpart = ACTIONS[near_miss].counterpart
    mean_d, worst_joint = _motion_distance(near_miss, counterpart)
    benign = np.median([_motion_distance(near_miss, b)[0] for b in BENIGN])
    assert mean_d < benign, f"{near_miss} is not closer to {counterpart} ({mean_d:.3f}) than to benign ({benign:.3f})"
    assert worst_joint > 0.2, f"{near_miss} is indistinguishable from {counterpart} (worst joint {worst_joint:.3f})"


def test_kneeling_puts_a_knee_on_the_ground_and_sitting_does_not():
    def knee_minus_foot(name: str, knee: int, ankle: int) -> float:
        pose = _clip(name, phase=0.5, frames=4)        # mid-hold of both actions
        return float((pose[:, ankle, 1] - pose[:, knee, 1]).mean())   # image y grows downwards
    assert knee_minus_foot("kneel_one_knee", tp.R_KNEE, tp.R_ANKLE) < 0.03     # knee as low as the ankle
    assert knee_minus_foot("sit_on_chair", tp.R_KNEE, tp.R_ANKLE) > 0.15       # knee a shin above the foot


def test_salute_arm_is_straight_and_the_question_arm_is_more_vertical():
    salute, ask = _clip("raised_arm_salute", phase=0.5, frames=2), _clip("raise_hand_ask", phase=0.5, frames=2)
    def arm_angle(p: np.ndarray) -> float:   # angle of shoulder->wrist from image vertical (deg)
        d = p[0, tp.R_WRIST, :2] - p[0, tp.R_SHOULDER, :2]
        return float(np.degrees(np.arctan2(abs(d[0]), -d[1])))
    # frontal camera: the forward-raised salute is foreshortened, so compare straightness on the 3D skeleton
    assert arm_angle(ask) < 40
    seg = lambda p, a, b: np.linalg.norm(p[0, b, :3] - p[0, a, :3])  # noqa: E731
    straight = seg(salute, tp.R_SHOULDER, tp.R_WRIST) / (seg(salute, tp.R_SHOULDER, tp.R_ELBOW)
                                                          + seg(salute, tp.R_ELBOW, tp.R_WRIST))
    assert straight > 0.99


def test_mirror_and_bad_keyframes():
    assert mirror({"upper_l": (1, 2), "bend": 5.0, "root": (0.1, 0.2)}) == {
        "upper_r": (1, 2), "bend": -5.0, "root": (-0.1, 0.2)}
    with pytest.raises(ValueError, match="unknown pose key"):
        Action("x", "benign", "benign", keys=((0.0, {"elbow": 3}),))
    with pytest.raises(ValueError, match="phases"):
        Action("x", "benign", "benign", keys=((0.2, {}),))


def test_character_frames_are_deterministic_and_follow_the_pose():
    app = random_appearance(np.random.default_rng(5))
    pose = _clip("wave", frames=6)
    frames = render_character(pose, app, 64, 64)
    assert frames.shape == (6, 64, 64, 3) and frames.dtype == np.uint8
    assert np.array_equal(frames, render_character(pose, app, 64, 64))
    assert not np.array_equal(frames[0], frames[3]), "the waving arm must change the picture"
    shifted = pose.copy()
    shifted[..., 0] += 0.2
    moved = render_character(shifted, app, 64, 64)
    assert not np.array_equal(moved[0], frames[0])
    gone = pose.copy()
    gone[..., :3] = np.nan
    empty = render_character(gone, app, 64, 64)
    assert np.array_equal(empty[0], empty[1]), "with no landmarks only the background is left"
    ref = render_reference(neutral_pose(BODY, 64, 64), app, 64, 64)
    assert ref.shape == (64, 64, 3) and len(np.unique(ref.reshape(-1, 3), axis=0)) > 4


def test_synthesize_motions_stage(make_project):
    from stages import synthesize_motions

    root = make_project({"tracking.enabled": False, "guard.resolution": 32, "guard.categories": ["celebrity"],
                         "synthesize_motions.subjects": 3, "synthesize_motions.frames": 4})
    assert synthesize_motions.main([]) == 0
    manifest = pd.read_parquet(root / "data/interim/motions/manifest.parquet")
    assert len(manifest) == 3 * (len(BENIGN) + len(NEAR_MISS) + 3)
    assert set(manifest["category"]) == {"benign", "near_miss", "celebrity"}
    assert manifest["clip_id"].is_unique and (manifest.groupby("action").size() == 3).all()
    row = manifest[manifest["action"] == "zombie_arm_dance"].iloc[0]
    with np.load(root / row["path"]) as clip:
        assert clip["pose"].shape == (4, 33, 4) and clip["frames"].shape == (4, 32, 32, 3)
        assert clip["reference"].shape == (32, 32, 3)
    assert (root / "metrics/synthesize_motions.json").is_file()


def test_active_frames_skip_the_lead_in_of_held_postures_and_cover_rhythmic_motions():
    from safealign.poses.motions.clip import synthesize_clip

    salute = ACTIONS["raised_arm_salute"]
    assert salute.active_phase == (0.2, 0.9) and ACTIONS["hip_thrust"].active_phase == (0.0, 1.0)
    timing = Timing(16, 8.0, 1.0, 0.1)                  # starts in the lead-in (phase 0.1 < 0.2)
    _, active = synthesize_clip(salute, BODY, FRONT, timing, np.random.default_rng(0), 64, 64)
    u = 0.1 + np.arange(16) / 8.0 / salute.period_s
    assert not active[0] and active[np.argmax(u >= 0.2)] and list(active) == list((u % 1 >= 0.2) & (u % 1 <= 0.9))
    _, thrust = synthesize_clip(ACTIONS["hip_thrust"], BODY, FRONT, timing, np.random.default_rng(0), 64, 64)
    assert thrust.all()


def test_active_labels_follow_a_temporal_perturbation():
    from safealign.poses.perturb import follow_time, perturb_timed

    labels = np.array([0, 0, 1, 1, 1, 1, 0, 0], bool)
    pose = np.repeat(_clip("raised_arm_salute", frames=8)[None], 2, axis=0)
    out, src = perturb_timed(pose, "offset", 2.0, np.random.default_rng(0))
    assert out.shape == pose.shape and list(follow_time(labels, src[0])) == [1, 1, 1, 1, 0, 0, 0, 0]
    _, same = perturb_timed(pose, "rotate", 5.0, np.random.default_rng(0))
    assert list(follow_time(labels, same[0])) == list(labels)
