"""Run one model over a clip set with fixed seeds, so base and guarded outputs differ only by the guard."""

from __future__ import annotations

import zlib
from typing import Callable, Sequence

import numpy as np
from tqdm import tqdm

from safealign.evaluation.clips import ClipInputs
from safealign.generation.data import Triples

# generate(model, rows: Triples, seed, steps) -> uint8 [B,H,W,3]
GenerateFn = Callable[..., np.ndarray]


def clip_seed(base_seed: int, clip_id: str) -> int:
    """A seed that depends only on the project seed and a clip id (not on the model being evaluated)."""
    return (base_seed * 1_000_003 + zlib.crc32(clip_id.encode("utf-8"))) % (2**31 - 1)


def generate_clips(
    model: object,
    clips: Sequence[ClipInputs],
    seed: int,
    steps: int,
    generate: GenerateFn,
    clips_per_batch: int = 1,
    desc: str = "generate",
) -> list[np.ndarray]:
    """Outputs per clip (uint8 [K,H,W,3]).

    Clips are batched in fixed consecutive groups; a group's seed comes from its first clip id, so every model
    evaluated on the same clip list sees identical inputs, batch layout and noise.
    """
    outputs: list[np.ndarray] = []
    groups = [clips[i : i + clips_per_batch] for i in range(0, len(clips), max(clips_per_batch, 1))]
    for group in tqdm(groups, desc=desc, leave=False, mininterval=2.0):
        rows = Triples.concat([c.rows() for c in group])
        out = np.asarray(generate(model, rows, seed=clip_seed(seed, group[0].clip_id), steps=steps), dtype=np.uint8)
        start = 0
        for c in group:
            outputs.append(out[start : start + len(c.pose_maps)])
            start += len(c.pose_maps)
    return outputs
