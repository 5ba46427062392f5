"""PoseGuard dual-objective LoRA training (poseguard.md 2.2, D2-D7) and a held-out check of its effect.

Loss = fidelity (benign + near-miss rows toward their true frames)
     + lambda * safety (this category's unsafe rows, active frames only, toward the degraded frames)
     + preserve * the weighted error of the guarded prediction to the frozen base's on the fidelity rows.

Where the adapter sits (``targets``): the cross-attention keys and values that read the posture tokens, and the
posture-token encoder. That is where concept erasure removes a concept in few steps (ESD-x, UCE, MACE: the
concept arrives as tokens that K/V project); here the "concept" is a posture, and the encoder's adapter lets the
guard form the posture decision from the whole clip's keypoints.

Why ``preserve``: the fidelity term's target is the true frame, so its loss is dominated by the irreducible
diffusion noise and barely rises when the adapter shifts every output a little; distillation to the base's
own prediction is zero at the start and penalises any change of benign outputs directly.

Why ``safety_input`` truth (default): the paper's safety term noises the degraded frame itself, so the adapter
would only ever see grey inputs on unsafe poses, while sampling starts from noise around frames that carry the
reference's texture. ``truth`` noises the true frame and aims the goal at the degraded one (the clean frame the
prediction implies is the degraded frame), as concept-erasure methods do.

Why ``decision``: the diffusion loss tells the posture-token encoder's adapter only through the image which
clips are unsafe, and a posture that differs from its near-miss by one arm's angle (a salute against a raised
hand) barely moves that loss. A linear read-out of the clip's mean posture token, trained with the adapter to
tell this category's unsafe rows from the benign and near-miss rows (binary cross-entropy), gives the encoder
that decision directly; the K/V adapter then maps it to the degraded output. The read-out is discarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from peft import PeftModel

from safealign.generation import training
from safealign.generation.data import Triples
from safealign.generation.diffusion import (LossConfig, NoisedBatch, concat_batches, noised_batch, predict,
                                            weighted_error)
from safealign.generation.lora import attach_lora, lora_config
from safealign.generation.model import PoseGuidedGenerator
from safealign.generation.training import LoopConfig, LoopResult


@dataclass(frozen=True)
class GuardConfig:
    """LoRA shape and placement and the dual objective's mix (params.yaml ``train_guard``)."""

    rank: int
    alpha: float
    targets: tuple[str, ...]
    batch_size: int
    lam: float
    preserve: float
    safety_t_min: int
    safety_input: str
    decision: float


def train_guard(base: PoseGuidedGenerator, fidelity: Triples, safety: Triples, name: str, guard: GuardConfig,
                loss: LossConfig, loop: LoopConfig, base_dir: str | Path | None = None,
                callback: Callable[[int, dict[str, float]], None] | None = None,
                on_attach: Callable[[PeftModel], None] | None = None,
                ) -> tuple[PeftModel, LoopResult]:
    """Attach adapter ``name`` to ``base`` and train it; returns the peft model and per-objective losses.

    ``safety`` rows carry the degraded frame as ``target`` and, under ``safety_input`` truth, the true frame
    as ``source``. ``on_attach(model)`` sees the peft model before the first step (e.g. a learning-curve probe).
    """
    if len(fidelity) == 0 or len(safety) == 0:
        raise ValueError(f"train_guard: need fidelity and safety rows (got {len(fidelity)} and {len(safety)})")
    if guard.safety_input == "truth" and safety.source is None:
        raise ValueError("train_guard: safety_input truth needs the true frames of the safety rows (rebuild "
                         "guard_data)")
    if guard.safety_input == "degraded":
        safety = safety.with_target(safety.target)  # noise the degraded frames themselves (the paper's loss)
    half = guard.batch_size // 2
    torch.manual_seed(loop.seed)
    model = attach_lora(base, lora_config(base, guard.rank, guard.alpha, guard.targets), name, base_dir)
    if on_attach is not None:
        on_attach(model)
    scheduler = base.train_scheduler()
    readout = torch.nn.Linear(base.pose_tokens.config.dim, 1).to(base.device)

    def step(_step: int, rng: np.random.Generator, gen: torch.Generator) -> dict[str, torch.Tensor]:
        benign = fidelity.take(rng.integers(0, len(fidelity), half))
        unsafe = safety.take(rng.integers(0, len(safety), guard.batch_size - half))
        noised = concat_batches([noised_batch(model, benign, gen, loss, scheduler),
                                 noised_batch(model, unsafe, gen, loss, scheduler, t_min=guard.safety_t_min)])
        pred = predict(model, noised)
        per = weighted_error(noised, pred)
        fid, safe = per[:half].mean(), per[half:].mean()
        out = {"loss": fid + guard.lam * safe, "fidelity": fid, "safety": safe}
        if guard.preserve:
            kept = noised.part(0, half)
            with torch.no_grad(), model.disable_adapter():
                frozen = predict(model, kept)
            drift = weighted_error(kept, pred[:half], frozen).mean()
            out["loss"] = out["loss"] + guard.preserve * drift
            out["preserve"] = drift
        if guard.decision:
            term = decision_loss(model, readout, noised, half)
            out["loss"] = out["loss"] + guard.decision * term
            out["decision"] = term
        return out

    params = list(model.parameters()) + (list(readout.parameters()) if guard.decision else [])
    result = training.run_training(model, params, step, loop, None, f"train_guard[{name}]", callback)
    return model.eval(), result


def decision_loss(model: PeftModel, readout: torch.nn.Linear, noised: NoisedBatch, benign: int) -> torch.Tensor:
    """Binary cross-entropy of ``readout`` on each row's mean posture token (adapter active): the first
    ``benign`` rows are negatives (benign and near-miss), the rest this category's unsafe rows."""
    cond = noised.cond
    tokens = model.get_base_model().pose_tokens(cond.keypoints, cond.frame)
    logits = readout(tokens.mean(dim=1)).squeeze(-1)
    labels = torch.zeros_like(logits)
    labels[benign:] = 1.0
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
