"""Landmark layouts: what a clip file's ``pose`` [T, K, 4] holds, and how it becomes a condition map.

A layout names its point count, the centre that rotations/scales act about, the parts that dropout removes,
its robustness grid, its condition-map renderer, and the bones whose directions describe a pose (none for
faces). The manifest column ``layout`` (default: the body
layout) selects it; the renderer is never guessed from K.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from safealign.poses import topology as tp

if TYPE_CHECKING:
    from safealign.generation.pose_tokens import TokenJoints

BODY = "mediapipe33"
FACE = "face140"

# Body parts that part dropout removes (MediaPipe-33 indices).
BODY_PARTS: dict[str, tuple[int, ...]] = {
    "hands": tp.MP33_HANDS,
    "face": tp.MP33_FACE,
    "both": tuple(sorted(tp.MP33_HANDS + tp.MP33_FACE)),
}

# The robustness grid, one factor at a time: (family, level); part dropout names body parts.
PERTURBATION_GRID: tuple[tuple[str, float | str], ...] = (
    *(("jitter", s) for s in (1.0, 2.0, 4.0, 8.0)),
    *(("rotate", d) for d in (-15.0, -10.0, -5.0, 5.0, 10.0, 15.0)),
    *(("scale", f) for f in (0.9, 1.1)),
    *(("translate_x", f) for f in (-0.1, -0.05, 0.05, 0.1)),
    *(("translate_y", f) for f in (-0.1, -0.05, 0.05, 0.1)),
    *(("speed", f) for f in (0.8, 1.25)),
    *(("offset", k) for k in (4.0, 8.0)),
    *(("drop", f) for f in (0.1, 0.25)),
    *(("part_dropout", p) for p in BODY_PARTS),
)


@dataclass(frozen=True)
class Layout:
    """A landmark layout (see module docstring)."""

    name: str
    n_points: int
    centre: tuple[int, ...]
    parts: dict[str, tuple[int, ...]]
    grid: tuple[tuple[str, float | str], ...]
    bones: tuple[tuple[int, int], ...] = ()
    tokens: "TokenJoints | None" = None

    def render(self, poses: np.ndarray, width: int, height: int) -> np.ndarray:
        """Condition maps uint8 [T, H, W, 3] of ``poses`` [T, K, 4] (renderer imported lazily: cv2)."""
        poses = np.asarray(poses, np.float32)
        if poses.ndim != 3 or poses.shape[1:] != (self.n_points, 4):
            raise ValueError(f"pose shape {list(poses.shape)}, expected [T, {self.n_points}, 4] "
                             f"({self.name})")
        if self.name == BODY:
            from safealign.poses.render import render_openpose_sequence

            return render_openpose_sequence(poses, width, height)
        from safealign.faces.render import render_landmark_maps

        return render_landmark_maps(poses, width, height)


def _grid(parts: tuple[str, ...]) -> tuple[tuple[str, float | str], ...]:
    """The robustness grid of poseguard.md 2.4 with this layout's dropout parts."""
    return tuple((f, lv) for f, lv in PERTURBATION_GRID if f != "part_dropout") + \
        tuple(("part_dropout", p) for p in parts)


def _body_tokens() -> "TokenJoints":
    """Posture-token keypoints of bodies: nose, shoulders, elbows, wrists, hips, knees, ankles (the 13 points
    every body format has: MediaPipe-33, COCO-17, OpenPose-18); the hips' centre is the origin and the
    shoulder-to-hip distance the unit length; limb and head bones give directions."""
    from safealign.generation.pose_tokens import TokenJoints

    joints = (tp.NOSE, tp.L_SHOULDER, tp.R_SHOULDER, tp.L_ELBOW, tp.R_ELBOW, tp.L_WRIST, tp.R_WRIST,
              tp.L_HIP, tp.R_HIP, tp.L_KNEE, tp.R_KNEE, tp.L_ANKLE, tp.R_ANKLE)
    bones = ((1, 2), (1, 3), (3, 5), (2, 4), (4, 6), (1, 7), (2, 8), (7, 8), (7, 9), (9, 11), (8, 10),
             (10, 12), (0, 1), (0, 2))
    return TokenJoints(joints, bones, (7, 8), ((1, 2), (7, 8)))


@lru_cache(maxsize=None)
def get_layout(name: str) -> Layout:
    """The layout called ``name`` (``mediapipe33`` | ``face140``)."""
    if name == BODY:
        return Layout(BODY, tp.N_MP33, (tp.L_HIP, tp.R_HIP), BODY_PARTS, _grid(tuple(BODY_PARTS)),
                      tp.MP33_LIMB_BONES, _body_tokens())
    if name == FACE:
        from safealign.faces import layout as fl
        from safealign.generation.pose_tokens import TokenJoints

        tokens = TokenJoints(tuple(fl.idx(fl.TOKEN_MESH)), (), fl.TOKEN_CENTRE, fl.TOKEN_SCALE)
        return Layout(FACE, fl.N_POINTS, fl.CENTRE, fl.DROPOUT_PARTS, _grid(tuple(fl.DROPOUT_PARTS)),
                      tokens=tokens)
    raise ValueError(f"unknown landmark layout '{name}' (known: {BODY}, {FACE})")
