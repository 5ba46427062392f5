"""MACE-style closed-form fusion of per-category guard adapters on the cross-attention keys and values
(poseguard.md D9; Lu et al., 2403.06135, ``src/fuse_lora_close_form.py``).

Every cross-attention layer reads the same context: the reference tokens and the posture tokens. So the
fusion needs no UNet pass at all, only the token encoders. With the posture-token encoder's adapters summed
(their deltas concatenated, ``cat``), each K/V projection W gets the least-squares answer to "project category
i's unsafe contexts as adapter i does, and benign contexts as the base does":

    W* = argmin_W  sum_i w_i ||W C_i - W_i C'_i||^2  +  keep ||W C_b - W_0 C^0_b||^2  +  ridge ||W - W_0||^2

where C_i (C_b) are the fused model's context tokens on category i's unsafe (benign) training rows, C'_i the
same rows' tokens under adapter i alone, C^0_b under the base, W_i = W_0 + dW_i. The ridge term pulls toward the
base weight (a damped solve). The result is written back as a LoRA of the layer (SVD of W* - W_0 at the
adapter's rank), so the fused model is an ordinary peft adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from peft import PeftModel
from peft.tuners.lora import LoraLayer

from safealign.generation.data import Triples
from safealign.generation.diffusion import condition


@dataclass(frozen=True)
class ClosedFormConfig:
    """Rows drawn per set and the weights of the benign and ridge terms."""

    rows: int
    keep: float
    ridge: float


def _contexts(model: PeftModel, rows: Triples, batch: int = 64) -> torch.Tensor:
    """Cross-attention context tokens [N * tokens, dim] of ``rows`` under the model's active adapter(s)."""
    inner = model.get_base_model()
    out = []
    with torch.no_grad():
        for start in range(0, len(rows), batch):
            cond = condition(rows.take(np.arange(start, min(start + batch, len(rows)))), inner.device)
            ctx = inner.context(cond)
            out.append(ctx.reshape(-1, ctx.shape[-1]).double().cpu())
    return torch.cat(out)


def _sample(rows: Triples, n: int, rng: np.random.Generator) -> Triples:
    return rows.take(np.sort(rng.choice(len(rows), size=min(n, len(rows)), replace=False)))


def _kv_layers(model: PeftModel) -> dict[str, LoraLayer]:
    return {n: m for n, m in model.named_modules() if isinstance(m, LoraLayer) and ".attn2." in n
            and n.rsplit(".", 1)[-1] in ("to_k", "to_v")}


def fuse_closed_form(model: PeftModel, names: Sequence[str], weights: Sequence[float], unsafe: Sequence[Triples],
                     benign: Triples, cfg: ClosedFormConfig, seed: int, fused_name: str = "fused") -> dict:
    """Add adapter ``fused_name`` (encoder deltas summed, K/V solved in closed form, see module docstring) to
    ``model``, which holds the single adapters ``names``; ``unsafe[i]`` are category ``names[i]``'s safety
    rows. Returns per-layer fit figures (relative residual on the unsafe and benign targets)."""
    rng = np.random.default_rng(seed)
    unsafe = [_sample(u, cfg.rows, rng) for u in unsafe]
    benign = _sample(benign, cfg.rows, rng)
    # Targets: each single adapter on its own rows, the base on benign rows.
    targets: list[tuple[float, torch.Tensor, str, Triples]] = []
    for name, w, rows in zip(names, weights, unsafe):
        model.set_adapter(name)
        targets.append((float(w), _contexts(model, rows), name, rows))
    with model.disable_adapter():
        base_benign = _contexts(model, benign)
    model.add_weighted_adapter(list(names), list(weights), adapter_name=fused_name, combination_type="cat")
    model.set_adapter(fused_name)
    layers = _kv_layers(model)
    # Inputs under the fused encoder (K/V layers do not change the context, so these hold for any K/V).
    inputs = [_contexts(model, rows) for _, _, _, rows in targets]
    inputs_b = _contexts(model, benign)
    report = {}
    for lname, layer in layers.items():
        w0 = layer.get_base_layer().weight.detach().double().cpu()            # [out, in]
        wanted = [ctx_i @ (w0 + _delta(layer, name)).T for _, ctx_i, name, _ in targets]
        solved = solve_weight(w0, inputs, wanted, [w for w, *_ in targets], inputs_b, base_benign @ w0.T,
                              cfg.keep, cfg.ridge)
        _write_delta(layer, fused_name, solved - w0)
        solved = w0 + _delta(layer, fused_name)                                # as stored, at the adapter's rank
        report[lname] = {"unsafe_residual": [relative_residual(x @ solved.T, y) for x, y in zip(inputs, wanted)],
                         "benign_residual": relative_residual(inputs_b @ solved.T, base_benign @ w0.T)}
    return report


def solve_weight(w0: torch.Tensor, inputs: Sequence[torch.Tensor], wanted: Sequence[torch.Tensor],
                 weights: Sequence[float], benign: torch.Tensor, benign_wanted: torch.Tensor, keep: float,
                 ridge: float) -> torch.Tensor:
    """argmin_W sum_i w_i ||X_i W^T - Y_i||^2 / n_i + keep ||X_b W^T - Y_b||^2 / n_b + ridge' ||W - W0||^2, rows
    of X being inputs [n, in] and of Y wanted outputs [n, out]; ridge' = ridge x the mean diagonal of the
    input covariance (scale-free damping toward the base weight)."""
    dim = w0.shape[1]
    lhs = torch.zeros(dim, dim, dtype=torch.float64)
    rhs = torch.zeros(w0.shape[0], dim, dtype=torch.float64)
    for w, x, y in zip(weights, inputs, wanted):
        lhs += w * x.T @ x / len(x)
        rhs += w * y.T @ x / len(x)
    lhs += keep * benign.T @ benign / len(benign)
    rhs += keep * benign_wanted.T @ benign / len(benign)
    damp = ridge * float(torch.diagonal(lhs).mean())
    lhs += damp * torch.eye(dim, dtype=torch.float64)
    rhs += damp * w0
    return torch.linalg.solve(lhs, rhs.T).T                                   # W = rhs lhs^-1 (lhs symmetric)


def relative_residual(got: torch.Tensor, wanted: torch.Tensor) -> float:
    """||got - wanted|| / ||wanted||."""
    return float((got - wanted).norm() / wanted.norm().clamp(min=1e-12))


def _delta(layer: LoraLayer, name: str) -> torch.Tensor:
    """Adapter ``name``'s weight change of ``layer`` (0 when it does not touch the layer), float64 [out, in]."""
    if name not in layer.lora_A:
        return torch.zeros_like(layer.get_base_layer().weight, dtype=torch.float64).cpu()
    a = layer.lora_A[name].weight.detach().double().cpu()
    b = layer.lora_B[name].weight.detach().double().cpu()
    return layer.scaling[name] * b @ a


def _write_delta(layer: LoraLayer, name: str, delta: torch.Tensor) -> None:
    """Store ``delta`` as adapter ``name``'s LoRA factors of ``layer`` (best approximation at its rank)."""
    a_mod, b_mod = layer.lora_A[name], layer.lora_B[name]
    rank = a_mod.weight.shape[0]
    u, s, vh = torch.linalg.svd(delta / layer.scaling[name], full_matrices=False)
    r = min(rank, len(s))
    root = s[:r].sqrt()
    a = torch.zeros_like(a_mod.weight, dtype=torch.float64)
    b = torch.zeros_like(b_mod.weight, dtype=torch.float64)
    a[:r] = root[:, None] * vh[:r]
    b[:, :r] = u[:, :r] * root[None]
    with torch.no_grad():
        a_mod.weight.copy_(a.to(a_mod.weight.dtype))
        b_mod.weight.copy_(b.to(b_mod.weight.dtype))
