"""Stage fuse_guard: combine the per-category adapters into one and fold it into the base weights.

Command:  python -m stages.fuse_guard [--domain body|face]
Inputs:   models/generator/base/, models/guard/adapters/<category>/ for every guard.categories entry;
          params fuse_guard.* (combination cat | linear | ties, per-category weights, TIES density).
Outputs:  models/guard/fused_adapter/ (peft adapter), models/guard/fused/ (generator directory with the
          adapter merged: guarded inference costs what the base costs), metrics/fuse_guard.json.
Registry: poseguard-fused, alias candidate.
Domain face: models/face/generator/base + models/face/guard/adapters/<face.categories> ->
          models/face/guard/{fused_adapter,fused}/, metrics/face/fuse_guard.json, faceguard-fused.
"""

from __future__ import annotations

import sys

from safealign.atomic import atomic_dir, write_json
from safealign.domains import add_domain_arg, get_domain
from safealign.stage import StageContext, run_stage


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
    fused = lora.fuse_adapters(model, names, weights, p.combination, p.density)
    with atomic_dir(dom.fused_adapter) as tmp:
        lora.save_adapter(model, fused, tmp)
    fused_rank = int(model.peft_config[fused].r)
    merged = lora.merged_generator(model)
    with atomic_dir(dom.fused) as tmp:
        merged.save_pretrained(tmp)
    metrics = {"categories": cats, "weights": weights, "combination": p.combination,
               "fused_rank": fused_rank}
    write_json(dom.metrics_file("fuse_guard"), metrics)
    register_model_dir(f"{dom.registry}-fused", dom.fused, {"categories": ",".join(cats),
                                                            "combination": p.combination,
                                                            "weights": ",".join(f"{w:g}" for w in weights)})
    return {"n_adapters": len(cats)}


def main(argv: list[str] | None = None) -> int:
    return run_stage("fuse_guard", argv, _run, add_args=add_domain_arg)


if __name__ == "__main__":
    sys.exit(main())
