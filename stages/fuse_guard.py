"""Stage fuse_guard: combine the per-category adapters into one and fold it into the base weights.

Command:  python -m stages.fuse_guard
Inputs:   models/generator/base/, models/guard/adapters/<category>/ for every guard.categories entry;
          params fuse_guard.* (combination cat | linear | ties, per-category weights, TIES density).
Outputs:  models/guard/fused_adapter/ (peft adapter), models/guard/fused/ (generator directory with the
          adapter merged: guarded inference costs what the base costs), metrics/fuse_guard.json.
Registry: poseguard-fused, alias candidate.
"""

from __future__ import annotations

import sys
from pathlib import Path

from safealign.atomic import atomic_dir, write_json
from safealign.stage import StageContext, run_stage

BASE = Path("models/generator/base")
ADAPTERS = Path("models/guard/adapters")
FUSED_ADAPTER = Path("models/guard/fused_adapter")
FUSED = Path("models/guard/fused")


def _run(ctx: StageContext) -> dict:
    from safealign.generation.device import set_threads

    from safealign.errors import ConfigError
    from safealign.generation import lora
    from safealign.generation.model import PoseGuidedGenerator
    from safealign.tracking.registry import register_model_dir

    set_threads(ctx.params.pretrain_generator.torch_threads)

    p, cats = ctx.section("fuse_guard"), list(ctx.params.guard.categories)
    unknown = sorted(set(p.weights) - set(cats))
    if unknown:
        raise ConfigError(f"fuse_guard.weights: {unknown} not in guard.categories {cats}")
    weights = [float(p.weights.get(c, 1.0)) for c in cats]
    ctx.tracker.log_inputs([BASE] + [ADAPTERS / c for c in cats])
    names = [lora.adapter_name(c) for c in cats]
    model = lora.load_adapters(PoseGuidedGenerator.from_pretrained(BASE),
                               {n: ADAPTERS / c for n, c in zip(names, cats)})
    fused = lora.fuse_adapters(model, names, weights, p.combination, p.density)
    with atomic_dir(FUSED_ADAPTER) as tmp:
        lora.save_adapter(model, fused, tmp)
    fused_rank = int(model.peft_config[fused].r)
    merged = lora.merged_generator(model)
    with atomic_dir(FUSED) as tmp:
        merged.save_pretrained(tmp)
    metrics = {"categories": cats, "weights": weights, "combination": p.combination,
               "fused_rank": fused_rank}
    write_json(Path("metrics/fuse_guard.json"), metrics)
    register_model_dir("poseguard-fused", FUSED, {"categories": ",".join(cats), "combination": p.combination,
                                                  "weights": ",".join(f"{w:g}" for w in weights)})
    return {"n_adapters": len(cats)}


def main(argv: list[str] | None = None) -> int:
    return run_stage("fuse_guard", argv, _run)


if __name__ == "__main__":
    sys.exit(main())
