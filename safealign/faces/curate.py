"""Face-specific curation: expression-strength copies of unsafe training clips.

The landmark families (jitter, head roll, scale, translation, timing, part dropout) reuse the body code
with the ``face140`` layout (``safealign.poses.augment`` / ``robustness``). Expression strength needs the
subject's neutral landmarks under the same head motion (clip key ``neutral``): a copy at strength s is
``neutral + s * (pose - neutral)``, so s < 1 is a weaker and s > 1 an exaggerated expression of the same face.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safealign.poses.curate import Derived, Poses, collect, derived_rows


def scale_expression(pose: np.ndarray, neutral: np.ndarray, strength: float) -> np.ndarray:
    """Landmarks with the expression scaled by ``strength`` about the neutral face (visibility kept)."""
    out = pose.copy()
    out[..., :3] = neutral[..., :3] + strength * (pose[..., :3] - neutral[..., :3])
    return out


def expression_copies(df: pd.DataFrame, poses: Poses, neutrals: Poses, copies: int, delta: float,
                      rng: np.random.Generator, threshold: float) -> Derived:
    """``copies`` expression-strength copies (s ~ U(1 - delta, 1 + delta)) of every unsafe TRAINING clip."""
    parents = df[(df["split"] == "train") & (df["label"] == "unsafe") & (df["source"] != "augmented")]
    parents = parents[parents["clip_id"].isin(list(neutrals))]
    rows, out = [], {}
    for copy in range(copies):
        strengths = rng.uniform(1 - delta, 1 + delta, len(parents))
        ids = [f"{c}__expr{copy}" for c in parents["clip_id"]]
        ys = [scale_expression(poses[c], neutrals[c], s) for c, s in zip(parents["clip_id"], strengths)]
        if not ys:
            continue
        labels = [f"expression:{s:.3g}" for s in strengths]
        rows.append(derived_rows(parents, ids, "augmented", labels, "train", np.stack(ys), threshold))
        out.update(zip(ids, ys))
    return collect(rows, out)
