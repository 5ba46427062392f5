"""The guard adapter's own detection, measured like a pose classifier (``safealign pose-separability --detector
guard_probe``; issue 5).

The classifier of ``safealign.evaluation.separability`` bounds what a pose-map decision can reach. The guard
decides with the PoseGuider's LoRA instead, and ``train_guard.safety_probe`` reads that decision out of the
LoRA's change to the pose features. This module trains exactly that, alone (``safety_probe.warm_up`` on a copy
of the base generator, with ``train_guard``'s LoRA shape and learning rate), and wraps it as a classifier, so the
same split, threshold rule and test clips measure whether the adapter can detect what the classifier detects.

Measured (600 subjects, discriminatory, 64 px, batch 64, test clips): after 4000 steps the adapter catches kneeling
1.00 / 1.00 and 0.37 of the salutes (false positives benign 6.3 %, near-miss 3.4 % of frames), the classifier 1.00 /
1.00 and 0.35 (4.5 %, 6.8 %). The classifier needs 24000 steps for 0.94: at equal steps the adapter detects as
much, so its reach is not what limits the guard (issue 5).
"""

from __future__ import annotations

import copy
from typing import Callable

import numpy as np
import torch
from peft import PeftModel

from safealign.generation.lora import attach_lora, lora_config
from safealign.generation.model import PoseGuidedGenerator
from safealign.generation.safety_probe import SafetyProbe, feature_delta, pose_guider_of, warm_up
from safealign.generation.training import LoopConfig

ADAPTER = "detector"
Trainer = Callable[[np.ndarray, np.ndarray, int, int], torch.nn.Module]


class ProbeDetector(torch.nn.Module):
    """Unsafe logit [B, 1] of pose maps in [0, 1] [B, 3, H, W]: ``probe`` on the adapter's PoseGuider delta."""

    def __init__(self, model: PeftModel, probe: SafetyProbe) -> None:
        super().__init__()
        self.model, self.probe = model, probe

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        return self.probe(feature_delta(self.model, pose.to(self.model.device)))[:, None].cpu()


def probe_detector_trainer(base: PoseGuidedGenerator, rank: int, alpha: float, target_modules: tuple[str, ...],
                           lr: float, rows: int) -> Trainer:
    """``train(benign, unsafe, steps, seed)`` for ``separability.measure``: a fresh copy of ``base`` with the
    guard's LoRA (PoseGuider included) and a probe, trained ``steps`` warm-up steps of ``rows`` maps per side."""
    def train(benign: np.ndarray, unsafe: np.ndarray, steps: int, seed: int) -> torch.nn.Module:
        if len(benign) == 0 or len(unsafe) == 0:
            raise ValueError(f"need benign and unsafe frames, received {len(benign)} and {len(unsafe)}")
        torch.manual_seed(seed)
        fresh = copy.deepcopy(base)  # attach_lora wraps its model in place; each category starts from the base
        model = attach_lora(fresh, lora_config(fresh, rank, alpha, target_modules, True), ADAPTER)
        probe = SafetyProbe(pose_guider_of(model).config.out_channels).to(model.device)
        warm_up(model, probe, benign, unsafe, rows, LoopConfig(steps, lr, seed), ADAPTER)
        return ProbeDetector(model, probe).eval()

    return train
