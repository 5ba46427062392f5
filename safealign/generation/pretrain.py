"""Training of the unaligned base generator on (reference, pose map, frame) triples of every category."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from safealign.generation.data import Triples
from safealign.generation.diffusion import LossConfig, per_sample_loss
from safealign.generation.model import GeneratorConfig, PoseGuidedGenerator
from safealign.generation.sampling import generate
from safealign.generation import training
from safealign.generation.training import LoopConfig, LoopResult


def pretrain(triples: Triples, arch: GeneratorConfig, loss: LossConfig, loop: LoopConfig, batch_size: int,
             device: torch.device, checkpoint_dir: str | Path | None = None,
             callback: Callable[[int, dict[str, float]], None] | None = None,
             ) -> tuple[PoseGuidedGenerator, LoopResult]:
    """Train a fresh generator (seeded by ``loop.seed``); resumes from ``checkpoint_dir`` when it matches."""
    if len(triples) == 0:
        raise ValueError("pretrain: no training triples")
    torch.manual_seed(loop.seed)
    model = PoseGuidedGenerator.build(arch).to(device)
    scheduler = model.train_scheduler()

    def step(_step: int, rng: np.random.Generator, gen: torch.Generator) -> dict[str, torch.Tensor]:
        batch = triples.take(rng.integers(0, len(triples), batch_size))
        value = per_sample_loss(model, batch.target, batch.reference, batch.pose, gen, loss, scheduler).mean()
        return {"loss": value}

    result = training.run_training(model, model.parameters(), step, loop, checkpoint_dir,
                                   "pretrain_generator", callback)
    return model.eval(), result


def pose_following(model: PoseGuidedGenerator, triples: Triples, steps: int, seed: int,
                   max_items: int = 16) -> dict[str, float]:
    """Does the output follow the pose? Error to the true frame with the true pose vs another clip's pose.

    Returns mean squared errors (pixels in [0, 1]) and their ratio; < 1 means the pose steers the output.
    """
    n = min(max_items, len(triples))
    if n < 2:
        return {}
    idx = np.linspace(0, len(triples) - 1, n).round().astype(int)
    sample = triples.take(idx)
    matched = generate(model, sample.reference, sample.pose, seed=seed, steps=steps)
    swapped = generate(model, sample.reference, np.roll(sample.pose, n // 2, axis=0), seed=seed, steps=steps)
    truth = sample.target.astype(np.float32) / 255.0
    mse_true = float(np.mean((matched.astype(np.float32) / 255.0 - truth) ** 2))
    mse_swap = float(np.mean((swapped.astype(np.float32) / 255.0 - truth) ** 2))
    return {"mse_true_pose": mse_true, "mse_swapped_pose": mse_swap,
            "pose_ratio": mse_true / mse_swap if mse_swap > 0 else float("nan"), "items": n}
