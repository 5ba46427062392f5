"""A small resumable training loop: AdamW with a diffusers LR schedule, atomic checkpoints every N steps,
tqdm progress, loss history.

Every random draw of step ``k`` comes from generators seeded with (seed, k), so a run killed after its last
checkpoint and resumed reaches bit-identical weights to an uninterrupted run (on the same device).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
from diffusers.optimization import get_scheduler
from tqdm.auto import tqdm

from safealign.atomic import atomic_path

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class LoopConfig:
    """How long and how to optimise; ``key`` identifies the run so a stale checkpoint is not resumed."""

    steps: int
    lr: float
    seed: int
    checkpoint_every: int = 0
    warmup_steps: int = 0
    key: str = ""
    lr_schedule: str = "constant_with_warmup"  # a diffusers.optimization schedule name, e.g. cosine


@dataclass
class LoopResult:
    """Loss history (one dict of floats per step, incl. those before a resume) and the resume point."""

    history: list[dict[str, float]] = field(default_factory=list)
    resumed_from: int = 0


StepFn = Callable[[int, np.random.Generator, torch.Generator], dict[str, torch.Tensor]]


def step_generators(seed: int, step: int) -> tuple[np.random.Generator, torch.Generator]:
    """numpy + torch generators for one step, derived from (seed, step) only."""
    state = np.random.SeedSequence([seed, step]).generate_state(2)
    return np.random.default_rng(state[0]), torch.Generator().manual_seed(int(state[1]))


def run_training(module: torch.nn.Module, params: Iterable[torch.nn.Parameter], step_fn: StepFn,
                 config: LoopConfig, checkpoint_dir: str | Path | None = None, desc: str = "train",
                 callback: Callable[[int, dict[str, float]], None] | None = None) -> LoopResult:
    """Optimise ``step_fn(step, rng, torch_gen)['loss']`` for ``config.steps`` steps, resuming when possible.

    ``callback(step, losses)`` runs after each optimiser step (logging; tests use it to simulate a kill).
    """
    params = [p for p in params if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    sched = get_scheduler(config.lr_schedule, opt, num_warmup_steps=config.warmup_steps,
                          num_training_steps=config.steps)
    result = LoopResult()
    ckpt = Path(checkpoint_dir) / CHECKPOINT if checkpoint_dir else None
    if ckpt is not None and ckpt.is_file():
        result = _resume(ckpt, module, opt, sched, config)
    module.train()
    start = result.resumed_from
    bar = tqdm(range(start, config.steps), desc=desc, initial=start, total=config.steps, mininterval=2.0)
    for step in bar:
        rng, gen = step_generators(config.seed, step)
        losses = step_fn(step, rng, gen)
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        values = {k: float(v.detach()) for k, v in losses.items()}
        result.history.append(values)
        bar.set_postfix(loss=f"{values['loss']:.4f}", refresh=False)
        done = step + 1
        if ckpt is not None and config.checkpoint_every and (done % config.checkpoint_every == 0
                                                             or done == config.steps):
            _save(ckpt, module, opt, sched, config, done, result.history)
        if callback is not None:
            callback(done, values)
    return result


def _save(path: Path, module: torch.nn.Module, opt, sched, config: LoopConfig, step: int,
          history: list[dict[str, float]]) -> None:
    state = {"step": step, "key": config.key, "module": module.state_dict(), "optimizer": opt.state_dict(),
             "lr_scheduler": sched.state_dict(), "history": json.dumps(history)}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _resume(path: Path, module: torch.nn.Module, opt, sched, config: LoopConfig) -> LoopResult:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("key") != config.key or int(state["step"]) > config.steps:
        tqdm.write(f"{path}: checkpoint belongs to another configuration; starting from step 0")
        return LoopResult()
    module.load_state_dict(state["module"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["lr_scheduler"])
    tqdm.write(f"{path}: resuming from step {state['step']}")
    return LoopResult(history=json.loads(state["history"]), resumed_from=int(state["step"]))


def smoothed(history: list[dict[str, float]], key: str, last: int = 20) -> float:
    """Mean of ``key`` over the last ``last`` steps that logged it (NaN when none did)."""
    values = [h[key] for h in history if key in h][-last:]
    return float(np.mean(values)) if values else float("nan")
