"""Ground-truth frames of a synthetic character driven by a MediaPipe-33 pose (the generator's targets).

Limbs are filled capsules in clothing colours, head and hands in a skin tone, on a plain, gradient or striped
background. Appearance is drawn once per subject from a seeded RNG, so every clip of a subject (and its
reference image) shows the same person. Drawing uses cv2 with sub-pixel coordinates (fast at 64 px).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from safealign.poses import topology as tp

_SHIFT = 4                      # cv2 fixed-point bits: coordinates carry 1/16 px precision
_ONE = 1 << _SHIFT
SKIN_TONES = ((255, 224, 196), (241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36), (92, 58, 36))
BACKGROUND_STYLES = ("plain", "gradient", "stripes_h", "stripes_v")

# (from, to, part) capsules; part picks the colour and thickness.
_SEGMENTS = (
    (tp.L_HIP, tp.L_KNEE, "legs"), (tp.L_KNEE, tp.L_ANKLE, "legs"), (tp.R_HIP, tp.R_KNEE, "legs"),
    (tp.R_KNEE, tp.R_ANKLE, "legs"), (tp.L_ANKLE, tp.L_FOOT_INDEX, "shoes"), (tp.R_ANKLE, tp.R_FOOT_INDEX, "shoes"),
    (tp.L_SHOULDER, tp.L_ELBOW, "sleeves"), (tp.L_ELBOW, tp.L_WRIST, "arms"),
    (tp.R_SHOULDER, tp.R_ELBOW, "sleeves"), (tp.R_ELBOW, tp.R_WRIST, "arms"),
)
_SEG_A = np.array([s[0] for s in _SEGMENTS])
_SEG_B = np.array([s[1] for s in _SEGMENTS])
_THICKNESS = {"legs": 0.34, "shoes": 0.2, "sleeves": 0.3, "arms": 0.24}   # fractions of the trunk length


@dataclass(frozen=True)
class Appearance:
    """Colours (RGB) and build of one synthetic subject."""

    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    shirt: tuple[int, int, int]
    trousers: tuple[int, int, int]
    shoes: tuple[int, int, int]
    bare_arms: bool
    girth: float
    background: str
    bg_colours: tuple[tuple[int, int, int], tuple[int, int, int]]
    stripe_period: int


def _colour(rng: np.random.Generator, low: int = 0, high: int = 256) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(low, high, size=3))  # type: ignore[return-value]


def random_appearance(rng: np.random.Generator) -> Appearance:
    """A subject's look: skin tone, hair, clothing colours, build and background."""
    return Appearance(
        skin=SKIN_TONES[int(rng.integers(len(SKIN_TONES)))], hair=_colour(rng, 0, 110), shirt=_colour(rng),
        trousers=_colour(rng, 0, 200), shoes=_colour(rng, 0, 90), bare_arms=bool(rng.random() < 0.4),
        girth=float(rng.uniform(0.85, 1.2)), background=BACKGROUND_STYLES[int(rng.integers(len(BACKGROUND_STYLES)))],
        bg_colours=(_colour(rng, 60, 256), _colour(rng, 60, 256)), stripe_period=int(rng.integers(4, 12)),
    )


def render_background(app: Appearance, width: int, height: int) -> np.ndarray:
    """The subject's background image, uint8 [H, W, 3]."""
    a, b = (np.array(c, dtype=np.float32) for c in app.bg_colours)
    if app.background == "plain":
        return np.broadcast_to(a.astype(np.uint8), (height, width, 3)).copy()
    if app.background == "gradient":
        w = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
        return np.broadcast_to((a * (1 - w) + b * w).astype(np.uint8), (height, width, 3)).copy()
    period = max(2, round(app.stripe_period * max(width, height) / 64))
    axis = np.arange(height if app.background == "stripes_h" else width)
    band = ((axis // (period // 2)) % 2).astype(bool)
    line = np.where(band[:, None], b, a).astype(np.uint8)
    img = line[:, None, :] if app.background == "stripes_h" else line[None, :, :]
    return np.broadcast_to(img, (height, width, 3)).copy()


def _trunk_lengths(xy: np.ndarray, default: float) -> np.ndarray:
    """Shoulder-centre to hip-centre distance per frame (px), ``default`` where it is unknown or degenerate."""
    length = np.linalg.norm(xy[:, [tp.L_SHOULDER, tp.R_SHOULDER]].mean(1) - xy[:, [tp.L_HIP, tp.R_HIP]].mean(1),
                            axis=-1)
    return np.where(np.isfinite(length) & (length > 1), length, default)


def render_character_frame(pose: np.ndarray, app: Appearance, background: np.ndarray) -> np.ndarray:
    """One RGB frame (uint8 [H, W, 3]) of the character in ``pose`` [33, 4]; NaN landmarks are not drawn."""
    return render_character(pose[None], app, background.shape[1], background.shape[0], background)[0]


def render_character(poses: np.ndarray, app: Appearance, width: int, height: int,
                     background: np.ndarray | None = None) -> np.ndarray:
    """Frames uint8 [T, H, W, 3] of the character following ``poses`` [T, 33, 4]."""
    if background is None:
        background = render_background(app, width, height)
    out = np.empty((len(poses), height, width, 3), np.uint8)
    xy = poses[..., :2] * np.array([width, height], dtype=np.float32)
    ok = np.isfinite(xy).all(axis=-1)
    fixed = np.round(np.nan_to_num(xy) * _ONE).astype(np.int64)   # cv2 fixed-point coordinates
    depth = np.nan_to_num(poses[..., 2], nan=0.0)
    trunk = _trunk_lengths(xy, 0.25 * height)
    colours = {"legs": app.trousers, "shoes": app.shoes, "sleeves": app.shirt,
               "arms": app.skin if app.bare_arms else app.shirt}
    for t in range(len(poses)):
        img = out[t]
        img[:] = background
        pts, okt, zt, tr = fixed[t].tolist(), ok[t].tolist(), depth[t], float(trunk[t])
        # Far limbs first so that near ones cover them (painter's algorithm on MediaPipe z: larger = farther).
        seg_z = zt[_SEG_A] + zt[_SEG_B]
        torso_z = 0.5 * float(zt[[tp.L_SHOULDER, tp.R_SHOULDER, tp.L_HIP, tp.R_HIP]].sum())
        torso_drawn = False
        for k in np.argsort(-seg_z, kind="stable").tolist():
            a, b, part = _SEGMENTS[k]
            if not torso_drawn and seg_z[k] < torso_z:
                _draw_torso(img, fixed[t], okt, app, tr)
                torso_drawn = True
            if okt[a] and okt[b]:
                thick = max(1, int(_THICKNESS[part] * tr * app.girth + 0.5))
                cv2.line(img, pts[a], pts[b], colours[part], thick, cv2.LINE_AA, _SHIFT)
        if not torso_drawn:
            _draw_torso(img, fixed[t], okt, app, tr)
        _draw_hands(img, fixed[t], okt, app, tr)
        _draw_head(img, poses[t], xy[t], okt, app, tr)
    return out


def _pt(xy: np.ndarray) -> tuple[int, int]:
    return int(round(xy[0] * _ONE)), int(round(xy[1] * _ONE))


def _draw_torso(img: np.ndarray, fixed: np.ndarray, ok: list[bool], app: Appearance, trunk: float) -> None:
    idx = [tp.L_SHOULDER, tp.R_SHOULDER, tp.R_HIP, tp.L_HIP]
    if not all(ok[i] for i in idx):
        return
    cv2.fillConvexPoly(img, fixed[idx].astype(np.int32), app.shirt, cv2.LINE_AA, _SHIFT)
    thick = max(1, int(0.22 * trunk * app.girth + 0.5))
    pts = fixed.tolist()
    cv2.line(img, pts[tp.L_SHOULDER], pts[tp.R_SHOULDER], app.shirt, thick, cv2.LINE_AA, _SHIFT)
    cv2.line(img, pts[tp.L_HIP], pts[tp.R_HIP], app.trousers, thick, cv2.LINE_AA, _SHIFT)


def _draw_hands(img: np.ndarray, fixed: np.ndarray, ok: list[bool], app: Appearance, trunk: float) -> None:
    radius = max(1, int(0.1 * trunk * _ONE + 0.5))
    for wrist, finger in ((tp.L_WRIST, tp.L_INDEX), (tp.R_WRIST, tp.R_INDEX)):
        if ok[wrist] and ok[finger]:
            centre = ((fixed[wrist] + fixed[finger]) // 2).tolist()
            cv2.circle(img, centre, radius, app.skin, -1, cv2.LINE_AA, _SHIFT)


def _draw_head(img: np.ndarray, pose: np.ndarray, xy: np.ndarray, ok: list[bool], app: Appearance,
               trunk: float) -> None:
    if not (ok[tp.L_EAR] and ok[tp.R_EAR] and ok[tp.L_SHOULDER] and ok[tp.R_SHOULDER]):
        return
    centre = (xy[tp.L_EAR] + xy[tp.R_EAR]) / 2
    neck = (xy[tp.L_SHOULDER] + xy[tp.R_SHOULDER]) / 2
    cv2.line(img, _pt(neck), _pt(centre), app.skin, max(1, int(0.14 * trunk + 0.5)), cv2.LINE_AA, _SHIFT)
    radius = 0.27 * trunk
    facing_away = ok[tp.NOSE] and pose[tp.NOSE, 2] > (pose[tp.L_EAR, 2] + pose[tp.R_EAR, 2]) / 2
    to_face = (xy[tp.NOSE] - centre) if ok[tp.NOSE] else np.zeros(2, np.float32)
    hair_centre = centre - 0.35 * to_face + np.array([0.0, -0.12 * radius])
    cv2.circle(img, _pt(hair_centre), int(1.05 * radius * _ONE + 0.5), app.hair, -1, cv2.LINE_AA, _SHIFT)
    if not facing_away:
        cv2.circle(img, _pt(centre + 0.25 * to_face), int(0.9 * radius * _ONE + 0.5), app.skin, -1, cv2.LINE_AA,
                   _SHIFT)


def render_reference(neutral: np.ndarray, app: Appearance, width: int, height: int) -> np.ndarray:
    """The reference image: the same character in a neutral standing pose ``neutral`` [33, 4]."""
    return render_character_frame(neutral, app, render_background(app, width, height))
