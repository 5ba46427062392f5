"""Training and inference cost of the PoseGuard generator (issue 4).

Rows: LoRA vs full fine-tune step time of the same UNet (the builtin default of params.yaml, CPU), and
guarded inference latency of the fused model (adapters merged) vs the base model (goal ratio 1.00), with the
unmerged three-adapter model as a note. All figures are measured in this run.
"""

from __future__ import annotations

import time

import numpy as np
import torch

BATCH = 8
REPEATS = 5


def _default_generator():
    from safealign.config import load_params
    from safealign.generation.model import PoseGuidedGenerator
    from safealign.generation.params import generator_config

    params = load_params()
    torch.manual_seed(0)
    arch = generator_config(params.pretrain_generator.model, params.guard.resolution)
    return PoseGuidedGenerator.build(arch)


def _step_ms(model, params, res: int) -> float:
    """Median optimiser step time (ms) of the diffusion loss on a random batch."""
    from safealign.config import load_params
    from safealign.generation.diffusion import per_sample_loss
    from safealign.generation.params import loss_config

    opt = torch.optim.AdamW([p for p in params if p.requires_grad], lr=1e-4)
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (BATCH, res, res, 3), dtype=np.uint8)
    scheduler, gen = model.train_scheduler(), torch.Generator().manual_seed(0)
    loss = loss_config(load_params().pretrain_generator.loss)

    def step() -> None:
        per_sample_loss(model, batch, batch, batch, gen, loss, scheduler).mean().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def _generate_ms(models: list, res: int, repeats: int = 4) -> list[float]:
    """Latency of 4 frames x 10 DDIM steps per model; runs alternate and the minimum counts (shared box)."""
    from safealign.generation.sampling import generate

    imgs = np.random.default_rng(0).integers(0, 256, (4, res, res, 3), dtype=np.uint8)
    best = [float("inf")] * len(models)
    for model in models:
        generate(model, imgs, imgs, seed=0, steps=2)
    for _ in range(repeats):
        for i, model in enumerate(models):
            t0 = time.perf_counter()
            generate(model, imgs, imgs, seed=0, steps=10)
            best[i] = min(best[i], 1000 * (time.perf_counter() - t0))
    return best


def run() -> list[dict]:
    """Benchmark rows (see module docstring)."""
    from safealign.generation import lora

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the shared 2-core box: one thread is the stable configuration (params.yaml)
    try:
        full = _default_generator()
        res = full.resolution
        full_ms = _step_ms(full, list(full.parameters()), res)
        base = _default_generator()
        cfg = lora.lora_config(base, 8, 8, lora.ATTENTION_TARGETS, False)
        peft_model = lora.attach_lora(base, cfg, "guard_a")
        lora_ms = _step_ms(peft_model, list(peft_model.parameters()), res)
        trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
        total = sum(p.numel() for p in peft_model.parameters())

        plain = _default_generator().eval()
        guarded = lora.attach_lora(_default_generator(), cfg, "guard_a")
        for name in ("guard_b", "guard_c"):
            guarded.add_adapter(name, cfg)
        guarded.base_model.set_adapter(["guard_a", "guard_b", "guard_c"])
        (unmerged_ms,) = _generate_ms([guarded.eval()], res, repeats=2)
        lora.fuse_adapters(guarded, ["guard_a", "guard_b", "guard_c"], [1.0] * 3, "cat", 0.5)
        base_ms, fused_ms = _generate_ms([plain, lora.merged_generator(guarded).eval()], res)
    finally:
        torch.set_num_threads(threads)
    return [
        {"figure": f"train step, LoRA r8 vs full fine-tune ({res} px, batch {BATCH}, CPU 1 thread)",
         "value": round(lora_ms, 1), "baseline": round(full_ms, 1), "ratio": round(lora_ms / full_ms, 3),
         "unit": "ms/step", "note": f"trainable {trainable:,} of {total:,} parameters"},
        {"figure": f"guarded inference, fused (3 adapters merged) vs base (4 frames x 10 steps, {res} px)",
         "value": round(fused_ms, 1), "baseline": round(base_ms, 1), "ratio": round(fused_ms / base_ms, 3),
         "unit": "ms", "note": f"goal 1.00; unmerged 3-adapter model: {unmerged_ms:.1f} ms "
                               f"({unmerged_ms / base_ms:.2f}x)"},
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
