"""Stage train_guard@<category>: dual-objective PoseGuard LoRA for one unsafe category.

Command:  python -m stages.train_guard --item <category> [--domain body|face]
Inputs:   models/generator/base/, data/processed/guard/<category>.safetensors (stage guard_data);
          params train_guard.*, guard_data.degrade(_strength) (for the check), pretrain_generator.loss,
          project.seed, project.device.
Outputs:  models/guard/adapters/<category>/ (peft adapter: adapter_config.json + adapter_model.safetensors),
          metrics/train_guard/<category>.json (final per-objective losses, held-out check base vs guarded).
Registry: poseguard-adapter-<category>, alias candidate. MLflow curves: loss, fidelity, safety.
Domain face: models/face/generator/base + data/processed/face_guard/<category>.safetensors ->
          models/face/guard/adapters/<category>/, metrics/face/train_guard/<category>.json,
          faceguard-adapter-<category>; params with the ``face.train_guard`` overrides (safealign/domains.py).
"""

from __future__ import annotations

import sys
import time

from safealign.atomic import atomic_dir, write_json
from safealign.domains import add_domain_arg, get_domain
from safealign.stage import StageContext, run_stage


def _run(ctx: StageContext) -> dict:
    from safealign.generation.device import set_threads

    set_threads(ctx.params.pretrain_generator.torch_threads)
    from safealign.errors import InputError
    from safealign.generation import data, guard, training
    from safealign.generation.lora import adapter_name, adapter_summary, save_adapter
    from safealign.generation.loading import load_generator
    from safealign.generation.params import guard_config, loss_config
    from safealign.tracking.registry import register_model_dir

    dom = get_domain(ctx.args.domain)
    cat, p, seed = ctx.args.item, ctx.section("train_guard"), ctx.params.project.seed
    source = dom.guard_data / f"{cat}.safetensors"
    if not source.is_file():
        raise InputError(f"{source}: missing (run guard_data@{cat} --domain {dom.name} first)")
    sets = data.load_triples(source)
    ctx.tracker.log_inputs([dom.base, source])
    base = load_generator(dom.base, device=ctx.params.project.device)
    cfg = guard_config(p)
    loop = training.LoopConfig(p.steps, p.lr, seed)
    log_every = max(1, p.steps // 50)

    def log(step: int, values: dict) -> None:
        if step % log_every == 0:
            ctx.tracker.log_metrics(values, step=step)

    name = adapter_name(cat)
    probe = _curve_probe(ctx, dom, source, p)
    callback = log if probe is None else (lambda step, values: (log(step, values), probe(step, values)))
    cpu_start = time.process_time()
    loss = loss_config(ctx.params.pretrain_generator.loss)
    model, result = guard.train_guard(base, sets["fidelity"], sets["safety"], name, cfg, loss, loop,
                                      dom.base.resolve(), callback, None if probe is None else probe.bind)
    train_cpu = time.process_time() - cpu_start
    out = dom.adapters / cat
    with atomic_dir(out) as tmp:
        save_adapter(model, name, tmp)
    gd = ctx.section("guard_data")
    metrics = {"category": cat, **p.model_dump(), "degrade": gd.degrade, "train_cpu_seconds": train_cpu,
               "fidelity_rows": len(sets["fidelity"]), "safety_rows": len(sets["safety"]),
               "final": {k: training.smoothed(result.history, k) for k in ("loss", "fidelity", "safety", "preserve")},
               "curve": [] if probe is None else [{k: v for k, v in pt.items() if k != "ssim_per_clip"}
                                                  for pt in probe.points],
               "trainable_params": sum(x.numel() for x in model.parameters() if x.requires_grad),
               **adapter_summary(out)}
    write_json(dom.metrics_file(f"train_guard/{cat}"), metrics)
    register_model_dir(f"{dom.registry}-adapter-{cat}", out, {"category": cat, "r": p.rank, "alpha": p.alpha,
                                                         "lambda": p.lam, "degrade": gd.degrade,
                                                         "targets": ",".join(p.targets)})
    last = metrics["curve"][-1] if metrics["curve"] else {}
    return {"final": metrics["final"], **{f"val_{k}": v for k, v in last.items() if isinstance(v, float)}}


def _curve_probe(ctx: StageContext, dom, source, p):
    """A learning-curve probe on the validation clips guard_data stored (None when ``curve_every`` is 0)."""
    if not p.curve_every:
        return None
    from safealign.evaluation.clips import rows_as_clips
    from safealign.evaluation.learning_curve import CurveProbe
    from safealign.generation import data
    from safealign.generation.sampling import generate

    ev = ctx.section("evaluate_guard")
    sets, groups = data.load_triples(source), data.load_groups(source)
    clips = {k.removeprefix("curve_"): rows_as_clips(sets[k], g, k) for k, g in groups.items()}
    return CurveProbe(clips, p.curve_every, p.steps, ev.threshold_percentile, ev.threshold_margin,
                      ctx.params.project.seed, ev.steps, ev.clips_per_batch, generate)


def main(argv: list[str] | None = None) -> int:
    def add_args(parser) -> None:
        parser.add_argument("--item", required=True)
        add_domain_arg(parser)

    return run_stage("train_guard", argv, _run, add_args=add_args)


if __name__ == "__main__":
    sys.exit(main())
