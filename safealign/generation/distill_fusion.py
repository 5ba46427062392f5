"""Fusion by multi-teacher distillation: one adapter trained to do what every single adapter does.

The fused adapter starts as the TIES merge of the single adapters and is then trained, with the single
adapters and the base frozen as teachers: on category i's unsafe training frames its prediction is pulled
to adapter i's prediction for the same noised input, on benign training frames to the base's. The single
adapters are never retrained, so adding a category retrains only this fusion (minutes), not the others.

Why: weight-space merges (TIES, sums, the closed form in closed_form.py) assume that the adapters act on
different inputs; at the embedded default's size they share one small feature space, so a merge either
averages each adapter's effect away (TIES: single-adapter blocking gone after fusion, issue 5) or adds up their
side effects (sum: benign outputs collapse). Distillation matches outputs instead of weights.

Noised training frames are not where sampling goes: a guard's effect compounds along its own sampling
trajectory, far from the noised true frames. ``trajectory_share`` puts a share of each side's rows on the
inputs the sampler actually meets (teacher i's trajectories on category i's poses, the base's on benign ones).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from peft import PeftModel

from safealign.generation import training
from safealign.generation.data import Triples
from safealign.generation.diffusion import (LossConfig, NoisedBatch, noised_batch, predict, snr_weight, to_signed,
                                           to_unit, weighted_error)
from safealign.generation.sampling import generate, sample_states
from safealign.generation.training import LoopConfig, LoopResult


@dataclass(frozen=True)
class DistillConfig:
    """Steps and batch of the distillation; unsafe rows drawn at t in [safety_t_min, T) as in guard training."""

    steps: int = 600
    lr: float = 1e-3
    batch_size: int = 8       # per step: half unsafe rows of one category (cycling), half benign rows
    safety_t_min: int = 0
    seed: int = 0
    appearance_share: float = 0.0   # share of the benign rows drawn from the appearance rows, when given
    trajectory_share: float = 0.0   # share of each side's rows drawn from recorded sampling trajectories
    trajectory_rows: int = 64       # (reference, pose) pairs per side whose trajectories are recorded
    trajectory_steps: int = 6       # DDIM steps of those trajectories (the evaluation's, to meet its inputs)
    trajectory_any_reference: bool = False   # pair the trajectory poses with any training reference, not their own


@dataclass(frozen=True)
class States:
    """Inputs met while sampling: noisy frames float32 [N, 3, H, W], timesteps [N], uint8 reference and pose."""

    noisy: torch.Tensor
    t: torch.Tensor
    reference: np.ndarray
    pose: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


def trajectory_states(model: PeftModel, adapter: str | None, rows: Triples, count: int, seed: int,
                      steps: int, references: np.ndarray | None = None) -> States:
    """Every input of DDIM sampling (``steps`` steps, seed ``seed``) from ``count`` of ``rows``' (reference,
    pose) pairs, drawn without replacement, with adapter ``adapter`` active (None: the base, adapters off).

    With ``references`` [M, H, W, 3], each pose is paired with one of those drawn at random instead of its own
    (pairs the adapters never trained on, so the fused adapter learns their rule rather than their rows).
    """
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(rows), size=min(count, len(rows)), replace=False)
    pose = rows.pose[pick]
    if references is None:
        reference = rows.reference[pick]
    else:
        reference = references[rng.integers(0, len(references), len(pick))]
    active = model.active_adapter
    if adapter is None:
        with model.disable_adapter():
            noisy, t = sample_states(model, reference, pose, seed, steps)
    else:
        model.set_adapter(adapter)
        noisy, t = sample_states(model, reference, pose, seed, steps)
        model.set_adapter(active)
    repeat = (len(t) // len(pick), 1, 1, 1)  # the states are step-major: row i of every step is pair i
    return States(noisy, t, np.tile(reference, repeat), np.tile(pose, repeat))


def state_batch(model: PeftModel, states: States, index: np.ndarray, loss: LossConfig, scheduler) -> NoisedBatch:
    """Rows ``index`` of ``states`` as a batch (no regression goal: the teachers give it)."""
    device = model.device
    t = states.t[index].to(device)
    noisy = states.noisy[index].to(device)
    return NoisedBatch(noisy, t, to_signed(states.reference[index], device), to_unit(states.pose[index], device),
                       torch.zeros_like(noisy), snr_weight(scheduler, t, loss.min_snr_gamma, model.prediction_type))


def fuse_distill(model: PeftModel, names: Sequence[str], weights: Sequence[float], unsafe: Sequence[Triples],
                 benign: Triples, cfg: DistillConfig, loss: LossConfig, density: float,
                 fused_name: str = "fused", appearance: Triples | None = None,
                 callback: Callable[[int, dict[str, float]], None] | None = None) -> tuple[str, LoopResult]:
    """Add adapter ``fused_name`` (TIES init, then distilled from ``names`` and the base); active, eval mode.

    ``unsafe[i]`` are category ``names[i]``'s unsafe training frames (noised from their ``source`` frames when
    they carry them, as under ``train_guard.safety_input`` truth); ``weights[i]`` scales its term.
    ``appearance`` (see ``appearance_rows``) supplies ``cfg.appearance_share`` of the benign rows of each step.
    """
    if len(unsafe) != len(names) or any(len(u) == 0 for u in unsafe) or len(benign) == 0:
        raise ValueError(f"fuse_distill: need non-empty unsafe frames for each of {list(names)} and benign frames")
    scheduler = model.base_model.model.train_scheduler()
    half = cfg.batch_size // 2
    extra = round(half * cfg.appearance_share) if appearance is not None and len(appearance) else 0
    on_path = (round((cfg.batch_size - half) * cfg.trajectory_share), round(half * cfg.trajectory_share))
    noised_rows = (cfg.batch_size - half - on_path[0], half - extra - on_path[1])
    if noised_rows[1] < 0:
        raise ValueError(f"fuse_distill: appearance_share {cfg.appearance_share} + trajectory_share "
                         f"{cfg.trajectory_share} take more than the {half} benign rows of a step")
    traced = cfg.trajectory_share > 0
    if traced:
        pool = (np.concatenate([benign.reference, *(u.reference for u in unsafe)])
                if cfg.trajectory_any_reference else None)
        paths = [trajectory_states(model, n, u, cfg.trajectory_rows, cfg.seed + i, cfg.trajectory_steps, pool)
                 for i, (n, u) in enumerate(zip(names, unsafe))]
        base_path = trajectory_states(model, None, benign, cfg.trajectory_rows, cfg.seed, cfg.trajectory_steps,
                                      pool)
    model.add_weighted_adapter(list(names), list(weights), adapter_name=fused_name, combination_type="ties",
                               density=density)
    model.set_adapter(fused_name)
    params = [p for n, p in model.named_parameters() if f".{fused_name}." in n]
    total = float(sum(weights))

    def step(index: int, rng: np.random.Generator, gen: torch.Generator) -> dict[str, torch.Tensor]:
        k = index % len(names)
        parts = [unsafe[k].take(rng.integers(0, len(unsafe[k]), noised_rows[0])),
                 benign.take(rng.integers(0, len(benign), noised_rows[1]))]
        if extra:
            parts.append(appearance.take(rng.integers(0, len(appearance), extra)))
        rows = Triples.concat(parts)
        t_min = torch.tensor([cfg.safety_t_min] * noised_rows[0] + [0] * (len(rows) - noised_rows[0]),
                             dtype=torch.long)
        noised = noised_batch(model, rows.clean, rows.reference, rows.pose, gen, loss, scheduler, t_min)
        if traced:  # unsafe rows first, benign rows last: the teachers below split the batch at -half
            noised = NoisedBatch.concat([
                noised.part(0, noised_rows[0]),
                state_batch(model, paths[k], rng.integers(0, len(paths[k]), on_path[0]), loss, scheduler),
                noised.part(noised_rows[0], len(rows)),
                state_batch(model, base_path, rng.integers(0, len(base_path), on_path[1]), loss, scheduler)])
        with torch.no_grad():
            model.set_adapter(names[k])
            teacher = predict(model, noised)
            with model.disable_adapter():
                teacher[-half:] = predict(model, noised)[-half:]
        model.set_adapter(fused_name)  # also makes the fused adapter trainable again
        per = weighted_error(noised, predict(model, noised), teacher)
        own, kept = per[:-half].mean(), per[-half:].mean()
        return {"loss": weights[k] * len(names) / total * own + kept, "unsafe": own, "benign": kept}

    result = training.run_training(model, params, step, LoopConfig(cfg.steps, cfg.lr, cfg.seed), None,
                                   "fuse_guard[distill]", callback)
    model.eval()
    return fused_name, result


def appearance_rows(model: PeftModel, references: Sequence[np.ndarray], poses: np.ndarray, rows: int,
                    seed: int, steps: int) -> Triples:
    """Benign rows for other appearances: ``rows`` poses drawn from ``poses`` [N, H, W, 3], each with one of
    ``references`` (cycling), and as target the base's own sample for that pair (adapters off).

    The benign term only asks the fused model to predict what the base predicts, so it needs no ground truth;
    sampling the target from the base puts the noised inputs where inference on these references goes.
    """
    if not references or len(poses) == 0:
        raise ValueError("appearance_rows: need at least one reference image and one pose")
    rng = np.random.default_rng(seed)
    pose = poses[rng.integers(0, len(poses), rows)]
    ref = np.stack([references[i % len(references)] for i in range(rows)])
    with model.disable_adapter():
        target = generate(model, ref, pose, seed=seed, steps=steps)
    return Triples(ref, pose, target)
