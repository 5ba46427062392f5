"""Stage fuse_guard: combine the per-category adapters into one and fold it into the base weights.

Command:  python -m stages.fuse_guard [--domain body|face]
Inputs:   models/generator/base/, models/guard/adapters/<category>/ for every guard.categories entry;
          data/processed/guard/<category>.safetensors (closed_form and distill only: the frames they fit on);
          params fuse_guard.* (combination cat | linear | ties | closed_form | distill, per-category weights,
          TIES density, closed_form rows / keep / ridge, distill steps / lr / batch_size / real_* / trajectory_*),
          real reference photos of fuse_guard.distill.real_references under project.shared_data (optional),
          train_guard.safety_t_min (timesteps of the unsafe frames for closed_form and distill).
Outputs:  models/guard/fused_adapter/ (peft adapter), models/guard/fused/ (generator directory with the
          adapter merged: guarded inference costs what the base costs), metrics/fuse_guard.json.
Registry: poseguard-fused, alias candidate.
Domain face: models/face/generator/base + models/face/guard/adapters/<face.categories> (+ data/processed/face_guard) ->
          models/face/guard/{fused_adapter,fused}/, metrics/face/fuse_guard.json, faceguard-fused.
"""

from __future__ import annotations

import sys

from safealign.atomic import atomic_dir, write_json
from safealign.domains import add_domain_arg, get_domain
from safealign.stage import StageContext, run_stage

DATA_DRIVEN = ("closed_form", "distill")  # combinations fitted on the guard's training frames


def _run(ctx: StageContext) -> dict:
    from safealign.generation.device import set_threads

    from safealign.errors import ConfigError
    from safealign.generation import lora
    from safealign.generation.model import PoseGuidedGenerator
    from safealign.tracking.registry import register_model_dir

    set_threads(ctx.params.pretrain_generator.torch_threads)

    dom = get_domain(ctx.args.domain)
    p, cats = dom.section(ctx.params, "fuse_guard"), dom.categories(ctx.params)
    unknown = sorted(set(p.weights) - set(cats))
    if unknown:
        raise ConfigError(f"fuse_guard.weights: {unknown} not in the {dom.name} categories {cats}")
    weights = [float(p.weights.get(c, 1.0)) for c in cats]
    ctx.tracker.log_inputs([dom.base] + [dom.adapters / c for c in cats])
    names = [lora.adapter_name(c) for c in cats]
    model = lora.load_adapters(PoseGuidedGenerator.from_pretrained(dom.base),
                               {n: dom.adapters / c for n, c in zip(names, cats)})
    extra: dict = {}
    if p.combination in DATA_DRIVEN and len(cats) > 1:
        fused, extra = _fuse_on_frames(ctx, dom, model, names, weights, p)
    else:  # one adapter is kept exactly whatever the combination
        fused = lora.fuse_adapters(model, names, weights, "cat" if len(cats) == 1 else p.combination, p.density)
    with atomic_dir(dom.fused_adapter) as tmp:
        lora.save_adapter(model, fused, tmp)
    fused_rank = int(model.peft_config[fused].r)
    merged = lora.merged_generator(model)
    with atomic_dir(dom.fused) as tmp:
        merged.save_pretrained(tmp)
    metrics = {"categories": cats, "weights": weights, "combination": p.combination,
               "fused_rank": fused_rank} | extra
    write_json(dom.metrics_file("fuse_guard"), metrics)
    register_model_dir(f"{dom.registry}-fused", dom.fused, {"categories": ",".join(cats),
                                                            "combination": p.combination,
                                                            "weights": ",".join(f"{w:g}" for w in weights)})
    return {"n_adapters": len(cats)}


def _fuse_on_frames(ctx: StageContext, dom, model, names: list[str], weights: list[float], p) -> tuple[str, dict]:
    """closed_form / distill: fusions fitted on the guard's training frames (unsafe per category, benign)."""
    from safealign.errors import ConfigError, InputError
    from safealign.generation import closed_form, data, distill_fusion, training
    from safealign.generation.params import loss_config

    sources = [dom.guard_data / f"{c}.safetensors" for c in dom.categories(ctx.params)]
    missing = [str(s) for s in sources if not s.is_file()]
    if missing:
        raise InputError(f"fuse_guard.combination {p.combination} needs the guard triples: missing {missing}")
    ctx.tracker.log_inputs(sources)
    sets = [data.load_triples(s) for s in sources]
    unsafe, benign = [s["safety"] for s in sets], data.Triples.concat(s["fidelity"] for s in sets)
    seed, t_min = ctx.params.project.seed, dom.section(ctx.params, "train_guard").safety_t_min
    loss = loss_config(ctx.params.pretrain_generator.loss)
    if p.combination == "closed_form":
        c = p.closed_form
        cfg = closed_form.ClosedFormConfig(rows=c.rows, keep=c.keep, ridge=c.ridge, seed=seed, safety_t_min=t_min)
        fused = closed_form.fuse_closed_form(model, names, weights, unsafe, benign, cfg, loss)
        return fused, {"closed_form": c.model_dump()}
    d = p.distill
    appearance, used, skipped = _real_appearance(ctx, dom, model, benign, d)
    if appearance is not None and d.real_share + d.trajectory_share > 1:
        raise ConfigError(f"fuse_guard.distill.real_share + trajectory_share: expected <= 1 (both share the benign "
                          f"rows), received {d.real_share} + {d.trajectory_share}")
    cfg = distill_fusion.DistillConfig(d.steps, d.lr, d.batch_size, t_min, seed, d.real_share, d.trajectory_share,
                                       d.trajectory_rows, d.trajectory_steps, d.trajectory_any_reference)
    every = max(1, d.steps // 50)
    fused, result = distill_fusion.fuse_distill(
        model, names, weights, unsafe, benign, cfg, loss, p.density, appearance=appearance,
        callback=lambda step, values: ctx.tracker.log_metrics(values, step=step) if step % every == 0 else None)
    final = {k: training.smoothed(result.history, k) for k in result.history[-1]}
    real = {"real_references_used": used, "real_references_skipped": skipped}
    return fused, {"distill": d.model_dump() | {"final": final} | real}


def _real_appearance(ctx: StageContext, dom, model, benign, d) -> tuple:
    """Benign distillation rows on the real reference photos of ``fuse_guard.distill.real_references``
    (benign training poses, the base's samples as targets), the photos used, and those skipped with why.

    The evaluation's own real photo is refused: its real-motion section would then score a trained input.
    """
    from safealign.errors import ConfigError, InputError
    from safealign.evaluation.real import reference_image
    from safealign.generation import distill_fusion

    shared = (ctx.root / ctx.params.project.shared_data).resolve()
    held_out = dom.section(ctx.params, "evaluate_guard").real_reference
    if (shared / held_out).resolve() in {(shared / rel).resolve() for rel in d.real_references}:
        raise ConfigError(f"fuse_guard.distill.real_references: expected photos other than the evaluation's "
                          f"evaluate_guard.real_reference, received {d.real_references} (contains {held_out})")
    refs, used, skipped = [], [], []
    for rel in d.real_references:
        try:
            refs.append(reference_image(shared / rel, dom.resolution(ctx.params)))
            used.append(rel)
        except (InputError, OSError) as exc:  # absent shared data or a corrupt photo: the rest still fuse
            skipped.append({"path": rel, "error": str(exc)})
            print(f"fuse_guard: real reference skipped: {exc}", file=sys.stderr)
    if not refs or d.real_share == 0:
        return None, used, skipped
    rows = distill_fusion.appearance_rows(model, refs, benign.pose, d.real_rows, ctx.params.project.seed,
                                          d.real_sample_steps)
    return rows, used, skipped


def main(argv: list[str] | None = None) -> int:
    return run_stage("fuse_guard", argv, _run, add_args=add_domain_arg)


if __name__ == "__main__":
    sys.exit(main())
