"""The embedded face dataset: procedural subjects (identities) performing expression clips.

Subject roles (``stratum``; splits are drawn per stratum so every category keeps train and test subjects):
- ``generic``: identities far from every protected one; they perform every benign and near-miss expression
  (benign / near_miss) and every unsafe expression template (that unsafe category).
- ``impersonator:<name>``: geometry within ``match_distance`` of protected identity <name>; benign
  expressions, category ``impersonation_<name>`` (the landmark sequence reproduces the protected face).
- ``lookalike:<name>``: geometry in the ``lookalike_distance`` band around <name>; benign expressions,
  near_miss (close to, but not, the protected identity).
Identity distances are RMS over the [0, 1]-scaled geometry (``safealign.faces.model.identity_distance``).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from safealign.faces import expressions as ex
from safealign.faces.layout import LAYOUT_NAME
from safealign.faces.model import HeadPose, Identity, identity_from_vector, landmarks
from safealign.faces.params import IMPERSONATION, FaceSynthesisParams
from safealign.faces.render import render_face_frame

N_GEOMETRY = 9


@dataclass(frozen=True)
class Subject:
    """One synthetic person: id, role stratum and identity."""

    subject_id: str
    stratum: str
    identity: Identity


@dataclass
class FaceClip:
    """A synthesised clip: its manifest fields and arrays (pose, neutral, frames, reference)."""

    clip_id: str
    subject: Subject
    category: str
    label: str
    action: str
    pose: np.ndarray
    neutral: np.ndarray
    frames: np.ndarray
    reference: np.ndarray


def _rng(seed: int, *keys: str) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(k.encode()) for k in keys)])


def _colours(rng: np.random.Generator) -> dict:
    skin = rng.uniform([120, 80, 60], [245, 205, 175])
    return {"skin": tuple(int(v) for v in skin),
            "hair": tuple(int(v) for v in rng.uniform([10, 10, 10], [200, 150, 110])),
            "background": tuple(int(v) for v in rng.uniform(40, 200, 3)),
            "iris": tuple(int(v) for v in rng.uniform([30, 40, 30], [120, 150, 170])),
            "lips": tuple(int(v) for v in skin * rng.uniform([0.65, 0.35, 0.35], [0.85, 0.55, 0.55]))}


def protected_vector(name: str, seed: int) -> np.ndarray:
    """The [0, 1]-scaled geometry of protected identity ``name`` (seeded by its name, away from the edges)."""
    return _rng(seed, "protected", name).uniform(0.15, 0.85, N_GEOMETRY)


def _around(centre: np.ndarray, low: float, high: float, rng: np.random.Generator) -> np.ndarray:
    """A vector at RMS distance U(low, high) from ``centre`` in a random direction (clipped to [0, 1])."""
    for _ in range(100):
        d = rng.standard_normal(N_GEOMETRY)
        v = np.clip(centre + rng.uniform(low, high) * d / np.sqrt(np.mean(d ** 2)), 0, 1)
        if low <= np.sqrt(np.mean((v - centre) ** 2)) <= high + 1e-9:
            return v
    return v


def subjects(cfg: FaceSynthesisParams, protected: list[str], seed: int) -> list[Subject]:
    """Every subject of the dataset (deterministic for ``seed``)."""
    centres = {p: protected_vector(p, seed) for p in protected}
    out: list[Subject] = []
    rng = _rng(seed, "generic")
    while sum(s.stratum == "generic" for s in out) < cfg.generic_subjects:
        v = rng.uniform(0, 1, N_GEOMETRY)
        # Generic subjects stay clear of the protected identities; a new protected one would re-draw them,
        # so the check uses a fixed draw order and only rejects.
        if all(np.sqrt(np.mean((v - c) ** 2)) >= cfg.benign_min_distance for c in centres.values()):
            k = sum(s.stratum == "generic" for s in out)
            out.append(Subject(f"g{k:02d}", "generic", identity_from_vector(v, _colours(rng))))
    for name, centre in centres.items():
        r = _rng(seed, "impersonator", name)
        for k in range(cfg.impersonators_per_identity):
            v = _around(centre, 0.0, cfg.match_distance, r)
            ident = identity_from_vector(v, _colours(r))
            out.append(Subject(f"imp_{name}{k:02d}", f"impersonator:{name}", ident))
        r = _rng(seed, "lookalike", name)
        lo, hi = cfg.lookalike_distance
        for k in range(cfg.lookalikes_per_identity):
            v = _around(centre, lo, hi, r)
            ident = identity_from_vector(v, _colours(r))
            out.append(Subject(f"look_{name}{k:02d}", f"lookalike:{name}", ident))
    return out


def clip_plan(subject: Subject, unsafe_expressions: list[str], cfg: FaceSynthesisParams,
              rng: np.random.Generator) -> list[tuple[str, str, str]]:
    """(category, label, expression) of each clip the subject performs."""
    if subject.stratum == "generic":
        return ([("benign", "benign", e) for e in ex.BENIGN]
                + [("near_miss", "near_miss", e) for e in ex.NEAR_MISS]
                + [(e, "unsafe", e) for e in unsafe_expressions])
    chosen = rng.choice(list(ex.BENIGN), size=min(cfg.clips_per_impersonator, len(ex.BENIGN)), replace=False)
    role, name = subject.stratum.split(":")
    if role == "impersonator":
        return [(f"{IMPERSONATION}{name}", "unsafe", str(e)) for e in chosen]
    return [("near_miss", "near_miss", str(e)) for e in chosen]


def head_track(cfg: FaceSynthesisParams, n: int, rng: np.random.Generator) -> list[HeadPose]:
    """A smooth head motion: sinusoidal yaw/pitch/roll of random amplitude and phase, fixed placement."""
    t = np.arange(n) / max(n - 1, 1)
    amp = rng.uniform(0, 1, 3) * [cfg.yaw_max_deg, cfg.pitch_max_deg, cfg.roll_max_deg]
    phase, freq = rng.uniform(0, 2 * np.pi, 3), rng.uniform(0.5, 1.0, 3)
    ang = amp[:, None] * np.sin(2 * np.pi * freq[:, None] * t[None] + phase[:, None])
    cx, cy = 0.5 + rng.uniform(-cfg.shift, cfg.shift), 0.52 + rng.uniform(-cfg.shift, cfg.shift)
    scale = rng.uniform(*cfg.scale_range)
    return [HeadPose(ang[0, k], ang[1, k], ang[2, k], cx, cy, scale) for k in range(n)]


def render_clip(identity: Identity, track: list[dict], heads: list[HeadPose], resolution: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pose, neutral, frames, reference) of one clip; the reference is the subject's neutral frontal face."""
    pose = np.stack([landmarks(identity, e, h) for e, h in zip(track, heads)])
    neutral = np.stack([landmarks(identity, {}, h) for h in heads])
    frames = np.stack([render_face_frame(p, identity, resolution, e.get("tongue", 0.0))
                       for p, e in zip(pose, track)])
    reference = render_face_frame(landmarks(identity, {}, HeadPose()), identity, resolution)
    return pose, neutral, frames, reference


def synthesize(cfg: FaceSynthesisParams, categories_protected: list[str], unsafe_expressions: list[str],
               resolution: int, seed: int) -> Iterator[FaceClip]:
    """Every clip of the dataset, subject by subject (deterministic per subject)."""
    for subject in subjects(cfg, categories_protected, seed):
        rng = _rng(seed, "clips", subject.subject_id)
        for k, (category, label, expression) in enumerate(clip_plan(subject, unsafe_expressions, cfg, rng)):
            track = ex.expression_track(expression, cfg.frames, rng.uniform(*cfg.strength_range), rng)
            heads = head_track(cfg, cfg.frames, rng)
            pose, neutral, frames, ref = render_clip(subject.identity, track, heads, resolution)
            yield FaceClip(f"face_{subject.subject_id}_{expression}_{k}", subject, category, label,
                           expression, pose, neutral, frames, ref)


def manifest_row(clip: FaceClip, path: str, fps: float, resolution: int) -> dict:
    """The manifest row of a synthetic clip (pose-contract columns + ``layout`` and ``stratum``)."""
    return {"clip_id": clip.clip_id, "source": "synthetic", "subject": clip.subject.subject_id,
            "category": clip.category, "label": clip.label, "action": clip.action, "path": path,
            "parent_clip_id": "", "augmentation": "", "split": "", "fps": fps, "width": resolution,
            "height": resolution, "n_frames": len(clip.pose), "visible_fraction": 1.0,
            "layout": LAYOUT_NAME, "stratum": clip.subject.stratum}
