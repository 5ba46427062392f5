"""MACE-style closed-form fusion: the least-squares algebra and the peft adapter it builds."""

from __future__ import annotations

import numpy as np
import torch

from safealign.generation import lora
from safealign.generation.closed_form import (
    ClosedFormConfig,
    closed_form_delta,
    flat_delta,
    fuse_closed_form,
    lora_layers,
)
from safealign.generation.data import Triples
from safealign.generation.diffusion import LossConfig
from tests.test_generation import images, model_inputs, one_thread, with_adapters  # noqa: F401


def cov(x: torch.Tensor) -> torch.Tensor:
    return (x.T @ x / x.shape[0]).to(torch.float64)


def test_one_adapter_without_benign_term_is_recovered():
    gen = torch.Generator().manual_seed(0)
    delta, x = torch.randn(5, 6, generator=gen), torch.randn(200, 6, generator=gen)
    fused = closed_form_delta([delta], [cov(x)], [1.0], torch.zeros(6, 6, dtype=torch.float64), 0.0, 1e-9)
    assert torch.allclose(fused, delta.double(), atol=1e-6)


def test_adapters_on_disjoint_inputs_keep_full_strength_where_a_sum_leaks():
    """Category 1 lives in input dims 0-1, category 2 in 2-3, benign in 4-5: each adapter acts in full on its
    own inputs, and nothing acts on benign inputs, although both raw deltas touch every dimension."""
    gen = torch.Generator().manual_seed(1)
    d1, d2 = torch.randn(4, 6, generator=gen), torch.randn(4, 6, generator=gen)

    def inputs(dims: list[int]) -> torch.Tensor:
        x = torch.zeros(300, 6)
        x[:, dims] = torch.randn(300, len(dims), generator=gen)
        return x

    x1, x2, xb = inputs([0, 1]), inputs([2, 3]), inputs([4, 5])
    fused = closed_form_delta([d1, d2], [cov(x1), cov(x2)], [1.0, 1.0], cov(xb), 1.0, 1e-9).float()
    assert torch.allclose(x1 @ fused.T, x1 @ d1.T, atol=1e-4)
    assert torch.allclose(x2 @ fused.T, x2 @ d2.T, atol=1e-4)
    assert (xb @ fused.T).abs().max() < 1e-4
    summed = d1 + d2
    assert (x1 @ summed.T - x1 @ d1.T).abs().max() > 0.1 and (xb @ summed.T).abs().max() > 0.1


def test_overlapping_inputs_give_the_weighted_compromise():
    gen = torch.Generator().manual_seed(2)
    d1, d2, x = torch.randn(3, 4, generator=gen), torch.randn(3, 4, generator=gen), torch.randn(400, 4, generator=gen)
    fused = closed_form_delta([d1, d2], [cov(x), cov(x)], [3.0, 1.0], torch.zeros(4, 4, dtype=torch.float64), 0.0,
                              1e-9)
    assert torch.allclose(fused.float(), 0.75 * d1 + 0.25 * d2, atol=1e-5)


def tiny_triples(n: int, seed: int) -> Triples:
    return Triples(images(n, seed), images(n, seed + 1), images(n, seed + 2))


def test_fused_peft_adapter_carries_the_closed_form_delta_and_folds_into_the_weights():
    model = with_adapters(("guard_a", "guard_b"), lora.ATTENTION_TARGETS + ("conv1",), pose_guider=True)
    cfg = ClosedFormConfig(rows=6, batch_size=3, keep=1.0, ridge=1e-3, safety_t_min=500)
    name = fuse_closed_form(model, ["guard_a", "guard_b"], [1.0, 2.0], [tiny_triples(6, 0), tiny_triples(6, 3)],
                            tiny_triples(6, 6), cfg, LossConfig(ref_drop_prob=0.0, noise_offset=0.0))
    assert name == "fused" and model.active_adapter == "fused"
    layers = lora_layers(model)
    assert any("conv1" in n for n in layers) and any("pose_guider" in n for n in layers)
    for layer in layers.values():
        fused = flat_delta(layer, "fused")
        assert fused.abs().max() > 0  # every targeted layer carries a change
        assert not torch.allclose(fused, flat_delta(layer, "guard_a") + flat_delta(layer, "guard_b"), atol=1e-4)
    x, t, ref, pose = model_inputs(700)
    with torch.no_grad():
        out = model(x, t, ref, pose)
        folded = lora.merged_generator(model)(x, t, ref, pose)
    assert torch.allclose(out, folded, atol=1e-5)


def test_one_adapter_fused_without_benign_term_reproduces_the_adapter():
    """A single adapter, keep 0, inputs spanning every direction: the fused model is that adapter."""
    model = with_adapters(("guard_a",))
    x, t, ref, pose = model_inputs(700)
    with torch.no_grad():
        alone = model(x, t, ref, pose)
    cfg = ClosedFormConfig(rows=12, batch_size=6, keep=0.0, ridge=1e-9)
    fuse_closed_form(model, ["guard_a"], [1.0], [tiny_triples(12, 0)], tiny_triples(4, 9), cfg, LossConfig())
    with torch.no_grad():
        fused = model(x, t, ref, pose)
    assert np.allclose(fused.numpy(), alone.numpy(), atol=1e-4)
