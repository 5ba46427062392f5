"""Tensor conventions and the training objective (poseguard.md 2.2): v-prediction with min-SNR weighting.

Frames and references are uint8 RGB [B, H, W, 3] on disk; the model sees [-1, 1] (frames) and [0, 1] (pose
maps), channels first, like Moore's dataset code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from safealign.generation.device import autocast
from safealign.generation.model import PoseGuidedGenerator


def to_signed(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 [B, H, W, 3] -> float [B, 3, H, W] in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).to(device).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def to_unit(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 [B, H, W, 3] -> float [B, 3, H, W] in [0, 1] (pose maps)."""
    return torch.from_numpy(np.ascontiguousarray(images)).to(device).permute(0, 3, 1, 2).float() / 255.0


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float [B, 3, H, W] in [-1, 1] -> uint8 [B, H, W, 3]."""
    return ((images.float().clamp(-1, 1) + 1.0) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


@dataclass(frozen=True)
class LossConfig:
    """Knobs of the diffusion loss (params.yaml ``pretrain_generator.loss``)."""

    min_snr_gamma: float = 5.0
    ref_drop_prob: float = 0.1
    noise_offset: float = 0.05


@dataclass
class NoisedBatch:
    """One training draw: the model inputs, the regression goal and the min-SNR weight per sample."""

    noisy: torch.Tensor
    t: torch.Tensor
    reference: torch.Tensor
    pose: torch.Tensor
    goal: torch.Tensor
    weight: torch.Tensor

    def head(self, n: int) -> "NoisedBatch":
        """The first ``n`` samples."""
        return self.part(0, n)

    def part(self, start: int, stop: int) -> "NoisedBatch":
        """Samples ``start`` to ``stop`` (exclusive)."""
        return NoisedBatch(*(getattr(self, f)[start:stop] for f in self.__dataclass_fields__))

    @staticmethod
    def concat(parts: Sequence["NoisedBatch"]) -> "NoisedBatch":
        """The samples of ``parts`` one after the other."""
        fields = NoisedBatch.__dataclass_fields__
        return NoisedBatch(*(torch.cat([getattr(p, f) for p in parts]) for f in fields))


def noised_batch(model: PoseGuidedGenerator, target: np.ndarray, reference: np.ndarray, pose: np.ndarray,
                 generator: torch.Generator, loss: LossConfig, scheduler=None,
                 t_min: torch.Tensor | None = None, tie: np.ndarray | None = None) -> NoisedBatch:
    """Noise uint8 (target, reference, pose map) triples at random timesteps (all randomness from ``generator``).

    ``t_min`` (int64 [B], optional) raises the lower bound of each sample's timestep: t ~ U{t_min .. T-1}.
    ``tie`` (int [B], optional): sample i takes the noise, timestep and reference drop drawn for sample
    ``tie[i]`` (identity = independent draws), so paired samples differ only in their frames and conditions.
    """
    device = model.device
    scheduler = scheduler or model.train_scheduler()
    x0 = to_signed(target, device)
    ref = to_signed(reference, device)
    pose_t = to_unit(pose, device)
    b = x0.shape[0]
    noise = torch.randn(x0.shape, generator=generator).to(device)
    if loss.noise_offset:
        offset = torch.randn((b, x0.shape[1], 1, 1), generator=generator).to(device)
        noise = noise + loss.noise_offset * offset
    steps = scheduler.config.num_train_timesteps
    t = torch.randint(0, steps, (b,), generator=generator)
    if t_min is not None:
        t = t_min + (torch.rand(b, generator=generator) * (steps - t_min)).long()
    t = t.to(device)
    # Dropped reference = zeros (mid-gray): trains the unconditional branch too (2.2, CFG convention).
    keep = torch.rand(b, generator=generator) >= loss.ref_drop_prob if loss.ref_drop_prob else None
    if tie is not None:
        index = torch.as_tensor(tie, dtype=torch.long)
        noise, t = noise[index.to(noise.device)], t[index.to(t.device)]
        keep = None if keep is None else keep[index]
    if keep is not None:
        ref = ref * keep.to(device).float().view(b, 1, 1, 1)
    noisy = scheduler.add_noise(x0, noise, t)
    goal = scheduler.get_velocity(x0, noise, t) if model.prediction_type == "v_prediction" else noise
    return NoisedBatch(noisy, t, ref, pose_t, goal,
                       snr_weight(scheduler, t, loss.min_snr_gamma, model.prediction_type))


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
        return model(batch.noisy, batch.t, batch.reference, batch.pose).float()


def weighted_error(batch: NoisedBatch, pred: torch.Tensor, goal: torch.Tensor | None = None) -> torch.Tensor:
    """min-SNR weighted squared error per sample [B] of ``pred`` to ``goal`` (default: the diffusion goal)."""
    goal = batch.goal if goal is None else goal
    return ((pred - goal) ** 2).mean(dim=(1, 2, 3)) * batch.weight


def per_sample_loss(model: PoseGuidedGenerator, target: np.ndarray, reference: np.ndarray, pose: np.ndarray,
                    generator: torch.Generator, loss: LossConfig, scheduler=None) -> torch.Tensor:
    """Weighted diffusion loss per sample [B] for a batch of uint8 (target, reference, pose map) triples.

    The same loss serves both PoseGuard objectives: the caller passes the true frame (fidelity) or the
    degraded frame (safety) as ``target``. Randomness comes only from ``generator``, so a resumed run is
    bit-identical.
    """
    batch = noised_batch(model, target, reference, pose, generator, loss, scheduler)
    return weighted_error(batch, predict(model, batch))


def snr_weight(scheduler, t: torch.Tensor, gamma: float, prediction_type: str) -> torch.Tensor:
    """min-SNR weighting (Hang et al.; Moore uses gamma = 5): min(SNR, g)/SNR, +1 in both for v-prediction."""
    alphas = scheduler.alphas_cumprod.to(t.device)[t]
    snr = alphas / (1.0 - alphas).clamp(min=1e-8)
    if gamma <= 0:
        return torch.ones_like(snr)
    if prediction_type == "v_prediction":
        return torch.clamp(snr + 1.0, max=gamma) / (snr + 1.0)
    return torch.clamp(snr, max=gamma) / snr.clamp(min=1e-8)
