"""Fusion of per-category guard adapters: cat is the exact sum, closed_form solves the cross-attention K/V on
the categories' contexts, distill trains the fused adapter toward the single adapters and the base."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from safealign.generation.closed_form import (ClosedFormConfig, _delta, _kv_layers, relative_residual,
                                              solve_weight)
from safealign.generation.diffusion import LossConfig
from safealign.generation.fusion import DistillConfig, fuse
from safealign.generation.sampling import generate
from tests.test_generation import LOSS, keypoints, rows, tiny_model, with_adapters

CLOSED = ClosedFormConfig(rows=32, keep=1.0, ridge=1e-6)
DISTILL = DistillConfig(steps=30, lr=5e-3, batch_size=4)


pytestmark = pytest.mark.usefixtures("one_thread")


def _sets():
    """Two categories whose postures sit in different places of the frame, and benign ones in between."""
    def clip_rows(n: int, seed: int, lo: float, hi: float):
        r = rows(n, seed)
        kp = keypoints(n, seed)
        kp[..., :2] = np.random.default_rng(seed).uniform(lo, hi, kp[..., :2].shape)
        r.keypoints[:] = kp
        return r.with_target(r.target, keep_source=True)
    return [clip_rows(16, 1, 0.0, 0.3), clip_rows(16, 2, 0.7, 1.0)], clip_rows(16, 3, 0.35, 0.65)


def test_cat_is_the_exact_sum_of_the_adapters():
    model = with_adapters(("guard_a", "guard_b"))
    unsafe, benign = _sets()
    fuse(model, ["guard_a", "guard_b"], [1.0, 1.0], "cat", unsafe, benign, CLOSED, DISTILL, LOSS, 0)
    for layer in _kv_layers(model).values():
        torch.testing.assert_close(_delta(layer, "fused"), _delta(layer, "guard_a") + _delta(layer, "guard_b"))


def test_one_adapter_is_kept_exactly_whatever_the_combination():
    model = with_adapters(("guard_a",))
    unsafe, benign = _sets()
    r = rows(2)
    expected = generate(model, r, seed=0, steps=2)
    fuse(model, ["guard_a"], [1.0], "closed_form", unsafe[:1], benign, CLOSED, DISTILL, LOSS, 0)
    assert np.array_equal(generate(model, r, seed=0, steps=2), expected)


def test_the_closed_form_solve_keeps_each_adapter_on_its_inputs_where_the_sum_interferes():
    """Categories and benign inputs in separate directions: the solve reproduces W0 + dW_i on category i's
    inputs and W0 on benign inputs; the plain sum adds every other adapter's change there."""
    rng = np.random.default_rng(0)
    basis = torch.from_numpy(np.linalg.qr(rng.normal(size=(12, 12)))[0])
    x1, x2, xb = (torch.from_numpy(rng.normal(size=(40, 4))) @ basis[4 * k:4 * k + 4] for k in range(3))
    w0, d1, d2 = (torch.from_numpy(rng.normal(size=(6, 12))) for _ in range(3))
    wanted = [x1 @ (w0 + d1).T, x2 @ (w0 + d2).T]
    solved = solve_weight(w0, [x1, x2], wanted, [1.0, 1.0], xb, xb @ w0.T, keep=1.0, ridge=1e-9)
    summed = w0 + d1 + d2
    for x, y in zip([x1, x2], wanted):
        assert relative_residual(x @ solved.T, y) < 1e-6 < 0.3 < relative_residual(x @ summed.T, y)
    assert relative_residual(xb @ solved.T, xb @ w0.T) < 1e-6
    assert relative_residual(xb @ summed.T, xb @ w0.T) > 0.3


def test_closed_form_fusion_fits_the_cross_attention_and_reports_its_residuals():
    names = ["guard_a", "guard_b"]
    unsafe, benign = _sets()
    model = with_adapters(tuple(names), groups=("cross_kv", "pose_tokens"), rank=4)
    out = fuse(model, names, [1.0, 1.0], "closed_form", unsafe, benign, CLOSED, DISTILL, LOSS, 0)
    report = out["closed_form"]
    assert set(report["layers"]) == set(_kv_layers(model))
    assert all(np.isfinite(v["benign_residual"]) for v in report["layers"].values())
    assert model.active_adapter == "fused"


def test_distill_brings_the_fused_adapter_toward_its_teachers():
    model = with_adapters(("guard_a", "guard_b"))
    unsafe, benign = _sets()
    out = fuse(model, ["guard_a", "guard_b"], [1.0, 1.0], "distill", unsafe, benign, CLOSED, DISTILL,
               LossConfig(min_snr_gamma=5.0, ref_drop_prob=0.0, noise_offset=0.0), 0)
    assert set(out["distill"]) == {"loss", "unsafe", "benign"} and np.isfinite(out["distill"]["loss"])
    assert model.active_adapter == "fused"


def test_unknown_combination_is_refused():
    model = with_adapters(("guard_a", "guard_b"))
    unsafe, benign = _sets()
    with pytest.raises(ValueError, match="fuse_guard.combination"):
        fuse(model, ["guard_a", "guard_b"], [1.0, 1.0], "ties", unsafe, benign, CLOSED, DISTILL, LOSS, 0)
