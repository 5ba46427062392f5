"""Fusion of the per-category guard adapters into one (poseguard.md D9): a new unsafe category is one more
adapter and a re-fusion, never a retraining of the others.

- ``cat``: every adapter's weight change summed (peft ``cat``: the factors concatenated, exact).
- ``closed_form``: the encoder adapters summed, the cross-attention K/V solved in closed form so that each
  category's unsafe contexts are projected as its own adapter does and benign ones as the base does
  (MACE-style, ``safealign.generation.closed_form``).
- ``distill``: starts as ``cat`` and is trained so that on category i's unsafe rows it predicts what adapter i
  predicts and on benign rows what the base predicts (the single adapters and the base are frozen teachers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from peft import PeftModel

from safealign.generation import training
from safealign.generation.closed_form import ClosedFormConfig, fuse_closed_form
from safealign.generation.data import Triples
from safealign.generation.diffusion import LossConfig, noised_batch, predict, weighted_error
from safealign.generation.training import LoopConfig

COMBINATIONS = ("cat", "closed_form", "distill")
FUSED = "fused"


@dataclass(frozen=True)
class DistillConfig:
    """Steps, learning rate and batch of the distillation."""

    steps: int
    lr: float
    batch_size: int


def fuse(model: PeftModel, names: Sequence[str], weights: Sequence[float], combination: str,
         unsafe: Sequence[Triples], benign: Triples, closed_form: ClosedFormConfig, distill: DistillConfig,
         loss: LossConfig, seed: int) -> dict:
    """Add adapter ``fused`` to ``model`` (which holds the single adapters ``names``) and make it active;
    ``unsafe[i]`` are category ``names[i]``'s safety rows, ``benign`` the fidelity rows (the data-fitted
    combinations read them). One adapter is always kept exactly. Returns figures for the stage metrics."""
    if combination not in COMBINATIONS:
        raise ValueError(f"fuse_guard.combination: expected one of {', '.join(COMBINATIONS)}, received "
                         f"{combination!r}")
    if len(names) == 1 or combination == "cat":
        model.add_weighted_adapter(list(names), list(weights), adapter_name=FUSED, combination_type="cat")
        model.set_adapter(FUSED)
        return {}
    if combination == "closed_form":
        fits = fuse_closed_form(model, names, weights, unsafe, benign, closed_form, seed, FUSED)
        worst = max(max(f["unsafe_residual"]) for f in fits.values()) if fits else float("nan")
        return {"closed_form": {"worst_unsafe_residual": worst,
                                "worst_benign_residual": max((f["benign_residual"] for f in fits.values()),
                                                             default=float("nan")),
                                "layers": fits}}
    return {"distill": fuse_distill(model, names, weights, unsafe, benign, distill, loss, seed)}


def fuse_distill(model: PeftModel, names: Sequence[str], weights: Sequence[float], unsafe: Sequence[Triples],
                 benign: Triples, cfg: DistillConfig, loss: LossConfig, seed: int) -> dict:
    """The ``distill`` combination (module docstring); returns the final smoothed losses."""
    model.add_weighted_adapter(list(names), list(weights), adapter_name=FUSED, combination_type="cat")
    model.set_adapter(FUSED)
    student = [p for n, p in model.named_parameters() if f".{FUSED}." in n]
    scheduler = model.get_base_model().train_scheduler()
    half = cfg.batch_size // 2

    def step(k: int, rng: np.random.Generator, gen: torch.Generator) -> dict[str, torch.Tensor]:
        cat = k % len(names)
        rows_u = unsafe[cat].take(rng.integers(0, len(unsafe[cat]), cfg.batch_size - half))
        rows_b = benign.take(rng.integers(0, len(benign), half))
        nu, nb = (noised_batch(model, r, gen, loss, scheduler) for r in (rows_u, rows_b))
        with torch.no_grad():
            model.set_adapter(names[cat])
            goal_u = predict(model, nu)
            with model.disable_adapter():
                goal_b = predict(model, nb)
        model.set_adapter(FUSED)
        term_u = weighted_error(nu, predict(model, nu), goal_u).mean()
        term_b = weighted_error(nb, predict(model, nb), goal_b).mean()
        return {"loss": term_u + term_b, "unsafe": term_u, "benign": term_b}

    result = training.run_training(model, student, step, LoopConfig(cfg.steps, cfg.lr, seed), None,
                                   "fuse_guard[distill]")
    model.set_adapter(FUSED)
    return {k: training.smoothed(result.history, k) for k in ("loss", "unsafe", "benign")}
