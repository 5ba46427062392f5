"""Camera: yaw around the subject, orthographic projection into normalised MediaPipe coordinates, visibility."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from safealign.poses import topology as tp
from safealign.poses.motions.skeleton import _rot_y


@dataclass(frozen=True)
class Camera:
    """Yaw (deg), subject height as a fraction of the frame height, and the bounding-box placement in [0, 1]."""

    yaw: float
    fill: float
    place_x: float
    place_y: float


def random_camera(rng: np.random.Generator, yaw_max: float, fill_range: tuple[float, float]) -> Camera:
    """A random camera: yaw in [-yaw_max, yaw_max], fill in ``fill_range``, uniform placement."""
    return Camera(float(rng.uniform(-yaw_max, yaw_max)), float(rng.uniform(*fill_range)),
                  float(rng.uniform()), float(rng.uniform()))


def project(world: np.ndarray, cam: Camera, width: int, height: int, margin: float = 0.03) -> np.ndarray:
    """World joints [T, 33, 3] -> MediaPipe-33 [T, 33, 4] (x, y in [0, 1] of the frame, z, visibility).

    The whole clip's bounding box is scaled to ``fill`` of the frame height (shrunk if it would not fit)
    and placed at (place_x, place_y) of the free space, so no landmark leaves the frame.
    """
    view = _rot_y(world, np.full(world.shape[0], cam.yaw))
    aspect = width / height
    px, py = view[..., 0], -view[..., 1]           # image axes, body heights
    (x0, x1), (y0, y1) = (px.min(), px.max()), (py.min(), py.max())
    usable = 1.0 - 2 * margin
    scale = min(cam.fill, usable / max(y1 - y0, 1e-6), usable * aspect / max(x1 - x0, 1e-6))
    free_x = usable - scale * (x1 - x0) / aspect
    free_y = usable - scale * (y1 - y0)
    x = margin + cam.place_x * free_x + scale * (px - x0) / aspect
    y = margin + cam.place_y * free_y + scale * (py - y0)
    hips = view[:, [tp.L_HIP, tp.R_HIP], 2].mean(axis=1, keepdims=True)
    depth = -(view[..., 2] - hips)                  # MediaPipe: smaller z = closer to the camera
    z = scale * depth / aspect
    # Landmarks behind the body's centre plane are partly occluded: MediaPipe lowers their visibility.
    visibility = np.clip(0.98 - 4.0 * np.maximum(depth - 0.03, 0.0), 0.25, 0.98)
    return np.stack([x, y, z, visibility], -1).astype(np.float32)
