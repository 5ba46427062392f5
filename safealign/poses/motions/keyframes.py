"""Keyframed actions: a small table of body-angle keyframes over one motion cycle, interpolated smoothly.

A keyframe lists only what differs from the neutral standing pose (``NEUTRAL``). Segment directions are
absolute in the body frame as ``(side, front)`` degrees: (0, 0) points straight down, side 90 points away
from the body's midline, front 90 points forward, front 180 (or side 180) points up; negative side crosses
the midline. Each side's angles are mirrored, so ``upper_l=(150, 0)`` and ``upper_r=(150, 0)`` form a "Y".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# name -> number of values. Angles in degrees; ``root`` (x, z) and ``lift`` in body heights.
POSE_KEYS: dict[str, int] = {
    "upper_l": 2, "upper_r": 2, "fore_l": 2, "fore_r": 2,
    "thigh_l": 2, "thigh_r": 2, "shank_l": 2, "shank_r": 2,
    "foot_l": 1, "foot_r": 1,
    "lean": 1, "bend": 1, "head": 1, "yaw": 1,
    "root": 2, "lift": 1,
}
# Keys whose values are lengths, not angles (style jitter in degrees does not apply to them).
LENGTH_KEYS = ("root", "lift")

NEUTRAL: dict[str, tuple[float, ...] | float] = {
    "upper_l": (8, 0), "upper_r": (8, 0), "fore_l": (6, 8), "fore_r": (6, 8),
    "thigh_l": (3, 0), "thigh_r": (3, 0), "shank_l": (3, 0), "shank_r": (3, 0),
    "foot_l": 90, "foot_r": 90,
    "lean": 0, "bend": 0, "head": 0, "yaw": 0,
    "root": (0, 0), "lift": 0,
}


def _slices() -> dict[str, slice]:
    out, start = {}, 0
    for key, dim in POSE_KEYS.items():
        out[key] = slice(start, start + dim)
        start += dim
    return out


KEY_SLICES = _slices()
POSE_DIM = sum(POSE_KEYS.values())


def pose_vector(overrides: dict[str, tuple[float, ...] | float]) -> np.ndarray:
    """The flat parameter vector of NEUTRAL updated by ``overrides`` (unknown keys are a ValueError)."""
    unknown = set(overrides) - set(POSE_KEYS)
    if unknown:
        raise ValueError(f"unknown pose key(s) {sorted(unknown)}; known: {list(POSE_KEYS)}")
    vec = np.empty(POSE_DIM, dtype=np.float64)
    for key, sl in KEY_SLICES.items():
        vec[sl] = np.atleast_1d(overrides.get(key, NEUTRAL[key]))
    return vec


@dataclass(frozen=True)
class Action:
    """One motion concept: its labels and a keyframe table over one cycle of ``period_s`` seconds.

    ``keys`` holds (phase in [0, 1), overrides of NEUTRAL); the cycle wraps from the last key to the first.
    Clips start at a random phase inside ``start_phase`` so that a short clip always shows the action's core.
    ``counterpart`` names the unsafe action a near-miss resembles ("" otherwise); ``travel`` (body heights)
    and ``spin`` (degrees) accumulate per cycle instead of wrapping (walking forward, turning round).
    """

    name: str
    category: str
    label: str
    keys: tuple[tuple[float, dict], ...]
    period_s: float = 2.0
    start_phase: tuple[float, float] = (0.0, 1.0)
    counterpart: str = ""
    travel: float = 0.0
    spin: float = 0.0
    table: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        phases = [p for p, _ in self.keys]
        if not phases or phases[0] != 0.0 or any(b <= a for a, b in zip(phases, phases[1:])) or phases[-1] >= 1:
            raise ValueError(f"action '{self.name}': key phases must start at 0, increase and stay < 1")
        object.__setattr__(self, "table", np.stack([pose_vector(o) for _, o in self.keys]))

    @property
    def phases(self) -> np.ndarray:
        """Key phases as an array."""
        return np.array([p for p, _ in self.keys])

    @property
    def active_phase(self) -> tuple[float, float]:
        """The part of the cycle where the action's defining posture or motion is on.

        An action that starts from the neutral stance (first key empty) and moves into a posture is active from
        its second key to its last (the lead-in from standing and the return are not the action); any other
        action is active over the whole cycle (a rhythmic motion is the action at every phase).
        """
        if len(self.keys) >= 3 and not self.keys[0][1]:
            return float(self.keys[1][0]), float(self.keys[-1][0])
        return 0.0, 1.0

    def active_frames(self, u: np.ndarray) -> np.ndarray:
        """Boolean per frame at unwrapped cycle positions ``u`` [T]: inside ``active_phase``."""
        start, stop = self.active_phase
        frac = np.mod(np.asarray(u, dtype=np.float64), 1.0)
        return (frac >= start - 1e-9) & (frac <= stop + 1e-9)


def interpolate(phases: np.ndarray, table: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Cyclic, eased (cosine) interpolation of key vectors ``table`` [K, D] at cycle positions ``u`` [T]."""
    u = np.mod(u, 1.0)
    ext_p = np.append(phases, phases[0] + 1.0)
    ext_v = np.concatenate([table, table[:1]], axis=0)
    idx = np.clip(np.searchsorted(ext_p, u, side="right") - 1, 0, len(phases) - 1)
    w = (u - ext_p[idx]) / (ext_p[idx + 1] - ext_p[idx])
    eased = (0.5 - 0.5 * np.cos(np.pi * w))[:, None]
    return ext_v[idx] + (ext_v[idx + 1] - ext_v[idx]) * eased


def mirror(key: dict[str, tuple[float, ...] | float]) -> dict[str, tuple[float, ...] | float]:
    """The same keyframe performed with the other side of the body (left/right swapped)."""
    out: dict[str, tuple[float, ...] | float] = {}
    for name, value in key.items():
        if name.endswith("_l") or name.endswith("_r"):
            out[name[:-1] + ("r" if name.endswith("_l") else "l")] = value
        elif name in ("bend", "yaw"):
            out[name] = -value  # type: ignore[operator]
        elif name == "root":
            out[name] = (-value[0], value[1])  # type: ignore[index]
        else:
            out[name] = value
    return out
