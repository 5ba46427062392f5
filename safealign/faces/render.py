"""Face renderers: ground-truth frames (filled polygons) and landmark condition maps, at any resolution.

Condition maps use LINES along the layout's connections, one colour per part, on black, rather than
Moore's 1-px landmark dots (poseguard.md 3.6): at the 64-px default 140 dots are a sparse aliased cloud in
which lips and lids cannot be read, while closed contours keep the shape, and a colour per part tells the
small PoseGuider which stroke is a brow, an eye or a lip. Missing (NaN / visibility 0) points are not drawn.
"""

from __future__ import annotations

import cv2
import numpy as np

from safealign.faces import layout as L
from safealign.faces.model import Identity

PART_COLORS: dict[str, tuple[int, int, int]] = {
    "oval": (255, 255, 255), "right_brow": (255, 200, 0), "left_brow": (255, 200, 0),
    "right_eye": (0, 255, 0), "left_eye": (0, 255, 0), "nose": (0, 128, 255), "lips": (255, 0, 80),
    "pupils": (0, 255, 255),
}
VISIBLE = 0.5
SUPERSAMPLE = 4   # frames are drawn at 4x and area-downscaled: smooth edges at 64 px


def render_landmark_map(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Layout landmarks [140, 4] (x, y normalised, z, visibility) -> uint8 RGB [H, W, 3] condition map."""
    pts = np.asarray(points, np.float64)
    if pts.shape != (L.N_POINTS, 4):
        raise ValueError(f"render_landmark_map: expected [{L.N_POINTS}, 4] face140 landmarks, "
                         f"got {list(pts.shape)}")
    out = np.zeros((height, width, 3), np.uint8)
    ok = np.isfinite(pts[:, :2]).all(axis=1) & (np.nan_to_num(pts[:, 3]) >= VISIBLE)
    px = np.round(np.where(ok[:, None], pts[:, :2], 0.0) * [width, height]).astype(np.int32)
    thick = max(1, round(min(width, height) / 128))
    for part, edges in L.CONNECTIONS.items():
        color = PART_COLORS[part]
        for a, b in edges:
            if ok[a] and ok[b]:
                cv2.line(out, tuple(px[a]), tuple(px[b]), color, thick)
    for j in L.PARTS["pupils"]:
        if ok[j]:
            cv2.circle(out, tuple(px[j]), thick, PART_COLORS["pupils"], -1)
    return out


def render_landmark_maps(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """[T, 140, 4] -> uint8 [T, H, W, 3]."""
    return np.stack([render_landmark_map(p, width, height) for p in points]) if len(points) else \
        np.zeros((0, height, width, 3), np.uint8)


def _poly(pts: np.ndarray, indices: list[int], size: int) -> np.ndarray:
    return np.round(pts[indices, :2] * size * SUPERSAMPLE).astype(np.int32)


def render_face_frame(points: np.ndarray, identity: Identity, size: int, tongue: float = 0.0) -> np.ndarray:
    """A ground-truth frame uint8 [size, size, 3]: hair, skin, brows, eyes with irises, nose, lips, tongue."""
    big = size * SUPERSAMPLE
    img = np.empty((big, big, 3), np.uint8)
    img[:] = identity.background
    pts = np.asarray(points, np.float64)
    pos = {m: k for k, m in enumerate(L.MESH_INDEX)}
    ix = lambda chain: [pos[m] for m in chain]  # noqa: E731
    oval = _poly(pts, ix(L.OVAL), size)
    centre = oval.mean(axis=0)
    top = centre + (oval - centre) * 1.12 - [0, 0.02 * big]
    n = len(oval)
    arc = list(range(3 * n // 4, n)) + list(range(0, n // 4 + 1))   # upper half: image left, top, image right
    hair = np.concatenate([top[arc], centre[None]]).astype(np.int32)
    cv2.fillPoly(img, [hair], identity.hair)
    cv2.fillPoly(img, [oval], identity.skin)
    for lower, upper in ((L.RIGHT_BROW_LOWER, L.RIGHT_BROW_UPPER), (L.LEFT_BROW_LOWER, L.LEFT_BROW_UPPER)):
        cv2.fillPoly(img, [_poly(pts, ix(lower + upper[::-1]), size)], identity.hair)
    for (lower, upper), pupil in (((L.RIGHT_EYE_LOWER, L.RIGHT_EYE_UPPER), L.PUPILS[0]),
                                  ((L.LEFT_EYE_LOWER, L.LEFT_EYE_UPPER), L.PUPILS[1])):
        eye = _poly(pts, ix(lower + upper[::-1]), size)
        mask = np.zeros((big, big), np.uint8)
        cv2.fillPoly(mask, [eye], 1)
        iris = np.zeros_like(mask)
        radius = int(identity.geometry["eye_size"] * 0.5 * np.linalg.norm(pts[pos[L.OVAL[0]], :2] -
                                                                       pts[pos[L.OVAL[18]], :2]) * big * 0.5)
        cv2.circle(iris, tuple(_poly(pts, [pos[pupil]], size)[0]), max(radius, 1), 1, -1)
        img[mask.astype(bool)] = (245, 245, 245)
        img[(mask & iris).astype(bool)] = identity.iris
    nose = tuple(np.array(identity.skin) * 0.7)
    cv2.polylines(img, [_poly(pts, ix(L.NOSE_BRIDGE[2:]), size)], False, nose, SUPERSAMPLE)
    cv2.polylines(img, [_poly(pts, ix(L.NOSE_BASE), size)], False, nose, SUPERSAMPLE)
    cv2.fillPoly(img, [_poly(pts, ix(L.LIPS_OUTER_LOWER + L.LIPS_OUTER_UPPER[::-1]), size)], identity.lips)
    mouth = _poly(pts, ix(L.LIPS_INNER_LOWER + L.LIPS_INNER_UPPER[::-1]), size)
    cv2.fillPoly(img, [mouth], (45, 15, 20))
    if tongue > 0.05:
        lo = _poly(pts, ix(L.LIPS_INNER_LOWER), size)
        c = lo[len(lo) // 2 - 1]
        r = int(0.4 * np.ptp(lo[:, 0]) / 2 * min(1.0, tongue))
        axes = (max(r, 1), max(int(r * 0.8), 1))
        cv2.ellipse(img, (int(c[0]), int(c[1])), axes, 0, 0, 360, (225, 90, 110), -1)
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
