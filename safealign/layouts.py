"""Landmark layouts: what a clip file's ``pose`` [T, K, 4] holds, and how it becomes a condition map.

A layout names its point count, the centre that rotations/scales act about, the parts that dropout removes,
its robustness grid, its condition-map renderer, and the bones whose directions describe a pose (none for
faces). The manifest column ``layout`` (default: the body
layout) selects it; the renderer is never guessed from K.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

BODY = "mediapipe33"
FACE = "face140"


@dataclass(frozen=True)
class Layout:
    """A landmark layout (see module docstring)."""

    name: str
    n_points: int
    centre: tuple[int, ...]
    parts: dict[str, tuple[int, ...]]
    grid: tuple[tuple[str, float | str], ...]
    bones: tuple[tuple[int, int], ...] = ()

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
    from safealign.poses.perturb import PERTURBATION_GRID

    return tuple((f, lv) for f, lv in PERTURBATION_GRID if f != "part_dropout") + \
        tuple(("part_dropout", p) for p in parts)


@lru_cache(maxsize=None)
def get_layout(name: str) -> Layout:
    """The layout called ``name`` (``mediapipe33`` | ``face140``)."""
    if name == BODY:
        from safealign.poses import topology as tp
        from safealign.poses.perturb import PARTS

        return Layout(BODY, tp.N_MP33, (tp.L_HIP, tp.R_HIP), PARTS, _grid(tuple(PARTS)), tp.MP33_LIMB_BONES)
    if name == FACE:
        from safealign.faces import layout as fl

        return Layout(FACE, fl.N_POINTS, fl.CENTRE, fl.DROPOUT_PARTS, _grid(tuple(fl.DROPOUT_PARTS)))
    raise ValueError(f"unknown landmark layout '{name}' (known: {BODY}, {FACE})")
