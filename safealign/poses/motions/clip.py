"""One synthetic clip: an action performed by a subject, seen by a camera, as a MediaPipe-33 pose sequence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from safealign.poses.motions.camera import Camera, project
from safealign.poses.motions.keyframes import KEY_SLICES, LENGTH_KEYS, NEUTRAL, Action, interpolate, pose_vector
from safealign.poses.motions.skeleton import Body, forward_kinematics, place_on_ground


@dataclass(frozen=True)
class Timing:
    """Playback: frames, fps, speed factor (cycles faster than the action's period) and start phase."""

    n_frames: int
    fps: float
    speed: float
    phase: float


def jittered_table(action: Action, rng: np.random.Generator, style_deg: float) -> np.ndarray:
    """The action's key table with independent Gaussian angle noise (``style_deg``) per key: a personal style."""
    table = action.table.copy()
    noise = rng.normal(0.0, style_deg, size=table.shape)
    for key in LENGTH_KEYS:
        noise[:, KEY_SLICES[key]] = 0.0
    return table + noise


def pose_params(action: Action, table: np.ndarray, timing: Timing) -> np.ndarray:
    """Per-frame parameter vectors [T, D] and the unwrapped cycle position [T]."""
    t = np.arange(timing.n_frames) / timing.fps
    u = timing.phase + t * timing.speed / action.period_s
    return interpolate(action.phases, table, u), u


def synthesize_pose(action: Action, body: Body, camera: Camera, timing: Timing, rng: np.random.Generator,
                    width: int, height: int, style_deg: float = 4.0) -> np.ndarray:
    """A clip of ``action``: float32 [T, 33, 4] in MediaPipe layout, every landmark inside the frame."""
    return synthesize_clip(action, body, camera, timing, rng, width, height, style_deg)[0]


def synthesize_clip(action: Action, body: Body, camera: Camera, timing: Timing, rng: np.random.Generator,
                    width: int, height: int, style_deg: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """``synthesize_pose`` plus the per-frame active mask bool [T] (``Action.active_frames``): the frames
    that show the action itself, e.g. the held salute, not the lead-in from standing."""
    params, u = pose_params(action, jittered_table(action, rng, style_deg), timing)
    params[:, KEY_SLICES["yaw"]] += action.spin * u[:, None]
    world = forward_kinematics(params, body)
    yaw = np.radians(params[:, KEY_SLICES["yaw"]][:, 0])
    root = params[:, KEY_SLICES["root"]] + action.travel * u[:, None] * np.stack([np.sin(yaw), np.cos(yaw)], -1)
    world = place_on_ground(world, params[:, KEY_SLICES["lift"]][:, 0], root)
    return project(world, camera, width, height), action.active_frames(u)


def neutral_pose(body: Body, width: int, height: int) -> np.ndarray:
    """The subject standing still, facing the camera, centred: [33, 4] (for the reference image)."""
    params = pose_vector(NEUTRAL)[None]
    world = place_on_ground(forward_kinematics(params, body), np.zeros(1), np.zeros((1, 2)))
    return project(world, Camera(yaw=0.0, fill=0.85, place_x=0.5, place_y=0.5), width, height)[0]
