"""A procedural parametric 2D face in the ``face140`` layout: identity geometry, expressions, head pose.

Face-frame units: the face half-height is 1, x to the image right, y down, z toward the camera. Identity
parameters set shape and proportions (``IDENTITY_RANGES``); expression parameters (``EXPRESSION_KEYS``, 0..1)
move brows, lids and lips; a head pose (yaw, pitch, roll in degrees, centre and scale in normalised image
units) rotates the 3D points and projects them orthographically. Every chain is sampled in the order of
``safealign.faces.layout`` so synthetic arrays match MediaPipe extraction point by point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from safealign.faces import layout as L

# name: (low, high) of each identity parameter, in face half-heights (the identity distribution).
IDENTITY_RANGES: dict[str, tuple[float, float]] = {
    "face_width": (0.66, 0.88),      # half-width of the face oval
    "face_length": (0.90, 1.10),     # vertical stretch of the whole face
    "jaw": (0.0, 0.40),              # narrowing of the lower face (0 = round, 0.4 = pointed chin)
    "eye_spacing": (0.28, 0.42),     # half the distance between the eye centres
    "eye_size": (0.10, 0.17),        # eye half-width
    "brow_height": (0.13, 0.25),     # brow above the eye centre
    "nose_length": (0.26, 0.42),     # eye line to nose tip
    "mouth_width": (0.22, 0.36),     # mouth half-width
    "lip_thickness": (0.03, 0.08),   # upper-lip height (the lower lip is 1.3x)
}
IDENTITY_KEYS = tuple(IDENTITY_RANGES)
EXPRESSION_KEYS = ("smile", "mouth_open", "brow_raise", "frown", "blink", "sneer", "tongue", "brow_asym",
                   "squint")
EYE_Y = -0.22


@dataclass(frozen=True)
class Identity:
    """Geometry (``IDENTITY_KEYS`` -> value) and appearance colours (RGB) of one subject."""

    geometry: dict[str, float]
    skin: tuple[int, int, int] = (224, 182, 150)
    hair: tuple[int, int, int] = (60, 40, 30)
    background: tuple[int, int, int] = (90, 110, 140)
    iris: tuple[int, int, int] = (70, 90, 60)
    lips: tuple[int, int, int] = (170, 80, 80)
    extra: dict[str, str] = field(default_factory=dict)

    def vector(self) -> np.ndarray:
        """Geometry scaled to [0, 1] per parameter (distances between identities are taken here)."""
        return np.array([(self.geometry[k] - lo) / (hi - lo) for k, (lo, hi) in IDENTITY_RANGES.items()])


def identity_from_vector(v: np.ndarray, colours: dict | None = None) -> Identity:
    """An identity from a [0, 1]-scaled geometry vector (clipped to the ranges) and optional colours."""
    v = np.clip(np.asarray(v, np.float64), 0.0, 1.0)
    geom = {k: float(lo + x * (hi - lo)) for x, (k, (lo, hi)) in zip(v, IDENTITY_RANGES.items())}
    return Identity(geom, **(colours or {}))


def identity_distance(a: Identity, b: Identity) -> float:
    """RMS distance of two identities' [0, 1]-scaled geometry vectors."""
    return float(np.sqrt(np.mean((a.vector() - b.vector()) ** 2)))


def _arc(n: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, n)


def face_points(identity: Identity, expression: dict[str, float]) -> np.ndarray:
    """Face-frame 3D points [140, 3] of ``identity`` with ``expression`` (missing keys = 0)."""
    g = identity.geometry
    e = {k: float(expression.get(k, 0.0)) for k in EXPRESSION_KEYS}
    pts: dict[int, tuple[float, float, float]] = {}
    open_ = 0.20 * e["mouth_open"] + 0.10 * e["tongue"]
    # Oval: uniform angle from the forehead top, clockwise on screen; the jaw narrows and drops.
    for k, m in enumerate(L.OVAL):
        th = 2 * np.pi * k / len(L.OVAL)
        lower = max(0.0, -np.cos(th))
        x = g["face_width"] * np.sin(th) * (1 - g["jaw"] * lower ** 1.5)
        y = -np.cos(th) * g["face_length"] + 0.6 * open_ * lower ** 2
        pts[m] = (x, y, -0.35 * np.sin(th) ** 2)
    # Eyes: lids open as sin(pi u) from the outer to the inner corner; blink and squint close them.
    for side, (lower, upper) in ((-1, (L.RIGHT_EYE_LOWER, L.RIGHT_EYE_UPPER)),
                                 (1, (L.LEFT_EYE_LOWER, L.LEFT_EYE_UPPER))):
        cx, ew = side * g["eye_spacing"], g["eye_size"]
        squint = e["squint"] if side == 1 else 0.0
        eh = ew * 0.5 * (1 - 0.9 * e["blink"]) * (1 - 0.7 * squint) * (1 + 0.25 * e["brow_raise"])
        xs = cx + side * ew - 2 * side * ew * _arc(len(lower))
        for chain, sign, f in ((upper, -1, 1.0), (lower, 1, 0.8)):
            for m, x, u in zip(chain, xs, _arc(len(chain))):
                pts[m] = (x, EYE_Y + sign * f * eh * np.sin(np.pi * u), 0.25)
        pts[L.PUPILS[0 if side == -1 else 1]] = (cx, EYE_Y + 0.1 * eh, 0.27)
    # Brows: outer -> inner with an arch; raise lifts both, frown lowers the inner ends, asym lifts one.
    for side, (lower, upper) in ((-1, (L.RIGHT_BROW_LOWER, L.RIGHT_BROW_UPPER)),
                                 (1, (L.LEFT_BROW_LOWER, L.LEFT_BROW_UPPER))):
        cx, ew = side * g["eye_spacing"], g["eye_size"]
        base = EYE_Y - g["brow_height"] - 0.09 * e["brow_raise"] + 0.03 * e["frown"]
        base -= 0.13 * e["brow_asym"] if side == -1 else 0.0
        u = _arc(len(lower))
        xs = cx + side * 1.3 * ew - side * 2.3 * ew * u
        ys = base - 0.05 * np.sin(np.pi * u) + 0.07 * e["frown"] * u ** 2
        for chain, dy in ((lower, 0.0), (upper, -0.045)):
            for m, x, y in zip(chain, xs, ys):
                pts[m] = (x, y + dy, 0.3)
    # Nose: bridge between the eyes to the tip; the sneer lifts the image-right nostril.
    tip = EYE_Y + g["nose_length"]
    for m, f in zip(L.NOSE_BRIDGE[:-1], (0.0, 0.2, 0.4, 0.6, 0.8, 0.92, 1.0)):
        pts[m] = (0.0, EYE_Y + f * g["nose_length"], 0.3 + 0.25 * f)
    pts[L.NOSE_BRIDGE[-1]] = (0.0, tip + 0.05, 0.45)
    nw = 0.085
    pts[L.NOSE_BASE[0]] = (-nw, tip + 0.02, 0.38)
    pts[L.NOSE_BASE[2]] = (nw + 0.02 * e["sneer"], tip + 0.02 - 0.04 * e["sneer"], 0.38)
    # Lips: chains from the image-left to the image-right corner; the sneer and the tongue are one-sided.
    mw = g["mouth_width"] * (1 + 0.18 * e["smile"] - 0.1 * e["tongue"])
    my = tip + 0.17 + 0.5 * open_ * 0.3
    corner_y = np.array([my - 0.06 * e["smile"] + 0.05 * e["frown"],
                         my - 0.06 * e["smile"] + 0.05 * e["frown"] - 0.09 * e["sneer"]])
    lt = g["lip_thickness"]
    for chain, kind in ((L.LIPS_OUTER_UPPER, "ou"), (L.LIPS_OUTER_LOWER, "ol"), (L.LIPS_INNER_UPPER, "iu"),
                        (L.LIPS_INNER_LOWER, "il")):
        u = _arc(len(chain))
        w = mw if kind[0] == "o" else 0.86 * mw
        x = -w + 2 * w * u + 0.05 * e["tongue"] * np.sin(np.pi * u)
        base = corner_y[0] + (corner_y[1] - corner_y[0]) * u
        bump = np.sin(np.pi * u)
        raise_r = 0.07 * e["sneer"] * u ** 2
        skew = 0.08 * e["tongue"] * bump * (1.3 - u)
        y = {"ou": base - lt * bump - raise_r - 0.3 * open_ * bump,
             "iu": base - 0.15 * lt * bump - raise_r - 0.3 * open_ * bump,
             "il": base + 0.15 * lt * bump + 0.7 * open_ * bump + skew,
             "ol": base + 1.3 * lt * bump + 0.7 * open_ * bump + skew}[kind]
        for m, xx, yy in zip(chain, x, y):
            pts[m] = (xx, yy, 0.35)
    return np.array([pts[m] for m in L.MESH_INDEX], np.float32)


@dataclass(frozen=True)
class HeadPose:
    """Head rotation (degrees) and placement (normalised image centre, half-height scale)."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    cx: float = 0.5
    cy: float = 0.52
    scale: float = 0.36


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def project(points: np.ndarray, pose: HeadPose) -> np.ndarray:
    """Face-frame points [K, 3] -> layout landmarks [K, 4] (x, y normalised, z, visibility 1)."""
    rotated = points.astype(np.float64) @ _rotation(pose.yaw, pose.pitch, pose.roll).T
    out = np.empty((len(points), 4), np.float32)
    out[:, 0] = pose.cx + pose.scale * rotated[:, 0]
    out[:, 1] = pose.cy + pose.scale * rotated[:, 1]
    out[:, 2] = pose.scale * rotated[:, 2]
    out[:, 3] = 1.0
    return out


def landmarks(identity: Identity, expression: dict[str, float], pose: HeadPose) -> np.ndarray:
    """Layout landmarks [140, 4] of a posed, expressive face."""
    return project(face_points(identity, expression), pose)
