"""Tensor conventions and the training objective (poseguard.md 2.2): v-prediction with min-SNR weighting.

Frames and references are uint8 RGB [B, H, W, 3] on disk; the model sees [-1, 1] (frames) and [0, 1] (pose
maps), channels first, like Moore's dataset code; keypoints stay float32 [B, T, J, 3].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from safealign.generation.data import Triples
from safealign.generation.device import autocast
from safealign.generation.model import Condition, PoseGuidedGenerator


def to_signed(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 [B, H, W, 3] -> float [B, 3, H, W] in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).to(device).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def to_unit(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 [B, H, W, 3] -> float [B, 3, H, W] in [0, 1] (pose maps)."""
    return torch.from_numpy(np.ascontiguousarray(images)).to(device).permute(0, 3, 1, 2).float() / 255.0


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float [B, 3, H, W] in [-1, 1] -> uint8 [B, H, W, 3]."""
    return ((images.float().clamp(-1, 1) + 1.0) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def condition(rows: Triples, device: torch.device) -> Condition:
    """The model's condition for ``rows`` (reference, pose map, clip keypoints, frame index), every path on."""
    return Condition(to_signed(rows.reference, device), to_unit(rows.pose, device),
                     torch.from_numpy(np.ascontiguousarray(rows.keypoints, dtype=np.float32)).to(device),
                     torch.from_numpy(np.asarray(rows.frame, dtype=np.int64)).to(device))


@dataclass(frozen=True)
class LossConfig:
    """Knobs of the diffusion loss (params.yaml ``pretrain_generator.loss``)."""

    min_snr_gamma: float
    ref_drop_prob: float
    noise_offset: float


@dataclass
class NoisedBatch:
    """One training draw: the noisy input, its timestep and condition, the regression goal and the min-SNR
    weight per sample."""

    noisy: torch.Tensor
    t: torch.Tensor
    cond: Condition
    goal: torch.Tensor
    weight: torch.Tensor

    def part(self, start: int, stop: int) -> "NoisedBatch":
        """Samples ``start`` to ``stop`` (exclusive)."""
        sl = slice(start, stop)
        return NoisedBatch(self.noisy[sl], self.t[sl], self.cond.rows(sl), self.goal[sl], self.weight[sl])


def noised_batch(model: PoseGuidedGenerator, rows: Triples, generator: torch.Generator, loss: LossConfig,
                 scheduler=None, t_min: int = 0, map_drop: float = 0.0, token_drop: float = 0.0) -> NoisedBatch:
    """Noise ``rows``' clean frames (``Triples.clean``) at random timesteps t ~ U{t_min .. T-1}; the goal is
    the one that reconstructs ``rows.target`` (the true frame, or a degraded one: ``redirected_goal``). The
    reference is dropped with ``loss.ref_drop_prob`` (zeros = mid-grey: the unconditional branch, 2.2), the pose
    map with ``map_drop`` and the posture tokens with ``token_drop`` (pretraining makes each path carry the
    posture alone). All randomness comes from ``generator``, so a resumed run is bit-identical."""
    device = model.device
    scheduler = scheduler or model.train_scheduler()
    cond = condition(rows, device)
    x0 = to_signed(rows.clean, device)
    b = x0.shape[0]
    noise = torch.randn(x0.shape, generator=generator).to(device)
    if loss.noise_offset:
        noise = noise + loss.noise_offset * torch.randn((b, x0.shape[1], 1, 1), generator=generator).to(device)
    steps = scheduler.config.num_train_timesteps
    t = (t_min + torch.rand(b, generator=generator) * (steps - t_min)).long().clamp(max=steps - 1).to(device)
    keep = (torch.rand(b, generator=generator) >= loss.ref_drop_prob).to(device).float()
    cond.reference = cond.reference * keep.view(b, 1, 1, 1)
    if map_drop:
        cond.use_map = (torch.rand(b, generator=generator) >= map_drop).float().to(device)
    if token_drop:
        cond.use_tokens = (torch.rand(b, generator=generator) >= token_drop).float().to(device)
    noisy = scheduler.add_noise(x0, noise, t)
    batch = NoisedBatch(noisy, t, cond, torch.zeros_like(x0), snr_weight(scheduler, t, loss.min_snr_gamma,
                                                                            model.prediction_type))
    if rows.source is None:
        batch.goal = scheduler.get_velocity(x0, noise, t) if model.prediction_type == "v_prediction" else noise
    else:
        batch.goal = redirected_goal(scheduler, batch, to_signed(rows.target, device), model.prediction_type)
    return batch


def redirected_goal(scheduler, batch: NoisedBatch, x0_goal: torch.Tensor, prediction_type: str) -> torch.Tensor:
    """The regression goal that makes the model's implied clean frame equal ``x0_goal`` from ``batch.noisy``
    (noised from another frame): v = (a x_t - x0) / s, or eps = (x_t - a x0) / s, with a^2 + s^2 = 1."""
    alphas = scheduler.alphas_cumprod.to(batch.t.device)[batch.t].view(-1, 1, 1, 1)
    a, s = alphas.sqrt(), (1.0 - alphas).sqrt()
    if prediction_type == "v_prediction":
        return (a * batch.noisy - x0_goal) / s
    return (batch.noisy - a * x0_goal) / s


def predict(model: PoseGuidedGenerator, batch: NoisedBatch) -> torch.Tensor:
    """The model's prediction (float32) for a noised batch, under the device's autocast."""
    with autocast(batch.noisy.device):
        return model(batch.noisy, batch.t, batch.cond).float()


def weighted_error(batch: NoisedBatch, pred: torch.Tensor, goal: torch.Tensor | None = None) -> torch.Tensor:
    """min-SNR weighted squared error per sample [B] of ``pred`` to ``goal`` (default: the diffusion goal)."""
    goal = batch.goal if goal is None else goal
    return ((pred - goal) ** 2).mean(dim=(1, 2, 3)) * batch.weight


def snr_weight(scheduler, t: torch.Tensor, gamma: float, prediction_type: str) -> torch.Tensor:
    """min-SNR weighting (Hang et al.; Moore uses gamma = 5): min(SNR, g)/SNR, +1 in both for v-prediction."""
    alphas = scheduler.alphas_cumprod.to(t.device)[t]
    snr = alphas / (1.0 - alphas).clamp(min=1e-8)
    if gamma <= 0:
        return torch.ones_like(snr)
    if prediction_type == "v_prediction":
        return torch.clamp(snr + 1.0, max=gamma) / (snr + 1.0)
    return torch.clamp(snr, max=gamma) / snr.clamp(min=1e-8)


def concat_batches(parts: Sequence[NoisedBatch]) -> NoisedBatch:
    """The samples of ``parts`` one after the other."""
    def cat(xs: list) -> torch.Tensor | None:
        return None if any(x is None for x in xs) else torch.cat(xs)
    conds = [p.cond for p in parts]
    cond = Condition(*(cat([getattr(c, f) for c in conds]) for f in Condition.__dataclass_fields__))
    return NoisedBatch(torch.cat([p.noisy for p in parts]), torch.cat([p.t for p in parts]), cond,
                       torch.cat([p.goal for p in parts]), torch.cat([p.weight for p in parts]))
