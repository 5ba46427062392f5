"""MACE-style closed-form fusion of per-category LoRA adapters (poseguard.md D9 option; Lu et al., 2403.06135).

For every layer the adapters touch, the fused weight change is the least-squares answer to "act like
adapter i on the inputs adapter i was trained to change, and like the base on benign inputs":

    dW* = argmin_dW  sum_i w_i * ||(dW - dW_i) X_i||^2  +  keep * ||dW X_b||^2  +  ridge * ||dW||^2
        = (sum_i w_i dW_i C_i) (sum_i w_i C_i + keep * C_b + ridge * I)^-1

with X_i the layer's inputs (im2col patches for convolutions) on category i's unsafe training frames, run with
adapter i active, X_b its inputs on the benign training frames under the base, and C = X X^T / n. Where the
categories' inputs occupy different directions each adapter is kept at full strength (unlike a sum, which
adds every adapter's side effects, or TIES, which trims and averages); where they overlap the solution
is the input-weighted compromise. dW* is factored back into a LoRA of the summed rank by SVD, so the
result is an ordinary peft adapter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from peft import PeftModel
from peft.tuners.lora import LoraLayer
from tqdm import tqdm

from safealign.generation.data import Triples
from safealign.generation.diffusion import LossConfig, noised_batch, predict


@dataclass(frozen=True)
class ClosedFormConfig:
    """Inputs sampled per category and the weights of the benign and ridge terms."""

    rows: int = 64            # frames drawn per set (each category's unsafe frames, the benign frames)
    batch_size: int = 8
    keep: float = 1.0         # weight of "stay at the base on benign inputs"
    ridge: float = 1e-3       # relative to the mean diagonal of the summed covariance: keeps the solve stable
    safety_t_min: int = 0     # unsafe inputs drawn at t in [safety_t_min, T), as in guard training
    seed: int = 0


def lora_layers(model: PeftModel) -> dict[str, LoraLayer]:
    """The model's LoRA-wrapped layers by module name."""
    return {n: m for n, m in model.named_modules() if isinstance(m, LoraLayer)}


def layer_inputs(layer: LoraLayer, x: torch.Tensor) -> torch.Tensor:
    """Rows the layer's weight multiplies: tokens [N, in] for linear, im2col patches [N, in*k*k] for conv."""
    base = layer.get_base_layer()
    if isinstance(base, torch.nn.Conv2d):
        patches = torch.nn.functional.unfold(x, base.kernel_size, base.dilation, base.padding, base.stride)
        return patches.transpose(1, 2).reshape(-1, patches.shape[1])
    return x.reshape(-1, x.shape[-1])


def input_covariances(model: PeftModel, triples: Triples, cfg: ClosedFormConfig, t_min: int, loss: LossConfig,
                      desc: str) -> dict[str, torch.Tensor]:
    """Mean outer product of every LoRA layer's inputs over ``cfg.rows`` frames of ``triples`` (float64).

    Runs the model as it stands (the caller picks the active adapter or disables them all).
    """
    layers = lora_layers(model)
    sums: dict[str, torch.Tensor] = {}
    counts = dict.fromkeys(layers, 0)

    def hook(name: str):
        def capture(module, args, _out):
            rows = layer_inputs(module, args[0].detach()).to(torch.float64)
            sums[name] = sums.get(name, 0) + rows.T @ rows
            counts[name] += rows.shape[0]
        return capture

    handles = [m.register_forward_hook(hook(n)) for n, m in layers.items()]
    generator = torch.Generator().manual_seed(cfg.seed)
    try:
        with torch.no_grad():
            for index in tqdm(list(_batches(len(triples), cfg, generator)), desc=desc, leave=False):
                part = triples.take(index)
                t_floor = torch.full((len(index),), t_min, dtype=torch.long) if t_min else None
                batch = noised_batch(model, part.target, part.reference, part.pose, generator, loss,
                                     t_min=t_floor)
                predict(model, batch)
    finally:
        for h in handles:
            h.remove()
    return {n: sums[n] / max(counts[n], 1) for n in layers}


def _batches(n: int, cfg: ClosedFormConfig, generator: torch.Generator) -> Iterator[np.ndarray]:
    order = torch.randperm(n, generator=generator)[:cfg.rows].numpy()
    for start in range(0, len(order), cfg.batch_size):
        yield np.sort(order[start:start + cfg.batch_size])


def closed_form_delta(deltas: Sequence[torch.Tensor], covariances: Sequence[torch.Tensor],
                      weights: Sequence[float], benign: torch.Tensor, keep: float, ridge: float) -> torch.Tensor:
    """dW* = (sum_i w_i dW_i C_i)(sum_i w_i C_i + keep C_b + ridge' I)^-1 for flattened [out, in] deltas.

    ``ridge`` is relative: ridge' = ridge * mean diagonal of the summed covariance.
    """
    total = keep * benign.clone()
    rhs = torch.zeros_like(deltas[0], dtype=torch.float64)
    for delta, cov, w in zip(deltas, covariances, weights):
        total += w * cov
        rhs += w * delta.to(torch.float64) @ cov
    damp = ridge * float(torch.diagonal(total).mean()) + 1e-12
    total += damp * torch.eye(total.shape[0], dtype=torch.float64)
    # dW* total = rhs  ->  total^T dW*^T = rhs^T (total is symmetric)
    return torch.linalg.solve(total, rhs.T).T


def set_lora_delta(layer: LoraLayer, name: str, delta: torch.Tensor) -> None:
    """Overwrite adapter ``name`` of ``layer`` with the best rank-r factorisation (SVD) of ``delta`` [out, in]."""
    a, b = layer.lora_A[name].weight, layer.lora_B[name].weight
    rank = a.shape[0]
    u, s, vh = torch.linalg.svd(delta, full_matrices=False)
    keep = min(rank, s.shape[0])
    new_b = torch.zeros(b.shape[0], rank, dtype=torch.float64)
    new_a = torch.zeros(rank, delta.shape[1], dtype=torch.float64)
    new_b[:, :keep] = u[:, :keep] * s[:keep] / layer.scaling[name]
    new_a[:keep] = vh[:keep]
    with torch.no_grad():
        a.copy_(new_a.reshape(a.shape).to(a.dtype))
        b.copy_(new_b.reshape(b.shape).to(b.dtype))


def flat_delta(layer: LoraLayer, name: str) -> torch.Tensor:
    """Adapter ``name``'s weight change of ``layer`` as [out, in(*k*k)] (scaling included)."""
    delta = layer.get_delta_weight(name)
    return delta.reshape(delta.shape[0], -1).detach()


def fuse_closed_form(model: PeftModel, names: Sequence[str], weights: Sequence[float],
                     unsafe: Sequence[Triples], benign: Triples, cfg: ClosedFormConfig, loss: LossConfig,
                     fused_name: str = "fused") -> str:
    """Add adapter ``fused_name`` = closed-form fusion of ``names`` (see the module docstring); make it active.

    ``unsafe[i]`` are the unsafe training frames of category ``names[i]``; ``benign`` the benign ones.
    """
    if len(unsafe) != len(names):
        raise ValueError(f"fuse_closed_form: {len(names)} adapters but {len(unsafe)} unsafe sets")
    covs = []
    for name, frames in zip(names, unsafe):
        model.set_adapter(name)
        covs.append(input_covariances(model, frames, cfg, cfg.safety_t_min, loss, f"inputs[{name}]"))
    with model.disable_adapter():
        kept = input_covariances(model, benign, cfg, 0, loss, "inputs[benign]")
    # the "cat" combination builds an adapter of the summed rank on every targeted layer; its weights are
    # then replaced by the factorised closed-form delta
    model.add_weighted_adapter(list(names), [1.0] * len(names), adapter_name=fused_name, combination_type="cat")
    for layer_name, layer in lora_layers(model).items():
        present = [i for i, n in enumerate(names) if n in layer.lora_A]
        if fused_name not in layer.lora_A or not present:
            continue
        delta = closed_form_delta([flat_delta(layer, names[i]) for i in present],
                                  [covs[i][layer_name] for i in present], [weights[i] for i in present],
                                  kept[layer_name], cfg.keep, cfg.ridge)
        set_lora_delta(layer, fused_name, delta)
    model.set_adapter(fused_name)
    return fused_name
