"""Stage train_guard@<category>: dual-objective PoseGuard LoRA for one unsafe category.

Command:  python -m stages.train_guard --item <category>
Inputs:   models/generator/base/, data/processed/guard/<category>.safetensors (stage guard_data);
          params train_guard.*, pretrain_generator.loss, project.seed, project.device.
Outputs:  models/guard/adapters/<category>/ (peft adapter: adapter_config.json + adapter_model.safetensors),
          metrics/train_guard/<category>.json (final per-objective losses, held-out check base vs guarded).
Registry: poseguard-adapter-<category>, alias candidate. MLflow curves: loss, fidelity, safety.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from safealign.atomic import atomic_dir, write_json
from safealign.stage import StageContext, run_stage

BASE = Path("models/generator/base")


def _run(ctx: StageContext) -> dict:
    from safealign.generation.device import set_threads

    set_threads(ctx.params.pretrain_generator.torch_threads)
    from safealign.errors import InputError
    from safealign.generation import data, guard, training
    from safealign.generation.degrade import degrade
    from safealign.generation.lora import adapter_name, adapter_summary, save_adapter
    from safealign.generation.loading import load_generator
    from safealign.generation.params import loss_config
    from safealign.tracking.registry import register_model_dir

    cat, p, seed = ctx.args.item, ctx.section("train_guard"), ctx.params.project.seed
    source = Path("data/processed/guard") / f"{cat}.safetensors"
    if not source.is_file():
        raise InputError(f"{source}: missing (run guard_data@{cat} first)")
    sets = data.load_triples(source)
    ctx.tracker.log_inputs([BASE, source])
    base = load_generator(BASE, device=ctx.params.project.device)
    cfg = guard.GuardConfig(p.rank, p.alpha, tuple(p.target_modules), p.pose_guider_lora, p.batch_size, p.lam)
    loop = training.LoopConfig(p.steps, p.lr, seed)
    log_every = max(1, p.steps // 50)

    def log(step: int, values: dict) -> None:
        if step % log_every == 0:
            ctx.tracker.log_metrics(values, step=step)

    name = adapter_name(cat)
    cpu_start = time.process_time()
    loss = loss_config(ctx.params.pretrain_generator.loss)
    model, result = guard.train_guard(base, sets["fidelity"], sets["safety"], name, cfg, loss, loop,
                                      BASE.resolve(), log)
    train_cpu = time.process_time() - cpu_start
    out = Path("models/guard/adapters") / cat
    with atomic_dir(out) as tmp:
        save_adapter(model, name, tmp)
    check = guard.held_out_check(model, sets["check_benign"], sets["check_unsafe"],
                                 lambda x: degrade(x, p.degrade, p.degrade_strength), p.check_steps, seed)
    metrics = {"category": cat, "steps": p.steps, "lambda": p.lam, "degrade": p.degrade,
               "train_cpu_seconds": train_cpu, "fidelity_triples": len(sets["fidelity"]),
               "safety_triples": len(sets["safety"]),
               "final": {k: training.smoothed(result.history, k) for k in ("loss", "fidelity", "safety")},
               "check": check,
               "trainable_params": sum(x.numel() for x in model.parameters() if x.requires_grad),
               **adapter_summary(out)}
    write_json(Path("metrics/train_guard") / f"{cat}.json", metrics)
    register_model_dir(f"poseguard-adapter-{cat}", out, {"category": cat, "r": p.rank, "alpha": p.alpha,
                                                         "lambda": p.lam, "degrade": p.degrade,
                                                         "targets": ",".join(metrics["target_modules"])})
    return {"final": metrics["final"], "check": check}


def main(argv: list[str] | None = None) -> int:
    return run_stage("train_guard", argv, _run, add_args=lambda p: p.add_argument("--item", required=True))


if __name__ == "__main__":
    sys.exit(main())
