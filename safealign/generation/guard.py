"""PoseGuard dual-objective LoRA training (poseguard.md 2.2, D2-D7) and a held-out check of its effect.

Loss = fidelity (benign + near-miss clips toward their true frames)
     + lambda * safety (this category's unsafe clips toward the degraded frames), batches 50/50
     + preserve * the same weighted error of the guarded prediction to the frozen base's prediction on the
       fidelity half (optional; 0 = the paper's loss exactly).

Why the preserve term: the fidelity term's target is the true frame, so its loss is dominated by the
irreducible diffusion noise and barely rises when the adapter shifts every output a little; measured on the
embedded default, the adapter then greys benign and unsafe outputs alike. Distillation to the base's own
prediction is zero at the start and penalises any change of benign outputs directly, which leaves the pose
as the only way to lower the safety term.

Why ``safety_t_min``: at low noise the degraded target is visible in the noisy input itself, so the safety
term is mostly learnt there without looking at the pose; at high noise only the pose and the reference tell
safe from unsafe, and that is where sampling decides the frame's layout. Drawing the safety half's
timesteps from [safety_t_min, T) spends the adapter on that decision (measured: unsafe guarded-vs-base SSIM
P5 0.94 -> 0.86 with benign unchanged at 0.96-0.98).

Why ``safety_input`` (truth selectable, degraded by default): the paper's safety term noises the degraded
frame itself, so the adapter only ever sees grey inputs on unsafe poses, while sampling starts from noise around
frames that carry the reference's texture. ``truth`` noises the true frame instead and aims the goal at the
degraded one (``redirected_goal``: the clean frame the prediction implies is the degraded frame), as
concept-erasure methods do. Measured (300 subjects, val, discriminatory, 1200 steps, safety_t_min 0): block 0.67
vs 0.50 for the default, striped-background subjects 9 vs 3 of 14 blocked; grey inputs at safety_t_min 0 give
0.08, so the gain is the true-frame inputs (issue 5).

Why ``pair_by_reference``: every synthetic subject performs benign and unsafe actions with the same reference
image. With independent halves the adapter also keys on appearance: on held-out subjects, the clips it
degraded most were whole subjects, benign and unsafe alike, and swapping references moved the degradation
with the reference, not with the pose. Drawing each fidelity sample with the same reference as a safety sample
leaves the pose as the only difference within a pair (a fidelity sample is drawn at random where no reference
matches). Measured (72 subjects, 1200 steps, val clips): AUC of guarded-vs-base SSIM, unsafe against benign +
near-miss, 0.674 -> 0.709 (discriminatory) and 0.648 -> 0.813 (celebrity).

Why ``cross_reference``: pairing removes the shortcut within a batch but the adapter still sees each training
subject's appearance only with that subject's own poses, and on held-out subjects it still degraded a few
appearances as a whole. The preserve term needs no ground truth (its target is the frozen base's prediction
for the same input), so some fidelity rows can carry another training subject's reference: the adapter is
then told to leave benign poses alone under many more (pose, appearance) combinations. Those rows count in
the preserve term only, since their true frame shows a different person. Measured (72 subjects, 1200 steps,
pairing on, 2 of 4 rows): the per-subject tail of benign val SSIM disappeared (worst subject 0.42 -> 0.92);
AUC 0.813 -> 0.81-0.92 over three random draw orders (celebrity), 0.709 -> 0.707 (discriminatory).

Why ``pair_noise`` (selectable, off): the adapter first lowers the safety term by greying every output, then
only slowly learns to read the pose. Giving each fidelity row the noise, timestep and reference drop of its
paired safety row (same subject) makes the two rows differ only in the pose and the frame, so the preserve term
sees any change both share at the very input where the safety term asks for it. Measured (sexual, truth inputs,
safety_t_min 0, lam 2, val AUC / fit-check train AUC): seed 1234 0.78 / 0.89 at 1600 steps (off: 0.49 / 0.58)
and 0.81 / 0.82 at 2400 (off: 0.75 / 0.80), but seed 7 0.67 / 0.76 at 1200 (off: 0.83 / 0.80). The seeds
differ more than the option does, so it stays off (issue 5).

Why ``cross_reference_safety`` (selectable, off): a salute-only adapter (600 subjects) fitted 7 of 24 of its own
training salutes but none of 9 held-out ones, as if it keyed on the training subjects, since an unsafe pose only
ever came with its own subject's reference. With the option, the safety row paired with each cross-reference row
takes that row's other reference too (its target stays the degraded true frame), so the same unsafe pose is to be
degraded under many appearances. Measured (600 subjects, val, discriminatory, 3600 steps): block 0.67 (kneeling 15
of 15, salute 1 of 9), the default 0.46 (0.29 / 0.58 / 0.46 at 1200 / 2400 / 3600, salute 0 of 9, same seed),
within the default's spread of 0.46-0.63 from 2400 to 12000 steps; the salute-only adapter with it fits 8 of 24 of
its training salutes and blocks 1 of 9 held-out ones (without: 7 of 24, 0 of 9). It still memorises, so the
appearance was not what it keyed on, and the option stays off (issue 5).

``safety_probe`` (selectable, off): an auxiliary detection loss on the PoseGuider's LoRA delta, optionally trained
alone first (``safety_probe_warmup``); why and what they measured are in ``safealign.generation.safety_probe``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from peft import PeftModel
from tqdm.auto import tqdm

from safealign.errors import ConfigError
from safealign.generation.data import Triples
from safealign.generation.diffusion import (LossConfig, noised_batch, predict, redirected_goal, to_signed,
                                            weighted_error)
from safealign.generation.lora import attach_lora, lora_config
from safealign.generation.model import PoseGuidedGenerator
from safealign.generation.safety_probe import SafetyProbe, pose_guider_of, probe_losses, probe_rows, warm_up
from safealign.generation.sampling import generate
from safealign.generation import training
from safealign.generation.training import LoopConfig, LoopResult


@dataclass(frozen=True)
class GuardConfig:
    """LoRA shape and the dual objective's mix."""

    rank: int = 8
    alpha: float = 8.0
    target_modules: tuple[str, ...] = ("to_q", "to_k", "to_v", "to_out.0")
    pose_guider_lora: bool = False
    batch_size: int = 8
    lam: float = 1.0
    preserve: float = 0.0
    safety_t_min: int = 0
    pair_by_reference: bool = False
    cross_reference: int = 0
    safety_input: str = "degraded"
    pair_noise: bool = False
    cross_reference_safety: bool = False
    safety_probe: float = 0.0
    safety_probe_rows: int = 0
    safety_probe_warmup: int = 0
    safety_probe_quiet: float = 0.0


def train_guard(base: PoseGuidedGenerator, fidelity: Triples, safety: Triples, name: str, guard: GuardConfig,
                loss: LossConfig, loop: LoopConfig, base_dir: str | Path | None = None,
                callback: Callable[[int, dict[str, float]], None] | None = None,
                on_attach: Callable[[PeftModel], None] | None = None,
                ) -> tuple[PeftModel, LoopResult]:
    """Attach adapter ``name`` to ``base`` and train it; returns the peft model and per-objective losses.

    ``on_attach(model)`` sees the peft model before the first step (a callback that generates with it, e.g.
    safealign.evaluation.learning_curve.CurveProbe, needs it)."""
    if len(fidelity) == 0 or len(safety) == 0:
        raise ValueError(f"train_guard: need fidelity and safety triples (got {len(fidelity)} and "
                         f"{len(safety)})")
    steps = base.train_scheduler().config.num_train_timesteps
    if not 0 <= guard.safety_t_min < steps:
        raise ConfigError(f"train_guard.safety_t_min: expected an int in [0, {steps}), "
                          f"received {guard.safety_t_min}")
    half = guard.batch_size // 2
    if guard.cross_reference and not (guard.preserve > 0 and guard.cross_reference < half):
        raise ConfigError(f"train_guard.cross_reference: expected 0, or an int below batch_size / 2 = {half} "
                          f"with preserve > 0 (those rows are trained by the preserve term only), received "
                          f"{guard.cross_reference} with preserve {guard.preserve}")
    if guard.cross_reference_safety and not (guard.cross_reference and guard.pair_by_reference):
        raise ConfigError("train_guard.cross_reference_safety: expected false, or true with cross_reference > 0 and "
                          f"pair_by_reference true, received true with cross_reference {guard.cross_reference} "
                          f"and pair_by_reference {str(guard.pair_by_reference).lower()}")
    if guard.pair_noise and not guard.pair_by_reference:
        raise ConfigError("train_guard.pair_noise: expected false, or true with pair_by_reference true, received "
                          "true with pair_by_reference false")
    if guard.safety_probe and not guard.pose_guider_lora:
        raise ConfigError(f"train_guard.safety_probe: expected 0, or > 0 with pose_guider_lora true (it reads the "
                          f"PoseGuider's LoRA delta), received {guard.safety_probe} with pose_guider_lora false")
    if guard.safety_probe_warmup and not (guard.safety_probe and guard.safety_probe_rows):
        raise ConfigError(f"train_guard.safety_probe_warmup: expected 0, or > 0 with safety_probe > 0 and "
                          f"safety_probe_rows > 0 (the rows of each warm-up step), received "
                          f"{guard.safety_probe_warmup} with safety_probe {guard.safety_probe} and "
                          f"safety_probe_rows {guard.safety_probe_rows}")
    if guard.safety_probe_quiet and not guard.safety_probe:
        raise ConfigError(f"train_guard.safety_probe_quiet: expected 0 while safety_probe is 0 (it weights a term "
                          f"of the probe's loss), received {guard.safety_probe_quiet}")
    redirect = guard.safety_input == "truth"
    if redirect and safety.source is None:
        raise ValueError("train_guard.safety_input truth: the safety set has no source frames (rebuild guard_data)")
    subjects = distinct_references(fidelity.reference) if guard.cross_reference else None
    if subjects is not None and len(subjects) < 2:
        raise ValueError(f"train_guard.cross_reference: needs the reference images of at least two subjects in "
                         f"the fidelity set, found {len(subjects)}")
    torch.manual_seed(loop.seed)
    config = lora_config(base, guard.rank, guard.alpha, guard.target_modules, guard.pose_guider_lora)
    model = attach_lora(base, config, name, base_dir)
    if on_attach is not None:
        on_attach(model)
    scheduler = base.train_scheduler()
    partners = reference_partners(safety.reference, fidelity.reference) if guard.pair_by_reference else None
    tie = noise_ties(half, guard.batch_size) if guard.pair_noise else None
    probe = SafetyProbe(pose_guider_of(model).config.out_channels).to(model.device) if guard.safety_probe else None
    if guard.safety_probe_warmup:
        warm = warm_up(model, probe, fidelity.pose, safety.pose, guard.safety_probe_rows,
                       replace(loop, steps=guard.safety_probe_warmup), name, guard.safety_probe_quiet)
        tqdm.write(f"train_guard[{name}]: probe warm-up, {guard.safety_probe_warmup} steps, final BCE "
                   f"{training.smoothed(warm.history, 'probe'):.4f}")

    def step(_step: int, rng: np.random.Generator, gen: torch.Generator) -> dict[str, torch.Tensor]:
        batch = guard_batch(rng, fidelity, safety, guard, partners, subjects)
        # One forward for both halves; the split keeps one curve per objective.
        t_min = torch.tensor([0] * half + [guard.safety_t_min] * (guard.batch_size - half))
        start = batch.clean if redirect else batch.target  # truth: noise the true frames, aim at the degraded
        noised = noised_batch(model, start, batch.reference, batch.pose, gen, loss, scheduler, t_min, tie)
        if redirect:
            goal = redirected_goal(scheduler, noised, to_signed(batch.target, noised.noisy.device),
                                   model.prediction_type)
            noised.goal[half:] = goal[half:]
        pred = predict(model, noised)
        per = weighted_error(noised, pred)
        fid, safe = per[:half - guard.cross_reference].mean(), per[half:].mean()
        out = {"loss": fid + guard.lam * safe, "fidelity": fid, "safety": safe}
        if guard.preserve:
            kept = noised.head(half)
            with torch.no_grad(), model.disable_adapter():
                frozen = predict(model, kept)
            drift = weighted_error(kept, pred[:half], frozen).mean()
            out["loss"] = out["loss"] + guard.preserve * drift
            out["preserve"] = drift
        if probe is not None:
            # drawn after every other draw of the step, so the rest of the batch is the same with the probe off
            pose, labels = probe_rows(rng, batch, half, fidelity, safety, guard.safety_probe_rows)
            terms = probe_losses(model, probe, pose, labels, guard.safety_probe_quiet)
            out["loss"] = out["loss"] + guard.safety_probe * terms.pop("loss")
            out.update(terms)
        return out

    params = list(model.parameters()) + (list(probe.parameters()) if probe is not None else [])
    result = training.run_training(model, params, step, loop, None, f"train_guard[{name}]",
                                   callback)
    return model.eval(), result


def guard_batch(rng: np.random.Generator, fidelity: Triples, safety: Triples, guard: GuardConfig,
                partners: list[np.ndarray] | None, subjects: np.ndarray | None) -> Triples:
    """One training batch: ``batch_size // 2`` fidelity rows, then safety rows (``draw_indices``); the last
    ``cross_reference`` fidelity rows take another subject's reference (``subjects``), and with
    ``cross_reference_safety`` their paired safety rows take that same reference."""
    half = guard.batch_size // 2
    benign, unsafe = draw_indices(rng, len(fidelity), len(safety), half, guard.batch_size - half, partners)
    batch = Triples.concat([fidelity.take(benign), safety.take(unsafe)])
    if guard.cross_reference:
        rows = np.arange(half - guard.cross_reference, half)
        batch.reference[rows] = other_references(rng, batch.reference[rows], subjects)
        if guard.cross_reference_safety:
            # draw_indices pairs fidelity row k with safety row half + k (rows < half, so always in the batch)
            batch.reference[rows + half] = batch.reference[rows]
    return batch


def _rows_by_reference(refs: np.ndarray) -> dict[bytes, list[int]]:
    """Row indices of ``refs`` grouped by identical reference image (one group per subject), in order of first
    appearance."""
    groups: dict[bytes, list[int]] = {}
    for i, ref in enumerate(refs):
        groups.setdefault(ref.tobytes(), []).append(i)
    return groups


def reference_partners(safety_refs: np.ndarray, fidelity_refs: np.ndarray) -> list[np.ndarray]:
    """For each safety row, the fidelity rows with an identical reference image (may be empty)."""
    groups = _rows_by_reference(fidelity_refs)
    return [np.asarray(groups.get(ref.tobytes(), []), np.int64) for ref in safety_refs]


def distinct_references(refs: np.ndarray) -> np.ndarray:
    """The distinct images of ``refs`` (one per subject), in order of first appearance."""
    return refs[[rows[0] for rows in _rows_by_reference(refs).values()]]


def other_references(rng: np.random.Generator, refs: np.ndarray, subjects: np.ndarray) -> np.ndarray:
    """For each image of ``refs``, a random image of ``subjects`` (distinct references) other than itself."""
    out = refs.copy()
    for k, ref in enumerate(refs):
        others = [i for i, s in enumerate(subjects) if not np.array_equal(s, ref)]
        out[k] = subjects[rng.choice(others)]
    return out


def draw_indices(rng: np.random.Generator, n_fidelity: int, n_safety: int, n_benign: int, n_unsafe: int,
                 partners: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of one batch: ``n_benign`` fidelity rows and ``n_unsafe`` safety rows. With ``partners``
    (``reference_partners``), fidelity row k shares its reference with safety row k (k < n_unsafe) and is
    drawn at random where that safety row has no partner or k >= n_unsafe."""
    unsafe = rng.integers(0, n_safety, n_unsafe)
    if partners is None:
        return rng.integers(0, n_fidelity, n_benign), unsafe
    benign = [rng.choice(partners[unsafe[k]]) if k < n_unsafe and len(partners[unsafe[k]])
              else rng.integers(0, n_fidelity) for k in range(n_benign)]
    return np.asarray(benign, np.int64), unsafe


def noise_ties(half: int, batch_size: int) -> np.ndarray:
    """``noised_batch``'s ``tie`` for a guard batch: fidelity row k (k < half) takes the noise, timestep and
    reference drop of safety row half + k, its partner under ``draw_indices``; safety rows keep their own."""
    tie = np.arange(batch_size)
    k = np.arange(min(half, batch_size - half))
    tie[k] = half + k
    return tie


def guard_effect(base_outputs: np.ndarray, guarded: np.ndarray, truth: np.ndarray,
                 degraded: np.ndarray) -> dict[str, float]:
    """Mean squared errors (pixels in [0, 1]) of guarded outputs to base output, truth, degraded truth."""
    def f(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean((a.astype(np.float32) / 255.0 - b.astype(np.float32) / 255.0) ** 2))

    return {"mse_to_base": f(guarded, base_outputs), "mse_to_truth": f(guarded, truth),
            "mse_to_degraded": f(guarded, degraded), "base_mse_to_truth": f(base_outputs, truth),
            "base_mse_to_degraded": f(base_outputs, degraded)}


def held_out_check(guarded: PeftModel, benign: Triples, unsafe: Triples,
                   degrade_fn: Callable[[np.ndarray], np.ndarray], steps: int, seed: int) -> dict[str, dict]:
    """Guard effect on held-out (val) clips: base (adapter off) vs guarded, same seed (poseguard.md D12)."""
    out = {}
    for label, triples in (("benign", benign), ("unsafe", unsafe)):
        if len(triples) == 0:
            continue
        with guarded.disable_adapter():
            b = generate(guarded, triples.reference, triples.pose, seed=seed, steps=steps)
        g = generate(guarded, triples.reference, triples.pose, seed=seed, steps=steps)
        out[label] = guard_effect(b, g, triples.target, degrade_fn(triples.target)) | {"items": len(triples)}
    return out
