"""Extra synthetic appearances for guard training (train_guard.appearance_pool, issue 5).

Why: on held-out subjects the guard's effect followed the appearance as much as the pose. A learning curve on
val (safealign guard-curve) showed whole subjects degraded on benign poses (the tail that sets the block
threshold) and other subjects left untouched on unsafe poses. Rows that need no ground truth can carry any
appearance: the preserve rows (target: the frozen base's own prediction) and, with the flat ``gray`` degraded
target, the unsafe rows. New random characters from the dataset's own renderer widen the appearances the
adapter sees far beyond the training subjects at no labelling cost.
"""

from __future__ import annotations

import numpy as np

from safealign.errors import ConfigError


def appearance_pool(count: int, resolution: int, seed: int) -> np.ndarray:
    """``count`` reference images uint8 [count, res, res, 3] of new random synthetic characters (random body
    and look, neutral standing pose), the same for the same seed."""
    from safealign.poses.motions import neutral_pose
    from safealign.poses.motions.skeleton import random_body
    from safealign.video.character import random_appearance, render_reference

    rng = np.random.default_rng([seed, 0xA99E])  # a stream of its own: never the dataset's subjects' draws
    images = [render_reference(neutral_pose(random_body(rng), resolution, resolution), random_appearance(rng),
                               resolution, resolution) for _ in range(count)]
    return np.stack(images) if images else np.zeros((0, resolution, resolution, 3), np.uint8)


def pool_for_domain(count: int, domain: str, resolution: int, seed: int) -> np.ndarray | None:
    """The pool of ``train_guard.appearance_pool`` for a domain (None when 0); the renderer is the body's."""
    if not count:
        return None
    if domain != "body":
        raise ConfigError(f"face.train_guard.appearance_pool: expected 0 (the pool renders body characters), "
                          f"received {count}")
    return appearance_pool(count, resolution, seed)
