"""One generator training stage on the lent GPU with the ``gpu`` profile; samples/s and TFLOP/s.

    python -m bench.gpu_train                 # on the GPU machine (bf16 autocast, CUDA)
    SMOKE=1 python -m bench.gpu_train         # CPU check of the same code path, tiny sizes, 3 steps

It runs ``safealign.generation.pretrain.pretrain`` (the pretrain_generator stage's library call) with the
``GPU_PROFILE`` overrides of params.yaml's ``pretrain_generator`` section (bigger resolution, batch, steps),
then one LoRA step series of ``train_guard`` on the trained base, and compares throughput with the baseline
table of ../shared/docs/gpu.md. Data: ``--data`` names a ``data/processed/guard/<cat>.safetensors`` file
(carry it to the GPU); without one, random triples of the profile's size are used (throughput does not
depend on the pixel values). Needs only torch, diffusers, peft, safetensors, numpy (+ PyYAML if present):
the GPU machine has no mlflow / prefect / dvc / GX / pandas. Writes a JSON report (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

# The `gpu` profile: dotted overrides of params.yaml, as tests shrink it (one config, no second copy).
GPU_PROFILE = {
    "guard.resolution": 128,
    "pretrain_generator.model.block_out_channels": [64, 128, 256],
    "pretrain_generator.model.attention_levels": [False, True, True],
    "pretrain_generator.model.pose_guider_channels": [16, 32],
    "pretrain_generator.batch_size": 64,
    "pretrain_generator.steps": 300,
    "pretrain_generator.lr": 5.0e-4,
    "pretrain_generator.torch_threads": 0,
}
SMOKE_PROFILE = {
    "guard.resolution": 32,
    "pretrain_generator.model.block_out_channels": [8, 16],
    "pretrain_generator.model.attention_levels": [False, True],
    "pretrain_generator.model.pose_guider_channels": [8, 8],
    "pretrain_generator.batch_size": 4,
    "pretrain_generator.steps": 3,
    "pretrain_generator.torch_threads": 1,
}
# ../shared/docs/gpu.md, UNet2DCondition 128 px channels 64-128-256, bf16 eager, one H200.
BASELINE = {"full": {"samples_s": 203.0, "tflops": 93.0, "batch": 32},
            "lora": {"samples_s": 219.0, "tflops": 78.0, "batch": 32}}


def profile_params(root: Path, overrides: dict) -> dict:
    """params.yaml's generator sections with ``overrides`` applied (plain dicts: pydantic may be absent)."""
    import yaml

    raw = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    for dotted, value in overrides.items():
        node = raw
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    return raw


def triples(path: str | None, resolution: int, count: int):
    from safealign.generation.data import Triples, load_triples, resize_square

    if path:
        t = load_triples(path)["fidelity"]
        if t.target.shape[1] != resolution:
            t = Triples(*(resize_square(getattr(t, k), resolution) for k in ("reference", "pose", "target")))
        return t
    rng = np.random.default_rng(0)
    shape = (count, resolution, resolution, 3)
    return Triples(*(rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(3)))


def flops_per_step(step) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step()
    return float(counter.get_total_flops())


def timed_steps(step, n: int, sync) -> float:
    step()
    sync()
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    sync()
    return (time.perf_counter() - t0) / n


def measure(model, params, data, batch: int, device, sync, n: int, loss) -> dict:
    from safealign.generation.diffusion import per_sample_loss

    opt = torch.optim.AdamW([p for p in params if p.requires_grad], lr=1e-4, fused=device.type == "cuda")
    sched, gen = model.train_scheduler(), torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)

    def step() -> None:
        b = data.take(rng.integers(0, len(data), batch))
        per_sample_loss(model, b.target, b.reference, b.pose, gen, loss, sched).mean().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    flops = flops_per_step(step)
    seconds = timed_steps(step, n, sync)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return {"batch": batch, "step_ms": seconds * 1e3, "samples_s": batch / seconds,
            "tflops": flops / seconds / 1e12, "trainable_M": trainable / 1e6}


def main(argv: list[str] | None = None) -> int:
    from safealign.generation import lora, training
    from safealign.generation.device import resolve_device, set_threads
    from safealign.generation.diffusion import LossConfig
    from safealign.generation.model import GeneratorConfig
    from safealign.generation.pretrain import pretrain

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="guard triples safetensors (optional)")
    parser.add_argument("--out", default=os.environ.get("OUT", "."), help="directory of gpu_train.json")
    args = parser.parse_args(argv)
    smoke = os.environ.get("SMOKE") == "1"
    raw = profile_params(Path.cwd(), {**GPU_PROFILE, **(SMOKE_PROFILE if smoke else {})})
    p, res = raw["pretrain_generator"], raw["guard"]["resolution"]
    set_threads(p["torch_threads"])
    device = resolve_device("cpu" if smoke else "auto")
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    m = p["model"]
    arch = GeneratorConfig(res, m["patch_size"], tuple(m["block_out_channels"]), m["layers_per_block"],
                           tuple(m["attention_levels"]), tuple(m["pose_guider_channels"]),
                           m["prediction_type"], m["train_timesteps"])
    data = triples(args.data, res, 4 * p["batch_size"])
    loop = training.LoopConfig(p["steps"], p["lr"], 0, warmup_steps=min(p["warmup_steps"], p["steps"]))
    t0 = time.perf_counter()
    loss = LossConfig(**p["loss"])
    model, result = pretrain(data, arch, loss, loop, p["batch_size"], device)
    sync()
    stage_s = time.perf_counter() - t0
    n = 2 if smoke else 10
    report = {"device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu", "smoke": smoke,
              "resolution": res, "stage_seconds": stage_s, "stage_steps": p["steps"],
              "stage_samples_s": p["steps"] * p["batch_size"] / stage_s,
              "final_loss": training.smoothed(result.history, "loss"),
              "full": measure(model.train(), list(model.parameters()), data, p["batch_size"], device, sync,
                              n, loss)}
    config = lora.lora_config(model, 8, 8, lora.ATTENTION_TARGETS, False)
    peft_model = lora.attach_lora(model, config, "guard_x").train()
    report["lora"] = measure(peft_model, list(peft_model.parameters()), data, p["batch_size"], device, sync,
                             n, loss)
    for mode in ("full", "lora"):
        report[mode]["vs_baseline_samples_s"] = report[mode]["samples_s"] / BASELINE[mode]["samples_s"]
        report[mode]["vs_baseline_tflops"] = report[mode]["tflops"] / BASELINE[mode]["tflops"]
    report["baseline"] = BASELINE
    out = Path(args.out) / "gpu_train.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
