"""An auxiliary detection objective for guard training: the adapter's change to the pose features must tell
unsafe poses from benign ones (``train_guard.safety_probe``, off by default; issue 5).

Why: the dual objective asks the adapter to grey outputs for unsafe poses and leave benign ones alone, so the
decision "is this pose unsafe" is learnt only through the diffusion loss. Measured, that learns kneeling but not
the salute, which differs from its benign near-misses by 25-40 degrees of one arm, while a classifier on the same
pose maps catches 0.94-0.95 of held-out salutes at 600 subjects. The probe adds that classifier's gradient to the
adapter itself: a linear read-out of the PoseGuider's LoRA delta (guarded minus base features, pooled by mean
and max over positions) is trained with binary cross-entropy, label 1 on safety rows, 0 on fidelity rows
(benign and near-miss). Reading the *delta*, not the features, means the only way to lower this loss is for the
adapter to change the pose features on unsafe poses and not on benign ones: a detection the UNet's LoRA can then
turn into the degraded output. The read-out is a training aid only; it is not saved, and inference is the
plain LoRA'd generator.

Measured (600 subjects, val, discriminatory, 3600 steps, ``safety_probe_rows`` 16, same seed as the default's
0.29 / 0.58 / 0.46 at 1200 / 2400 / 3600 steps): weight 0.1 blocks 0.33 / 0.50 / 0.62, weight 1.0 0.58 / 0.67 /
0.62 (near-miss false blocks 2-3 of 24 at 1200-2400). The probe's loss falls to 0.11 / 0.06 and kneeling is
blocked sooner (15 and 14 of 15 at 3600), but the salute stays at 0 and 1 of 9 (own training salutes 0 and 1 of
9), so the option stays off. Read per action (weight 1.0, 3600 steps), the probe flags more than half the frames of
15 of 15 held-out kneeling clips but of 1 of 9 held-out salutes and 4 of 9 training salutes: it is the detection
that does not generalise to new subjects, not its use by the UNet (issue 5).

``warm_up`` (``train_guard.safety_probe_warmup``) trains the probe alone first. Measured the same way (600 subjects,
val, discriminatory, weight 1.0, 32 maps per side): 4000 warm-up steps, then 0.25 / 0.13 blocked after 1200 / 2400
dual-objective steps (kneeling 6 and 3 of 15, no salute; benign SSIM to the base 0.96 / 0.94), below the probe
without warm-up (0.58 / 0.67): the moved pose features disturb benign outputs too, and the guard spends its steps
undoing that. Alone, the warm-up's detector catches as many held-out salutes as the pose classifier after as many
steps (``safealign.generation.probe_detector``), so the option stays off (issue 5).
"""

from __future__ import annotations

import numpy as np
import torch
from peft import PeftModel

from safealign.generation import training
from safealign.generation.data import Triples
from safealign.generation.diffusion import to_unit
from safealign.generation.training import LoopConfig, LoopResult


class SafetyProbe(torch.nn.Module):
    """Linear logit of a [B, C, H, W] feature delta from its per-channel mean and max over positions."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2 * channels, 1)

    def forward(self, delta: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([delta.mean(dim=(2, 3)), delta.amax(dim=(2, 3))], dim=1)
        return self.linear(pooled).squeeze(1)


def pose_guider_of(model: PeftModel) -> torch.nn.Module:
    """The (LoRA-wrapped) PoseGuider inside a peft-wrapped ``PoseGuidedGenerator``."""
    return model.get_base_model().pose_guider


def probe_rows(rng: np.random.Generator, batch: Triples, half: int, fidelity: Triples, safety: Triples,
               extra: int) -> tuple[np.ndarray, np.ndarray]:
    """Pose maps and labels of one step's probe: the batch's rows (the first ``half`` fidelity, label 0; the rest
    safety, label 1) plus ``extra`` random rows of each set (pose maps only, so they cost a PoseGuider pass)."""
    labels = np.r_[np.zeros(half), np.ones(len(batch) - half)].astype(np.float32)
    if not extra:
        return batch.pose, labels
    poses, more = random_rows(rng, fidelity.pose, safety.pose, extra)
    return np.concatenate([batch.pose, poses]), np.r_[labels, more]


def random_rows(rng: np.random.Generator, benign: np.ndarray, unsafe: np.ndarray,
                rows: int) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` random pose maps of ``benign`` (label 0), then ``rows`` of ``unsafe`` (label 1)."""
    poses = [benign[rng.integers(0, len(benign), rows)], unsafe[rng.integers(0, len(unsafe), rows)]]
    return np.concatenate(poses), np.r_[np.zeros(rows), np.ones(rows)].astype(np.float32)


def adapter_delta(model: PeftModel, pose: np.ndarray) -> torch.Tensor:
    """The active adapter's change to the PoseGuider features of uint8 pose maps ``pose`` [B, H, W, 3]."""
    return feature_delta(model, to_unit(pose, model.device))


def feature_delta(model: PeftModel, pose: torch.Tensor) -> torch.Tensor:
    """The active adapter's change to the PoseGuider features of pose maps in [0, 1] [B, 3, H, W] (guarded minus
    base; gradients flow through the guarded pass only)."""
    guider = pose_guider_of(model)
    with torch.no_grad(), model.disable_adapter():
        base = guider(pose)
    return guider(pose) - base


def probe_losses(model: PeftModel, probe: SafetyProbe, pose: np.ndarray, labels: np.ndarray,
                 quiet: float = 0.0) -> dict[str, torch.Tensor]:
    """``probe``: binary cross-entropy of the read-out on the adapter's PoseGuider delta for uint8 pose maps
    ``pose``; with ``quiet`` > 0 also ``quiet``: the delta's mean square on the label-0 (benign) rows, and
    ``loss`` = probe + quiet weight x that (else ``loss`` = probe).

    Why the quiet term: the read-out only needs the deltas to be *separable*, so a detector trained alone also
    moves the benign features, which then reach the UNet (measured with ``warm_up``: the guard spent its steps
    undoing that). Pushing the benign delta towards zero leaves the signal on unsafe poses. It is absolute (in the
    features' units, like ``preserve``): normalised by the unsafe delta instead, it pinned both at zero while the
    fresh LoRA's deltas were still tiny."""
    delta = adapter_delta(model, pose)
    target = torch.as_tensor(labels, device=delta.device)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(probe(delta), target)
    out = {"loss": bce, "probe": bce}
    if quiet:
        benign = target == 0
        if not benign.any():
            raise ValueError("probe_losses: the quiet term needs at least one label-0 (benign) row")
        out["quiet"] = delta[benign].pow(2).mean()
        out["loss"] = bce + quiet * out["quiet"]
    return out


def warm_up(model: PeftModel, probe: SafetyProbe, benign: np.ndarray, unsafe: np.ndarray, rows: int,
            loop: LoopConfig, name: str, quiet: float = 0.0) -> LoopResult:
    """``loop.steps`` probe-only steps on uint8 pose maps (``rows`` random maps of ``benign`` and of ``unsafe``
    each, PoseGuider passes only) that train the PoseGuider's LoRA and the read-out before the dual objective
    starts; the UNet's LoRA is untouched.

    Why: the classifier that catches 0.94-0.95 of held-out salutes at 600 subjects needs 24000 steps of 64 maps;
    the probe inside the dual objective sees 3600 x 40 in a whole guard run. Detection costs no UNet pass, so it
    can be trained that long first. ``quiet``: the weight of ``probe_losses``' benign-delta term."""
    def step(_step: int, rng: np.random.Generator, _gen: torch.Generator) -> dict[str, torch.Tensor]:
        pose, labels = random_rows(rng, benign, unsafe, rows)
        return probe_losses(model, probe, pose, labels, quiet)

    params = [p for p in pose_guider_of(model).parameters() if p.requires_grad] + list(probe.parameters())
    return training.run_training(model, params, step, loop, None, f"probe warm-up[{name}]")
