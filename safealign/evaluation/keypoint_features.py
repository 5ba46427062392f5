"""One fixed-length feature vector per clip from the posture-token keypoints the generator reads.

The clip's token keypoints (``safealign.generation.data.token_keypoints``: x, y, visibility of the layout's
``tokens.joints``) over its ACTIVE frames (the action itself, not its lead-in) are normalised as the token
encoder does (``safealign.generation.pose_tokens.keypoint_features``): origin = mean over the frames of the
centre joints' midpoint, unit = median distance of the two ``scale`` groups' midpoints. Per normalised
coordinate and per bone direction (unit vector, x and y) the features are mean, min, max, std and the
10 / 50 / 90 % quantiles over the frames, plus each joint's visible share. Points not visible are NaN, which a
histogram gradient-boosting model takes as missing.
"""

from __future__ import annotations

import warnings

import numpy as np

from safealign.generation.pose_tokens import VISIBLE

STATS = ("mean", "min", "max", "std", "q10", "q50", "q90")
# Without any frame showing both scale groups the unit is the token encoder's fallback (a quarter frame).
FALLBACK_UNIT = 0.25


def _tokens(layout: str):
    from safealign.layouts import get_layout

    tokens = get_layout(layout).tokens
    if tokens is None:
        raise ValueError(f"layout {layout!r} has no token keypoints")
    return tokens


def feature_names(layout: str) -> list[str]:
    """Names of ``clip_features`` columns for ``layout``: ``j<k>_x_mean`` ... ``b<a>_<b>_dy_q90``, then
    ``j<k>_vis`` (k: position in the layout's token joints)."""
    tokens = _tokens(layout)
    series = [f"j{k}_{c}" for k in range(len(tokens.joints)) for c in ("x", "y")]
    series += [f"b{a}_{b}_{c}" for a, b in tokens.bones for c in ("dx", "dy")]
    visible = [f"j{k}_vis" for k in range(len(tokens.joints))]
    return [f"{s}_{stat}" for s in series for stat in STATS] + visible


def clip_features(pose: np.ndarray, active: np.ndarray | None = None,
                  layout: str = "mediapipe33") -> np.ndarray:
    """Landmarks ``[T, K, 4]`` of ``layout`` (``active`` bool ``[T]``: the frames to use; None or none set =
    all) -> float32 feature vector, NaN where a joint or bone is never visible."""
    from safealign.generation.data import token_keypoints

    tokens = _tokens(layout)
    kp = token_keypoints(np.asarray(pose, np.float32), layout)
    if active is not None and np.asarray(active, bool)[:len(kp)].any():
        kp = kp[np.asarray(active, bool)[:len(kp)]]
    visible = (kp[..., 2] >= VISIBLE) & np.isfinite(kp[..., :2]).all(-1)
    xy = np.where(visible[..., None], kp[..., :2], np.nan)                       # [T, J, 2]
    origin, unit = _normalisation(xy, tokens.centre, tokens.scale)
    rel = (xy - origin) / unit
    series = [rel.reshape(len(rel), -1)]
    if tokens.bones:
        a, b = np.array(tokens.bones).T
        d = xy[:, b] - xy[:, a]
        length = np.linalg.norm(d, axis=-1, keepdims=True)
        series.append((d / np.where(length > 1e-6, length, np.nan)).reshape(len(d), -1))
    values = np.concatenate(series, axis=1)                                       # [T, S]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)                          # all-NaN columns stay NaN
        stats = np.stack([np.nanmean(values, 0), np.nanmin(values, 0), np.nanmax(values, 0),
                          np.nanstd(values, 0), *_nan_quantiles(values, (0.1, 0.5, 0.9))], axis=1)
    return np.concatenate([stats.reshape(-1), visible.mean(0)]).astype(np.float32)


def _nan_quantiles(values: np.ndarray, quantiles: tuple[float, ...]) -> list[np.ndarray]:
    """``np.nanquantile(values, q, axis=0)`` (linear) per q, vectorised: numpy's loops over columns."""
    ordered = np.sort(values, axis=0)                       # NaN last
    count = np.isfinite(values).sum(axis=0)
    cols = np.arange(values.shape[1])
    out = []
    for q in quantiles:
        pos = q * np.maximum(count - 1, 0)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, np.maximum(count - 1, 0))
        value = ordered[lo, cols] + (pos - lo) * (ordered[hi, cols] - ordered[lo, cols])
        out.append(np.where(count > 0, value, np.nan))
    return out


def _normalisation(xy: np.ndarray, centre: tuple[int, ...], scale: tuple[tuple[int, ...], tuple[int, ...]]
                   ) -> tuple[np.ndarray, float]:
    """Clip origin (mean centre midpoint over the frames that show every centre joint) and unit length."""
    def midpoint(group: tuple[int, ...]) -> np.ndarray:          # [T, 2], NaN unless every joint is visible
        return xy[:, list(group)].mean(axis=1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        origin = np.nanmean(midpoint(centre), axis=0)
        unit = float(np.nanmedian(np.linalg.norm(midpoint(scale[0]) - midpoint(scale[1]), axis=-1)))
    origin = np.where(np.isfinite(origin), origin, 0.5)
    return origin, unit if np.isfinite(unit) and unit > 1e-3 else FALLBACK_UNIT
