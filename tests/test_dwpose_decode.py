"""Keypoints decoded from OpenPose / DWPose renders: known poses rendered, decoded, compared."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from safealign.errors import InputError
from safealign.poses.convert import mediapipe_to_openpose18
from safealign.poses.dwpose_decode import decode_openpose_render, read_pose_render
from safealign.poses.dwpose_palette import BLACK, LIMB_OFFSET, UNKNOWN, WHITE, classify_pixels, palette
from safealign.poses.render import render_openpose18, render_openpose_sequence, scaled_size
from safealign.poses.topology import OPENPOSE_COLORS, OPENPOSE_THRESHOLD
from safealign.video.io import read_video, save_png, write_video
from tests.conftest import shared_path

SIZES = [(512, 768), (256, 256), (128, 192)]
FACE_JOINTS = (0, 14, 15, 16, 17)   # nose, eyes, ears: under DWPose face dots
MAX_MEAN_ERROR = 0.02               # of the short side


@lru_cache(maxsize=1)
def _poses() -> np.ndarray:
    """MediaPipe-33 poses [12, 33, 4] of three actions (standing, kneeling, arm raised), turned cameras."""
    from safealign.poses.motions.actions import load_actions
    from safealign.poses.motions.camera import random_camera
    from safealign.poses.motions.clip import Timing, synthesize_clip
    from safealign.poses.motions.dataset import make_subjects

    subjects, actions, out = make_subjects(3, 0, 0.06), load_actions(), []
    for k, name in enumerate(("walk", "kneel_one_knee", "raised_arm_salute")):
        rng = np.random.default_rng(k)
        pose, _ = synthesize_clip(actions[name], subjects[k].body, random_camera(rng, 30, (0.6, 0.9)),
                                  Timing(4, 4, 1.0, 0.2), rng, 256, 256)
        out.append(pose)
    return np.concatenate(out)


def _truth() -> tuple[np.ndarray, np.ndarray]:
    """OpenPose-18 truth of ``_poses`` and which joints the renderer draws."""
    truth = mediapipe_to_openpose18(_poses())
    return truth, np.isfinite(truth[..., 0]) & (truth[..., 2] > OPENPOSE_THRESHOLD)


def _unhidden(maps: np.ndarray, truth: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """Drawn joints whose disc still shows a third of its pixels in the clean render (not under later
    discs)."""
    h, w = maps.shape[1:3]
    r = scaled_size(w, h, 4)
    disc = cv2.circle(np.zeros((2 * r + 1, 2 * r + 1), np.uint8), (r, r), r, 1, -1).astype(bool)
    padded = np.pad(maps, ((0, 0), (r, r), (r, r), (0, 0)))
    out = np.zeros_like(drawn)
    for t, j in zip(*np.nonzero(drawn)):
        x, y = int(truth[t, j, 0] * w), int(truth[t, j, 1] * h)
        window = padded[t, y:y + 2 * r + 1, x:x + 2 * r + 1]
        out[t, j] = ((window == OPENPOSE_COLORS[j]).all(-1) & disc).sum() >= disc.sum() / 3
    return out


def _draw_dwpose_extras(maps: np.ndarray, poses: np.ndarray) -> np.ndarray:
    """DWPose's additions drawn as DWPose does: per hand 20 edges in HSV colours (thickness 2 at 512) then 21
    (0, 0, 255) joint discs just beyond the wrist, and white face dots (radius 3 at 512) around the nose."""
    out = maps.copy()
    kp = mediapipe_to_openpose18(poses)
    h, w = out.shape[1:3]
    r, thick, dot = scaled_size(w, h, 4), scaled_size(w, h, 2), scaled_size(w, h, 3)
    for t in range(len(out)):
        p = kp[t, :, :2] * (w, h)
        ok = np.isfinite(p).all(-1) & (kp[t, :, 2] > OPENPOSE_THRESHOLD)
        for elbow, wrist in ((3, 4), (6, 7)):
            if ok[elbow] and ok[wrist]:
                _draw_hand(out[t], p[elbow], p[wrist], r, thick)
        if ok[0] and ok[1]:
            head = np.linalg.norm(p[0] - p[1])
            for a in np.linspace(0, 2 * np.pi, 17)[:-1]:
                q = p[0] + head * np.array([0.45 * np.cos(a), 0.55 * np.sin(a)])
                cv2.circle(out[t], tuple(int(v) for v in q), dot, (255, 255, 255), -1)
    return out


def _draw_hand(canvas: np.ndarray, elbow: np.ndarray, wrist: np.ndarray, r: int, thick: int) -> None:
    forearm = wrist - elbow
    length = max(float(np.linalg.norm(forearm)), 1e-6)
    u = forearm / length
    n = np.array([-u[1], u[0]])
    root = wrist + u * r
    points = [root] + [root + (u * np.cos((f - 2) * 0.35) + n * np.sin((f - 2) * 0.35)) * 0.12 * length * k
                       for f in range(5) for k in range(1, 5)]
    edges = [(0, 1 + 4 * f) if k == 0 else (4 * f + k, 4 * f + k + 1) for f in range(5) for k in range(4)]
    for e, (a, b) in enumerate(edges):
        hsv = np.uint8([[[int(e / 20 * 180), 255, 255]]])
        colour = tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])
        cv2.line(canvas, tuple(int(v) for v in points[a]), tuple(int(v) for v in points[b]), colour, thick)
    for q in points:
        cv2.circle(canvas, tuple(int(v) for v in q), r, (0, 0, 255), -1)


def _mp4_round_trip(maps: np.ndarray, tmp_path: Path) -> np.ndarray:
    path = write_video(tmp_path / "render.mp4", maps, 8)
    return read_video(path)[0]


def _errors(decoded: np.ndarray, truth: np.ndarray, both: np.ndarray, w: int, h: int) -> np.ndarray:
    """Pixel distance of decoded and true joints where both exist, as a share of the short side."""
    return np.linalg.norm((decoded[..., :2] - truth[..., :2]) * (w, h), axis=-1)[both] / min(w, h)


def _check(maps: np.ndarray, w: int, h: int, min_recall: float, joints: tuple[int, ...] = tuple(range(18))
           ) -> tuple[float, float]:
    """Decode ``maps`` (rendered from ``_poses``): no joint the renderer did not draw, ``min_recall`` of the
    unhidden drawn ``joints`` found, mean error under ``MAX_MEAN_ERROR``; returns (recall, mean error)."""
    truth, drawn = _truth()
    clean = render_openpose_sequence(_poses(), w, h)
    wanted = _unhidden(clean, truth, drawn)[:, list(joints)]
    decoded = np.stack([decode_openpose_render(m) for m in maps])
    found = decoded[..., 2] > 0
    assert not (found & ~drawn).any(), f"joints found that were not drawn: {np.argwhere(found & ~drawn)}"
    recall = float(found[:, list(joints)][wanted].mean())
    error = _errors(decoded, truth, found & drawn, w, h)
    assert recall >= min_recall, f"{w}x{h}: found {recall:.3f} of the visible joints"
    assert error.mean() < MAX_MEAN_ERROR, f"{w}x{h}: mean error {error.mean():.4f} of the short side"
    assert decoded.dtype == np.float32 and decoded.shape == (len(maps), 18, 3)
    assert np.isnan(decoded[~found][:, :2]).all() and (decoded[~found][:, 2] == 0).all()
    assert ((decoded[found][:, 2] > 0) & (decoded[found][:, 2] <= 1)).all()
    return recall, float(error.mean())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_rendered_poses_decode_to_their_joints(size: tuple[int, int]) -> None:
    w, h = size
    _check(render_openpose_sequence(_poses(), w, h), w, h, min_recall=1.0)


@pytest.mark.parametrize("size", SIZES[:2], ids=lambda s: f"{s[0]}x{s[1]}")
def test_rendered_poses_decode_after_an_mp4_round_trip(size: tuple[int, int], tmp_path: Path) -> None:
    w, h = size
    _check(_mp4_round_trip(render_openpose_sequence(_poses(), w, h), tmp_path), w, h, min_recall=0.97)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_hands_and_face_dots_do_not_mislead_the_body(size: tuple[int, int]) -> None:
    w, h = size
    maps = _draw_dwpose_extras(render_openpose_sequence(_poses(), w, h), _poses())
    body = tuple(j for j in range(18) if j not in FACE_JOINTS)
    _check(maps, w, h, min_recall=0.97, joints=body)


@pytest.mark.parametrize("size", SIZES[:2], ids=lambda s: f"{s[0]}x{s[1]}")
def test_hands_and_face_dots_after_an_mp4_round_trip(size: tuple[int, int], tmp_path: Path) -> None:
    w, h = size
    maps = _draw_dwpose_extras(render_openpose_sequence(_poses(), w, h), _poses())
    body = tuple(j for j in range(18) if j not in FACE_JOINTS)
    _check(_mp4_round_trip(maps, tmp_path), w, h, min_recall=0.95, joints=body)


def test_a_wrist_under_a_hand_and_a_knee_among_hand_joints() -> None:
    w, h = 256, 384
    truth, drawn = _truth()
    t = 0
    canvas = render_openpose18(truth[t], w, h)
    p = truth[t, :, :2] * (w, h)
    cv2.circle(canvas, tuple(int(v) for v in p[4]), 6, (0, 0, 255), -1)          # a hand hides the wrist
    for dx in (-9, 9):                                                            # hand joints by the knee
        cv2.circle(canvas, (int(p[12, 0]) + dx, int(p[12, 1]) - 7), 2, (0, 0, 255), -1)
    decoded = decode_openpose_render(canvas)
    assert drawn[t, 4] and drawn[t, 12]
    for j in (4, 12):
        assert decoded[j, 2] > 0
        assert np.linalg.norm((decoded[j, :2] - truth[t, j, :2]) * (w, h)) < 0.02 * min(w, h)


def test_blank_frame_and_a_few_joints_are_no_body() -> None:
    assert (decode_openpose_render(np.zeros((64, 96, 3), np.uint8))[:, 2] == 0).all()
    truth, _ = _truth()
    three = truth[0].copy()
    three[3:, :2], three[3:, 2] = np.nan, 0.0                    # nose, neck, right shoulder only
    decoded = decode_openpose_render(render_openpose18(three, 256, 256))
    assert np.isnan(decoded[:, :2]).all() and (decoded[:, 2] == 0).all()


def _photo_like(h: int = 240, w: int = 320) -> np.ndarray:
    """Not a render: a lit scene with smooth colour gradients, noise and some saturated objects."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([120 + 80 * xx, 90 + 60 * yy, 140 - 50 * xx * yy], -1) + rng.normal(0, 12, (h, w, 3))
    img = np.clip(img, 0, 255).astype(np.uint8)
    for k, colour in enumerate(OPENPOSE_COLORS[::3]):
        cv2.circle(img, (30 + 45 * k, 60 + 20 * (k % 3)), 4, colour, -1)
    return img


def test_a_photo_is_refused_naming_the_file_and_the_alternatives(tmp_path: Path) -> None:
    image = save_png(tmp_path / "photo.png", _photo_like())
    video = write_video(tmp_path / "clip.mp4", np.stack([_photo_like()] * 3), 8)
    for path in (image, video):
        with pytest.raises(InputError) as err:
            read_pose_render(path)
        message = str(err.value)
        assert str(path) in message and "OpenPose JSON" in message and ".npz" in message


def test_read_pose_render_gives_mediapipe_poses_and_fps(tmp_path: Path) -> None:
    w, h = 256, 256
    maps = render_openpose_sequence(_poses(), w, h)
    poses, fps = read_pose_render(write_video(tmp_path / "render.mp4", maps, 12.5), max_frames=5)
    assert poses.shape == (5, 33, 4) and poses.dtype == np.float32 and fps == pytest.approx(12.5)
    still, fps = read_pose_render(save_png(tmp_path / "render.png", maps[0]))
    assert still.shape == (1, 33, 4) and fps == 0.0
    from safealign.poses.topology import L_KNEE, R_SHOULDER

    for joint in (R_SHOULDER, L_KNEE):
        assert np.allclose(still[0, joint, :2], _poses()[0, joint, :2], atol=0.02)
    with pytest.raises(InputError, match="unsupported file type"):
        read_pose_render(tmp_path / "poses.txt")


def test_palette_classes() -> None:
    colours = palette().astype(np.uint8)
    classes = classify_pixels(colours[None])
    assert classes[0].tolist() == list(range(len(colours)))
    assert classes[0, -1] == WHITE and classes[0, -2] == BLACK and classes[0, LIMB_OFFSET] == LIMB_OFFSET
    assert colours[LIMB_OFFSET + 9].tolist() == [0, 153, 153]            # poseguard.md 2.6
    noisy = np.clip(colours.astype(int) + 20, 0, 255).astype(np.uint8)   # compression moves colours
    assert (classify_pixels(noisy[None])[0, :-2] == np.arange(len(colours) - 2)).all()
    assert classify_pixels(np.array([[[128, 128, 128]]], np.uint8))[0, 0] == UNKNOWN


# Real DWPose renders (../shared/data/real/pose_renders): no truth, so the decoded joints are re-rendered and
# compared with the render's own discs.
@pytest.mark.shared
def test_dwpose_dance_video_decodes_and_re_renders_onto_its_discs() -> None:
    path = shared_path("real", "pose_renders", "dwpose_dance.mp4")
    frames, _ = read_video(path, max_frames=24)
    decoded = np.stack([decode_openpose_render(f) for f in frames])
    found = (decoded[..., 2] > 0).sum(axis=1)
    assert (found >= 12).mean() >= 0.9, f"joints per frame: {found.tolist()}"
    h, w = frames.shape[1:3]
    for t in (0, 11, 23):
        overlap = _disc_overlap(frames[t], decoded[t], w, h)
        assert np.mean(list(overlap.values())) >= 0.7, f"frame {t}: disc overlap per joint {overlap}"
    poses, fps = read_pose_render(path, max_frames=3)
    assert poses.shape == (3, 33, 4) and fps == pytest.approx(30.0)


def _disc_overlap(frame: np.ndarray, keypoints: np.ndarray, w: int, h: int) -> dict[int, float]:
    """Per joint found as a disc (not inferred), the share of its re-rendered disc that the frame shows in
    the joint's own palette colour, give or take a pixel (H.264 blurs the discs' rims)."""
    ours = render_openpose18(np.where(keypoints[:, 2:] > 0.5, keypoints, np.nan).astype(np.float32), w, h)
    classes = classify_pixels(frame)
    out = {}
    for j in np.flatnonzero(keypoints[:, 2] > 0.5):
        disc = (ours == OPENPOSE_COLORS[j]).all(-1)
        theirs = cv2.dilate((classes == j).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        if disc.any():
            out[int(j)] = float(theirs[disc].mean())
    return out


@pytest.mark.shared
def test_dwpose_still_image_decodes_its_body() -> None:
    poses, fps = read_pose_render(shared_path("real", "pose_renders", "dwpose_still.png"))
    assert poses.shape == (1, 33, 4) and fps == 0.0
    assert int((poses[0, :, 3] > 0).sum()) >= 12


@pytest.mark.shared
def test_a_real_photo_is_not_a_pose_render() -> None:
    path = shared_path("real", "images", "fullbody_a.png")
    with pytest.raises(InputError, match="fullbody_a.png"):
        read_pose_render(path)
