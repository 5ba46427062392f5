"""Training of the unaligned base generator on rows of every category, and its pose check."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from safealign.generation import training
from safealign.generation.data import Triples
from safealign.generation.diffusion import LossConfig, noised_batch, predict, weighted_error
from safealign.generation.model import GeneratorConfig, PoseGuidedGenerator
from safealign.generation.pose_tokens import TokenJoints
from safealign.generation.sampling import generate
from safealign.generation.training import LoopConfig, LoopResult

# The pose check's three ways of giving the pose: (use_map, use_tokens).
POSE_PATHS = {"both": (1.0, 1.0), "map": (1.0, 0.0), "tokens": (0.0, 1.0)}


def pretrain(rows: Triples, arch: GeneratorConfig, tokens: TokenJoints, layout: str, loss: LossConfig,
             loop: LoopConfig, batch_size: int, device: torch.device, map_drop: float, token_drop: float,
             checkpoint_dir: str | Path | None = None,
             callback: Callable[[int, dict[str, float]], None] | None = None,
             ) -> tuple[PoseGuidedGenerator, LoopResult]:
    """Train a fresh generator (seeded by ``loop.seed``); resumes from ``checkpoint_dir`` when it matches.
    ``map_drop`` / ``token_drop``: share of rows whose pose map / posture tokens are switched off, so that
    each path learns to carry the posture on its own."""
    if len(rows) == 0:
        raise ValueError("pretrain: no training rows")
    torch.manual_seed(loop.seed)
    model = PoseGuidedGenerator.build(arch, tokens, layout).to(device)
    scheduler = model.train_scheduler()

    def step(_step: int, rng: np.random.Generator, gen: torch.Generator) -> dict[str, torch.Tensor]:
        batch = noised_batch(model, rows.take(rng.integers(0, len(rows), batch_size)), gen, loss, scheduler,
                             map_drop=map_drop, token_drop=token_drop)
        return {"loss": weighted_error(batch, predict(model, batch)).mean()}

    result = training.run_training(model, model.parameters(), step, loop, checkpoint_dir,
                                   "pretrain_generator", callback)
    return model.eval(), result


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
