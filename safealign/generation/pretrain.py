"""Training of the unaligned base generator on rows of every category, and its pose check."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from safealign.generation import training
from safealign.generation.data import Triples
from safealign.generation.diffusion import LossConfig, noised_batch, predict, weighted_error
from safealign.generation.model import GeneratorConfig, PoseGuidedGenerator
from safealign.generation.pose_tokens import TokenJoints, masked_keypoint_loss
from safealign.generation.sampling import generate
from safealign.generation.training import LoopConfig, LoopResult

# The pose check's three ways of giving the pose: (use_map, use_tokens).
POSE_PATHS = {"both": (1.0, 1.0), "map": (1.0, 0.0), "tokens": (0.0, 1.0)}


@dataclass(frozen=True)
class TokenObjective:
    """The posture-token encoder's own objective in pretraining: ``warmup`` steps of masked keypoint modelling
    alone (``batch`` clips each, cheap: no UNet), then ``weight`` x that loss added to every diffusion step."""

    warmup: int
    batch: int
    weight: float
    mask_share: float


def pretrain(rows: Triples, arch: GeneratorConfig, tokens: TokenJoints, layout: str, loss: LossConfig,
             loop: LoopConfig, batch_size: int, device: torch.device, map_drop: float, token_drop: float,
             token_objective: TokenObjective, checkpoint_dir: str | Path | None = None,
             callback: Callable[[int, dict[str, float]], None] | None = None,
             ) -> tuple[PoseGuidedGenerator, LoopResult]:
    """Train a fresh generator (seeded by ``loop.seed``); resumes from ``checkpoint_dir`` when it matches.
    ``map_drop`` / ``token_drop``: share of rows whose pose map / posture tokens are switched off, so that
    each path learns to carry the posture on its own. ``token_objective``: masked keypoint modelling of the
    posture-token encoder (``safealign.generation.pose_tokens.masked_keypoint_loss``), first alone, then beside
    the diffusion loss, so the tokens describe the posture whether or not the UNet has learnt to read them."""
    if len(rows) == 0:
        raise ValueError("pretrain: no training rows")
    torch.manual_seed(loop.seed)
    model = PoseGuidedGenerator.build(arch, tokens, layout).to(device)
    scheduler = model.train_scheduler()
    clips = _clip_keypoints(rows)
    obj = token_objective

    def step(k: int, rng: np.random.Generator, gen: torch.Generator) -> dict[str, torch.Tensor]:
        kp = torch.from_numpy(clips[rng.integers(0, len(clips), obj.batch)]).to(device)
        tokens_loss = masked_keypoint_loss(model.pose_tokens, kp, gen, obj.mask_share)
        if k < obj.warmup:
            return {"loss": tokens_loss, "tokens": tokens_loss}
        batch = noised_batch(model, rows.take(rng.integers(0, len(rows), batch_size)), gen, loss, scheduler,
                             map_drop=map_drop, token_drop=token_drop)
        diffusion = weighted_error(batch, predict(model, batch)).mean()
        return {"loss": diffusion + obj.weight * tokens_loss, "diffusion": diffusion, "tokens": tokens_loss}

    result = training.run_training(model, model.parameters(), step, replace(loop, steps=loop.steps + obj.warmup),
                                   checkpoint_dir, "pretrain_generator", callback)
    return model.eval(), result


def _clip_keypoints(rows: Triples) -> np.ndarray:
    """The distinct clips' keypoints of ``rows`` [C, T, J, 3] (rows of one clip share them)."""
    _, first = np.unique(rows.keypoints.reshape(len(rows), -1), axis=0, return_index=True)
    return np.ascontiguousarray(rows.keypoints[np.sort(first)])


def pose_following(model: PoseGuidedGenerator, rows: Triples, steps: int, seed: int,
                   max_items: int = 16) -> dict[str, float]:
    """Does the output follow the pose? Per pose path (both, map only, tokens only): the error to the true
    frame with the true pose over the error with another clip's pose (``pose_ratio.<path>``; < 1 means the
    pose steers the output, 1 means it is ignored). Errors are mean squares of pixels in [0, 1]."""
    n = min(max_items, len(rows))
    if n < 2:
        return {}
    sample = rows.take(np.linspace(0, len(rows) - 1, n).round().astype(int))
    roll = np.roll(np.arange(n), n // 2)
    swapped = Triples(sample.reference, sample.pose[roll], sample.target, sample.keypoints[roll],
                      sample.frame[roll])
    truth = sample.target.astype(np.float32) / 255.0
    out: dict[str, float] = {"items": n}
    for name, (use_map, use_tokens) in POSE_PATHS.items():
        matched = generate(model, sample, seed=seed, steps=steps, use_map=use_map, use_tokens=use_tokens)
        other = generate(model, swapped, seed=seed, steps=steps, use_map=use_map, use_tokens=use_tokens)
        mse_true = float(np.mean((matched.astype(np.float32) / 255.0 - truth) ** 2))
        mse_swap = float(np.mean((other.astype(np.float32) / 255.0 - truth) ** 2))
        out[f"mse_true_pose.{name}"] = mse_true
        out[f"pose_ratio.{name}"] = mse_true / mse_swap if mse_swap > 0 else float("nan")
    return out
