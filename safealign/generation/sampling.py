"""Deterministic DDIM sampling: uint8 references + pose maps in, uint8 frames out."""

from __future__ import annotations

import numpy as np
import torch

from safealign.generation.device import autocast
from safealign.generation.diffusion import to_signed, to_uint8, to_unit
from safealign.generation.model import PoseGuidedGenerator


def item_noise(seed: int, index: int, shape: tuple[int, ...]) -> torch.Tensor:
    """Starting noise of item ``index``: depends only on (seed, index), not on batching or device."""
    gen = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, index]).generate_state(1)[0]))
    return torch.randn(shape, generator=gen)


@torch.no_grad()
def generate(model: PoseGuidedGenerator, reference: np.ndarray, pose_maps: np.ndarray, seed: int = 0,
             steps: int = 20, batch_size: int = 32, guidance_scale: float = 1.0,
             shared_noise: bool = False) -> np.ndarray:
    """Frames uint8 [B, H, W, 3] for references and pose maps uint8 [B, H, W, 3] (same H, W).

    Deterministic for a seed: item i always starts from the same noise, whatever the batch size;
    ``shared_noise`` starts every item from item 0's noise (steadier video frames). With ``guidance_scale``
    > 1, classifier-free guidance on the reference is applied (zeroed reference = unconditional).
    """
    reference = np.asarray(reference)
    pose_maps = np.asarray(pose_maps)
    if reference.shape != pose_maps.shape or reference.ndim != 4 or reference.shape[-1] != 3:
        raise ValueError(f"generate: reference {reference.shape} and pose_maps {pose_maps.shape} must "
                         "both be uint8 [B, H, W, 3] of the same shape")
    if steps < 1:
        raise ValueError(f"generate: steps must be >= 1, received {steps}")
    model.eval()
    out = []
    for start in range(0, len(reference), batch_size):
        ref = reference[start:start + batch_size]
        pose = pose_maps[start:start + batch_size]
        out.append(_sample_batch(model, ref, pose, seed, start, steps, guidance_scale, shared_noise))
    return np.concatenate(out) if out else np.zeros_like(reference)


@torch.no_grad()
def sample_states(model: PoseGuidedGenerator, reference: np.ndarray, pose_maps: np.ndarray, seed: int = 0,
                  steps: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    """The inputs the model sees while ``generate`` samples (same seed and steps, so the same trajectory):
    noisy frames float32 [steps * B, 3, H, W] (step-major) and their timesteps int64 [steps * B]."""
    reference, pose_maps = np.asarray(reference), np.asarray(pose_maps)
    if reference.shape != pose_maps.shape or reference.ndim != 4 or len(reference) == 0:
        raise ValueError(f"sample_states: reference {reference.shape} and pose_maps {pose_maps.shape} must be "
                         "non-empty uint8 [B, H, W, 3] of the same shape")
    model.eval()
    trace: list[tuple[torch.Tensor, torch.Tensor]] = []
    _sample_batch(model, reference, pose_maps, seed, 0, steps, 1.0, False, trace)
    return torch.cat([x.cpu() for _, x in trace]), torch.cat([t.cpu() for t, _ in trace])


def _sample_batch(model: PoseGuidedGenerator, ref: np.ndarray, pose: np.ndarray, seed: int, offset: int,
                  steps: int, guidance_scale: float, shared_noise: bool,
                  trace: list[tuple[torch.Tensor, torch.Tensor]] | None = None) -> np.ndarray:
    device = model.device
    scheduler = model.sample_scheduler()
    scheduler.set_timesteps(steps)
    ref_t = to_signed(ref, device)
    pose_t = to_unit(pose, device)
    shape = (3, ref.shape[1], ref.shape[2])
    x = torch.stack([item_noise(seed, 0 if shared_noise else offset + i, shape) for i in range(len(ref))])
    x = x.to(device)
    for t in scheduler.timesteps:
        tt = torch.full((len(ref),), int(t), device=device, dtype=torch.long)
        if trace is not None:
            trace.append((tt, x))
        with autocast(device):
            pred = model(x, tt, ref_t, pose_t).float()
            if guidance_scale != 1.0:
                uncond = model(x, tt, torch.zeros_like(ref_t), pose_t).float()
                pred = uncond + guidance_scale * (pred - uncond)
        x = scheduler.step(pred, t, x, eta=0.0).prev_sample
    return to_uint8(x)
