"""Ground truth for flagged pose-only clips, so a newly flagged pose can train its category's guard.

A flagged clip brings a pose sequence but no video of a person in that pose. The guard's safety term only
needs (reference, pose, degraded frames): the frames come from a synthetic character driven by the flagged
pose, with an appearance seeded by the clip id (reruns are byte-identical).
"""

from __future__ import annotations

import zlib

import numpy as np

from safealign.poses.motions.clip import neutral_pose
from safealign.poses.motions.skeleton import random_body
from safealign.video.character import random_appearance, render_character, render_reference


def synthetic_ground_truth(pose: np.ndarray, clip_id: str, resolution: int, seed: int) -> dict[str, np.ndarray]:
    """``frames`` uint8 [T, res, res, 3] of a seeded synthetic character following ``pose``, and its ``reference``."""
    rng = np.random.default_rng([seed, zlib.crc32(clip_id.encode())])
    appearance, body = random_appearance(rng), random_body(rng)
    frames = render_character(np.asarray(pose, np.float32), appearance, resolution, resolution)
    reference = render_reference(neutral_pose(body, resolution, resolution), appearance, resolution, resolution)
    return {"frames": frames, "reference": reference}
