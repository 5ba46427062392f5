"""Pose perturbations, vectorised over [N, T, 33, 4] (or one clip [T, 33, 4]): augmentation and robustness grid.

Spatial levels are in pixels or fractions of a 512-px-wide frame (../shared/docs/poseguard.md section 2.4),
converted to normalised coordinates with the frame's aspect ratio, so a rotation is a true rotation on screen.
Missing landmarks (NaN) stay missing; perturbations never invent points.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from safealign.layouts import BODY, Layout, get_layout

REF_WIDTH = 512
FAMILIES = ("jitter", "rotate", "scale", "translate", "translate_x", "translate_y", "speed", "offset", "drop",
            "part_dropout")
def perturb(poses: np.ndarray, family: str, level: float | str | Sequence[float] | np.ndarray,
            rng: np.random.Generator, aspect: float = 1.0, layout: str = BODY) -> np.ndarray:
    """A perturbed copy of ``poses`` ([N, T, K, 4] or [T, K, 4] in ``layout``); ``aspect`` = width / height.

    Families: jitter (sigma px), rotate (deg, counter-clockwise on screen, about the pelvis centre), scale
    (factor about the pelvis centre), translate ((dx, dy) fractions of the width), translate_x / translate_y
    (one fraction), speed (factor; time resampled, the last frame held), offset (start later by k frames,
    the last frame held), drop (fraction of frames replaced by the previous kept frame), part_dropout
    (hands | face | both: those landmarks become missing). Numeric levels may also be arrays with one
    value per clip (augmentation draws a strength per clip and still runs in one vectorised call).
    Other layouts (``safealign.layouts``): rotation and scale act about the layout's centre, part dropout
    removes the layout's parts.
    """
    single = poses.ndim == 3
    # Temporal families gather into a new array; the others work in place on a copy.
    x = np.asarray(poses[None] if single else poses, dtype=np.float32)
    if family not in _GATHERING:
        x = x.copy()
    lay = get_layout(layout)
    if x.ndim != 4 or x.shape[2:] != (lay.n_points, 4):
        raise ValueError(f"perturb: expected [N, T, {lay.n_points}, 4] or [T, {lay.n_points}, 4] ({layout}), "
                         f"got {list(poses.shape)}")
    if family not in FAMILIES:
        raise ValueError(f"perturb: unknown family '{family}' (known: {', '.join(FAMILIES)})")
    out = _APPLY[family](x, level, rng, aspect, lay)
    return out[0] if single else out


def perturb_timed(poses: np.ndarray, family: str, level: float | str | Sequence[float] | np.ndarray,
                  rng: np.random.Generator, aspect: float = 1.0, layout: str = BODY
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``perturb`` of a stack [N, T, K, 4] plus the source time of every output frame [N, T] (the identity for
    spatial families), so per-frame labels can follow a temporal perturbation (``follow_time``)."""
    n, t = poses.shape[:2]
    if family in _GATHERING:
        src = time_map(family, level, n, t, rng)
        return resample(np.asarray(poses, dtype=np.float32), src), src
    return perturb(poses, family, level, rng, aspect, layout), np.broadcast_to(
        np.arange(t, dtype=np.float64), (n, t)).copy()


def follow_time(labels: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Per-frame labels [T] of a clip read at source times ``src`` [T] (nearest frame): what the frames of a
    temporally perturbed copy show."""
    labels = np.asarray(labels)
    idx = np.clip(np.round(np.asarray(src)).astype(np.int64), 0, len(labels) - 1)
    return labels[idx]


def _centre(x: np.ndarray, lay: Layout) -> np.ndarray:
    """Pelvis centre of a body ([L_HIP, R_HIP]); the layout's centre points otherwise."""
    return x[:, :, list(lay.centre), :2].mean(axis=2, keepdims=True)


def _per_clip(level: float | np.ndarray, n: int) -> np.ndarray:
    """A scalar or one value per clip, as float32 [N, 1, 1, 1] for broadcasting over [N, T, 33, k]."""
    arr = np.asarray(level, dtype=np.float32)
    if arr.ndim and arr.shape != (n,):
        raise ValueError(f"perturb: expected a scalar level or one per clip ({n}), got shape {list(arr.shape)}")
    return np.broadcast_to(arr.reshape(-1, 1, 1, 1), (n, 1, 1, 1))


def _jitter(x: np.ndarray, sigma: float | np.ndarray, rng: np.random.Generator, aspect: float,
            lay: Layout) -> np.ndarray:
    noise = rng.standard_normal(x.shape[:3] + (2,), dtype=np.float32) * (_per_clip(sigma, len(x)) / REF_WIDTH)
    noise[..., 1] *= aspect
    x[..., :2] += noise
    return x


def _similarity(x: np.ndarray, deg: float | np.ndarray, factor: float | np.ndarray, dx: float | np.ndarray,
                dy: float | np.ndarray, aspect: float, lay: Layout) -> np.ndarray:
    """Rotate by ``deg`` and scale by ``factor`` about the pelvis centre, then shift by (dx, dy) widths; one pass."""
    n = len(x)
    centre = _centre(x, lay)
    a, f = np.radians(_per_clip(deg, n)), _per_clip(factor, n)
    c, s = np.cos(a) * f, np.sin(a) * f
    # In width units both axes have the same scale: y_w = y / aspect.
    px, py = x[..., 0:1] - centre[..., 0:1], (x[..., 1:2] - centre[..., 1:2]) / aspect
    # Image y points down, so counter-clockwise on screen is (x, y) -> (x c + y s, -x s + y c).
    x[..., 0:1] = centre[..., 0:1] + px * c + py * s + _per_clip(dx, n)
    x[..., 1:2] = centre[..., 1:2] + (py * c - px * s + _per_clip(dy, n)) * aspect
    x[..., 2:3] *= f
    return x


def similarity_transform(poses: np.ndarray, deg: float | np.ndarray, factor: float | np.ndarray,
                         dx: float | np.ndarray, dy: float | np.ndarray, aspect: float = 1.0,
                         inplace: bool = False, layout: str = BODY) -> np.ndarray:
    """Rotation + scale (about the pelvis) + translation of [N, T, 33, 4] poses in one pass, levels per clip.

    Equivalent to perturb's rotate, scale and translate applied in that order; augmentation uses it to
    apply the three families at once (identity levels for clips that did not draw a family).
    """
    x = poses if inplace else np.array(poses, dtype=np.float32, copy=True)
    return _similarity(x, deg, factor, dx, dy, aspect, get_layout(layout))


def _rotate(x: np.ndarray, deg: float | np.ndarray, rng: np.random.Generator, aspect: float,
            lay: Layout) -> np.ndarray:
    return _similarity(x, deg, 1.0, 0.0, 0.0, aspect, lay)


def _scale(x: np.ndarray, factor: float | np.ndarray, rng: np.random.Generator, aspect: float,
           lay: Layout) -> np.ndarray:
    return _similarity(x, 0.0, factor, 0.0, 0.0, aspect, lay)


def _shift(x: np.ndarray, dx: float | np.ndarray, dy: float | np.ndarray, aspect: float,
           lay: Layout) -> np.ndarray:
    return _similarity(x, 0.0, 1.0, dx, dy, aspect, lay)


def _translate(x: np.ndarray, shift: Sequence[float], rng: np.random.Generator, aspect: float,
               lay: Layout) -> np.ndarray:
    dx, dy = (float(v) for v in shift)
    return _shift(x, dx, dy, aspect, lay)


def resample(x: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Frames of ``x`` [N, T, 33, 4] at fractional source times ``src`` [N, T] (linear, clamped to the clip)."""
    n, t = x.shape[:2]
    src = np.clip(src, 0, t - 1)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, t - 1)
    w = (src - lo).astype(np.float32)
    out = x[np.arange(n)[:, None], lo]
    # Integer times copy the frame (NaN-safe and bit-exact); only fractional ones are blended.
    ci, ti = np.nonzero(w)
    if len(ci):
        wf = w[ci, ti][:, None, None]
        out[ci, ti] = out[ci, ti] * (1 - wf) + x[ci, hi[ci, ti]] * wf
    return out


def time_map(family: str, level: float | np.ndarray, n: int, t: int, rng: np.random.Generator) -> np.ndarray:
    """Source time [N, T] of every output frame for a temporal family (speed, offset or drop)."""
    frames = np.arange(t, dtype=np.float64)[None, :]
    value = np.asarray(_per_clip(level, n)[:, :, 0, 0], dtype=np.float64)       # [N, 1]
    if family == "speed":
        return np.clip(frames * value, 0, t - 1)
    if family == "offset":
        return np.clip(frames + np.round(value), 0, t - 1)
    if family == "drop":
        if t < 2:
            return np.broadcast_to(frames, (n, t)).copy()
        k = np.round(value * t)                                                 # frames to drop per clip
        # The k frames with the smallest random keys are dropped (never the first, so there is one to hold).
        rank = np.argsort(np.argsort(rng.random((n, t - 1)), axis=1), axis=1)
        dropped = np.concatenate([np.zeros((n, 1), bool), rank < k], axis=1)
        return np.maximum.accumulate(np.where(dropped, 0, np.arange(t)[None, :]), axis=1).astype(np.float64)
    raise ValueError(f"time_map: '{family}' is not a temporal family (speed, offset, drop)")


def compose_time_maps(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The time map of applying ``first`` and then ``second`` (``first`` read at ``second``'s times)."""
    t = first.shape[1]
    lo = np.floor(second).astype(np.int64)
    hi = np.minimum(lo + 1, t - 1)
    w = second - lo
    return np.take_along_axis(first, lo, 1) * (1 - w) + np.take_along_axis(first, hi, 1) * w


def _temporal(family: str):
    def apply(x: np.ndarray, level: float | np.ndarray, rng: np.random.Generator, aspect: float,
              lay: Layout) -> np.ndarray:
        return resample(x, time_map(family, level, x.shape[0], x.shape[1], rng))
    return apply


def _part_dropout(x: np.ndarray, part: str, rng: np.random.Generator, aspect: float,
                  lay: Layout) -> np.ndarray:
    if part not in lay.parts:
        raise ValueError(f"part_dropout: unknown part '{part}' (known: {', '.join(lay.parts)})")
    idx = list(lay.parts[part])
    x[:, :, idx, :3] = np.nan
    x[:, :, idx, 3] = 0.0
    return x


_GATHERING = ("speed", "offset", "drop")
_APPLY = {
    "jitter": _jitter, "rotate": _rotate, "scale": _scale,
    "translate": _translate,
    "translate_x": lambda x, v, r, a, lay: _shift(x, v, 0.0, a, lay),
    "translate_y": lambda x, v, r, a, lay: _shift(x, 0.0, v, a, lay),
    "speed": _temporal("speed"), "offset": _temporal("offset"), "drop": _temporal("drop"),
    "part_dropout": _part_dropout,
}


def level_label(family: str, level: float | str | Sequence[float]) -> str:
    """Canonical text of a (family, level) pair as used in manifests, e.g. 'rotate:-5.0' or 'part_dropout:hands'."""
    if isinstance(level, str):
        return f"{family}:{level}"
    if isinstance(level, (tuple, list)):
        return f"{family}:" + ",".join(str(float(v)) for v in level)
    return f"{family}:{float(level)}"
