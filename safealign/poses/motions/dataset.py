"""The synthetic motion dataset: every subject performs every action; each clip is rendered to RGB frames.

Subjects (body proportions + appearance) and clips are drawn from RNGs seeded by (seed, subject) and
(seed, action, subject, repeat), so any clip can be regenerated alone and reruns are identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import numpy as np

from safealign.poses.motions.actions import actions_for
from safealign.poses.motions.camera import random_camera
from safealign.poses.motions.clip import Timing, neutral_pose, synthesize_clip
from safealign.poses.motions.keyframes import Action
from safealign.poses.motions.skeleton import Body, random_body
from safealign.video.character import Appearance, random_appearance, render_character, render_reference

if TYPE_CHECKING:  # params modules import safealign.config, which imports them back
    from safealign.poses.motions.params import SynthesizeMotionsParams


@dataclass(frozen=True)
class Subject:
    """A synthetic person: id, body proportions, appearance."""

    subject_id: str
    body: Body
    appearance: Appearance


@dataclass(frozen=True)
class SyntheticClip:
    """One rendered clip and its manifest fields."""

    clip_id: str
    action: Action
    subject: Subject
    pose: np.ndarray        # float32 [T, 33, 4]
    frames: np.ndarray      # uint8 [T, H, W, 3]
    reference: np.ndarray   # uint8 [H, W, 3]
    active: np.ndarray      # bool [T]: frames that show the action itself (Action.active_frames)
    yaw: float              # camera yaw in degrees (0 = frontal view)


def make_subjects(n: int, seed: int, spread: float) -> list[Subject]:
    """``n`` subjects, each from its own seeded RNG."""
    subjects = []
    for i in range(n):
        rng = np.random.default_rng([seed, 1, i])
        subjects.append(Subject(f"synth{i:03d}", random_body(rng, spread), random_appearance(rng)))
    return subjects


def iter_clips(cfg: SynthesizeMotionsParams, categories: list[str], resolution: int, seed: int
               ) -> Iterator[SyntheticClip]:
    """All clips: benign, near-miss and the unsafe actions of ``categories``, for every subject and repeat."""
    subjects = make_subjects(cfg.subjects, seed, cfg.proportion_spread)
    references = {s.subject_id: render_reference(neutral_pose(s.body, resolution, resolution), s.appearance,
                                                  resolution, resolution) for s in subjects}
    for a_idx, (name, action) in enumerate(sorted(actions_for(categories).items())):
        for s_idx, subject in enumerate(subjects):
            for rep in range(cfg.clips_per_subject):
                rng = np.random.default_rng([seed, 2, a_idx, s_idx, rep])
                timing = Timing(cfg.frames, cfg.fps, float(rng.uniform(*cfg.speed_range)),
                                float(rng.uniform(*action.start_phase)))
                camera = random_camera(rng, cfg.yaw_max_deg, (cfg.fill_range[0], cfg.fill_range[1]))
                pose, active = synthesize_clip(action, subject.body, camera, timing, rng, resolution,
                                               resolution, cfg.style_jitter_deg)
                frames = render_character(pose, subject.appearance, resolution, resolution)
                yield SyntheticClip(f"{name}__{subject.subject_id}__{rep}", action, subject, pose, frames,
                                    references[subject.subject_id], active, camera.yaw)


def count_clips(cfg: SynthesizeMotionsParams, categories: list[str]) -> int:
    """How many clips ``iter_clips`` yields (for progress bars)."""
    return len(actions_for(categories)) * cfg.subjects * cfg.clips_per_subject
