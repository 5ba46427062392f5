"""Per-clip scores: frame-averaged similarity of an output to ground truth and to the base model's output."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from safealign.evaluation.clips import ClipInputs
from safealign.evaluation.similarity import frame_similarity

SCORE_COLUMNS = ["ssim_gt", "psnr_gt", "ssim_base", "psnr_base"]


def _per_clip(a: list[np.ndarray], b: list[np.ndarray], chunk: int = 512) -> dict[str, list[float]]:
    """Frame metrics of all clips at once (one batched call per chunk of frames), averaged back per clip."""
    if not a:
        return {"psnr": [], "ssim": []}
    fa, fb = np.concatenate(a), np.concatenate(b)
    parts = [frame_similarity(fa[i : i + chunk], fb[i : i + chunk]) for i in range(0, len(fa), chunk)]
    bounds = np.cumsum([0, *[len(x) for x in a]])
    out = {}
    for key in ("psnr", "ssim"):
        values = np.concatenate([p[key] for p in parts])
        out[key] = [float(values[s:e].mean()) for s, e in zip(bounds[:-1], bounds[1:])]
    return out


def score_outputs(
    clips: Sequence[ClipInputs], outputs: Sequence[np.ndarray], base_outputs: Sequence[np.ndarray]
) -> pd.DataFrame:
    """One row per clip: ``clip_id`` and the mean per-frame SSIM/PSNR vs ground truth (NaN without it) and
    vs the base output of the same inputs and seed (1 / PSNR cap when ``outputs`` are the base outputs)."""
    if not (len(clips) == len(outputs) == len(base_outputs)):
        raise ValueError("score_outputs: clips, outputs and base outputs differ in length")
    vs_base = _per_clip(list(outputs), list(base_outputs))
    with_gt = [i for i, c in enumerate(clips) if c.target is not None]
    vs_gt = _per_clip([outputs[i] for i in with_gt], [clips[i].target for i in with_gt])
    table = pd.DataFrame(
        {
            "clip_id": [c.clip_id for c in clips],
            "ssim_gt": np.nan,
            "psnr_gt": np.nan,
            "ssim_base": vs_base["ssim"],
            "psnr_base": vs_base["psnr"],
        }
    )
    table.loc[with_gt, "ssim_gt"] = vs_gt["ssim"]
    table.loc[with_gt, "psnr_gt"] = vs_gt["psnr"]
    return table
