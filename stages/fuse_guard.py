"""Stage fuse_guard: combine the per-category adapters into one and fold it into the base weights.

Command:  python -m stages.fuse_guard [--domain body|face]
Inputs:   models/generator/base/, models/guard/adapters/<category>/ for every guard.categories entry;
          data/processed/guard/<category>.safetensors (the rows closed_form and distill fit on);
          params fuse_guard.* (combination, per-category weights, closed_form and distill settings),
          pretrain_generator.loss, project.seed.
Outputs:  models/guard/fused_adapter/ (peft adapter), models/guard/fused/ (generator directory with the
          adapter merged: guarded inference costs what the base costs), metrics/fuse_guard.json.
Registry: poseguard-fused, alias candidate.
Domain face: models/face/generator/base + models/face/guard/adapters/<face.categories> (+ data/processed/face_guard)
          -> models/face/guard/{fused_adapter,fused}/, metrics/face/fuse_guard.json, faceguard-fused.
"""

from __future__ import annotations

import sys

from safealign.atomic import atomic_dir, write_json
from safealign.domains import add_domain_arg, get_domain
from safealign.stage import StageContext, run_stage


def _run(ctx: StageContext) -> dict:
    from safealign.errors import ConfigError, InputError
    from safealign.generation import data, lora
    from safealign.generation.closed_form import ClosedFormConfig
    from safealign.generation.device import set_threads
    from safealign.generation.fusion import DistillConfig, fuse
    from safealign.generation.model import PoseGuidedGenerator
    from safealign.generation.params import dataclass_from, loss_config
    from safealign.tracking.registry import register_model_dir

    set_threads(ctx.params.pretrain_generator.torch_threads)
    dom = get_domain(ctx.args.domain)
    p, cats = ctx.section("fuse_guard"), dom.categories(ctx.params)
    unknown = sorted(set(p.weights) - set(cats))
    if unknown:
        raise ConfigError(f"fuse_guard.weights: {unknown} not in the {dom.name} categories {cats}")
    weights = [float(p.weights.get(c, 1.0)) for c in cats]
    files = [dom.guard_data / f"{c}.safetensors" for c in cats]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise InputError(f"{', '.join(missing)}: missing (run guard_data --domain {dom.name} first)")
    sets = [data.load_triples(f) for f in files]
    ctx.tracker.log_inputs([dom.base] + [dom.adapters / c for c in cats])
    names = [lora.adapter_name(c) for c in cats]
    model = lora.load_adapters(PoseGuidedGenerator.from_pretrained(dom.base),
                               {n: dom.adapters / c for n, c in zip(names, cats)})
    extra = fuse(model, names, weights, p.combination, [s["safety"] for s in sets], sets[0]["fidelity"],
                 dataclass_from(ClosedFormConfig, p.closed_form), dataclass_from(DistillConfig, p.distill),
                 loss_config(ctx.params.pretrain_generator.loss), ctx.params.project.seed)
    with atomic_dir(dom.fused_adapter) as tmp:
        lora.save_adapter(model, "fused", tmp)
    fused_rank = int(model.peft_config["fused"].r)
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


def main(argv: list[str] | None = None) -> int:
    return run_stage("fuse_guard", argv, _run, add_args=add_domain_arg)


if __name__ == "__main__":
    sys.exit(main())
