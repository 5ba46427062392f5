"""Deterministic DDIM sampling: rows of (reference, pose map, clip keypoints, frame index) in, uint8 frames out."""

from __future__ import annotations

import numpy as np
import torch

from safealign.generation.data import Triples
from safealign.generation.device import autocast
from safealign.generation.diffusion import condition, to_uint8
from safealign.generation.model import PoseGuidedGenerator


def item_noise(seed: int, index: int, shape: tuple[int, ...]) -> torch.Tensor:
    """Starting noise of item ``index``: depends only on (seed, index), not on batching or device."""
    gen = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, index]).generate_state(1)[0]))
    return torch.randn(shape, generator=gen)


@torch.no_grad()
def generate(model: PoseGuidedGenerator, rows: Triples, seed: int = 0, steps: int = 20, batch_size: int = 32,
             guidance_scale: float = 1.0, shared_noise: bool = False, use_map: float = 1.0,
             use_tokens: float = 1.0) -> np.ndarray:
    """Frames uint8 [N, H, W, 3] for the conditions of ``rows`` (their targets are not read).

    Deterministic for a seed: item i always starts from the same noise, whatever the batch size;
    ``shared_noise`` starts every item from item 0's noise (steadier video frames). With ``guidance_scale``
    > 1, classifier-free guidance on the reference is applied (zeroed reference = unconditional).
    ``use_map`` / ``use_tokens`` 0 switch a pose path off (the pose check's map-only / tokens-only modes).
    """
    if steps < 1:
        raise ValueError(f"generate: steps must be >= 1, received {steps}")
    model.eval()
    out = [_sample_batch(model, rows.take(np.arange(start, min(start + batch_size, len(rows)))), seed, start,
                         steps, guidance_scale, shared_noise, use_map, use_tokens)
           for start in range(0, len(rows), batch_size)]
    return np.concatenate(out) if out else np.zeros_like(rows.reference)


def _sample_batch(model: PoseGuidedGenerator, rows: Triples, seed: int, offset: int, steps: int,
                  guidance_scale: float, shared_noise: bool, use_map: float, use_tokens: float) -> np.ndarray:
    device = model.device
    scheduler = model.sample_scheduler()
    scheduler.set_timesteps(steps)
    cond = condition(rows, device)
    n = len(rows)
    if use_map != 1.0:
        cond.use_map = torch.full((n,), float(use_map), device=device)
    if use_tokens != 1.0:
        cond.use_tokens = torch.full((n,), float(use_tokens), device=device)
    uncond = None
    if guidance_scale != 1.0:
        uncond = condition(rows, device)
        uncond.reference = torch.zeros_like(uncond.reference)
    shape = (3, rows.reference.shape[1], rows.reference.shape[2])
    x = torch.stack([item_noise(seed, 0 if shared_noise else offset + i, shape) for i in range(n)]).to(device)
    for t in scheduler.timesteps:
        tt = torch.full((n,), int(t), device=device, dtype=torch.long)
        with autocast(device):
            pred = model(x, tt, cond).float()
            if uncond is not None:
                free = model(x, tt, uncond).float()
                pred = free + guidance_scale * (pred - free)
        x = scheduler.step(pred, t, x, eta=0.0).prev_sample
    return to_uint8(x)
