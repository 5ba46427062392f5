"""Stage pretrain_generator: train the unaligned base generator, or adopt a given one.

Command:  python -m stages.pretrain_generator [--params params.yaml] [--domain body|face]
Inputs:   data/processed/generator_split.parquet + the clips it names (data/interim/motions/clips/):
          train split, every category incl. unsafe, original clips only;
          params pretrain_generator.*, guard.resolution, project.seed, project.device.
          With pretrain_generator.base = <local generator dir> no training happens: the directory is
          validated (loads, resolution matches) and copied.
Outputs:  models/generator/base/ (generator directory), metrics/pretrain_generator.json,
          reports/figures/pretrain_preview.png; models/generator/checkpoint/ (resume point, persisted).
Registry: poseguard-base, alias candidate.
Domain face (issue 9): the same with the paths, layout, resolution and ``face.pretrain_generator``
overrides of ``safealign.domains.FACE_DOMAIN`` (data/processed/face_generator_split.parquet ->
models/face/generator/base, metrics/face/pretrain_generator.json; registry faceguard-base).
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from safealign.atomic import atomic_dir, write_json
from safealign.domains import Domain, add_domain_arg, get_domain
from safealign.stage import StageContext, run_stage


def _adopt(ctx: StageContext, dom: Domain, source: str) -> dict:
    from safealign.errors import ConfigError
    from safealign.generation.model import PoseGuidedGenerator

    model = PoseGuidedGenerator.from_pretrained(source)
    if model.resolution != dom.resolution(ctx.params):
        raise ConfigError(f"pretrain_generator.base: {source} works at {model.resolution} px but "
                          f"the {dom.name} resolution is {dom.resolution(ctx.params)}")
    with atomic_dir(dom.base) as tmp:
        shutil.copytree(source, tmp, dirs_exist_ok=True)
    return {"trained": 0, **model.describe()}


def _train(ctx: StageContext, dom: Domain) -> dict:
    import numpy as np
    import torch

    from safealign.errors import InputError
    from safealign.generation import data, training
    from safealign.generation.device import resolve_device
    from safealign.generation.params import generator_config, loss_config
    from safealign.generation.pretrain import POSE_PATHS, pose_following, pretrain
    from safealign.generation.sampling import generate
    from safealign.hashing import path_sha256
    from safealign.video.grid import image_grid
    from safealign.video.io import save_png

    p, res = ctx.section("pretrain_generator"), dom.resolution(ctx.params)
    seed = ctx.params.project.seed
    rows = data.read_manifest(dom.generator_split)
    report = data.LoadReport()
    # Augmented copies are left out: their perturbed poses no longer match the parent's true frames.
    train_rows, val_rows = (data.originals(data.select(rows, split)) for split in ("train", "val"))
    train = data.load_clip_triples(train_rows, ctx.root, res, p.frames_per_clip, report)
    val = data.load_clip_triples(val_rows, ctx.root, res, 1, report)
    if len(train) == 0:
        raise InputError(f"{dom.generator_split}: no usable train clips ({len(report.skipped)} skipped, "
                         f"e.g. {report.skipped[:1]})")
    ctx.tracker.log_inputs([dom.generator_split])
    # What the weights depend on; `steps` is left out so that raising it continues a finished run.
    trained_on = p.model_dump(exclude={"steps", "checkpoint_every", "preview_steps", "torch_threads"})
    key = path_sha256(dom.generator_split) + repr(trained_on) + str((res, seed))
    loop = training.LoopConfig(p.steps, p.lr, seed, p.checkpoint_every, p.warmup_steps, key=key,
                               lr_schedule=p.lr_schedule)
    log_every = max(1, p.steps // 100)

    def log(step: int, values: dict) -> None:
        if step % log_every == 0:
            ctx.tracker.log_metrics({f"train_{k}": v for k, v in values.items()}, step=step)

    device = resolve_device(ctx.params.project.device)
    cpu_start = time.process_time()
    from safealign.layouts import get_layout

    from safealign.generation.params import dataclass_from
    from safealign.generation.pretrain import TokenObjective

    model, result = pretrain(train, generator_config(p.model, res), get_layout(dom.layout).tokens, dom.layout,
                             loss_config(p.loss), loop, p.batch_size, device, p.map_drop, p.token_drop,
                             dataclass_from(TokenObjective, p.token_objective), Path(p.checkpoint_dir), log)
    train_cpu = time.process_time() - cpu_start
    sample = val if len(val) >= 2 else train  # tiny data sets may lack a val split
    check = pose_following(model, sample, p.preview_steps, seed)
    with atomic_dir(dom.base) as tmp:
        model.save_pretrained(tmp)
    n = min(6, len(sample))
    shown = sample.take(np.arange(n))
    out = {name: generate(model, shown, seed=seed, steps=p.preview_steps, use_map=m, use_tokens=t)
           for name, (m, t) in POSE_PATHS.items()}
    rows_ = [list(shown.reference), list(shown.pose), *(list(v) for v in out.values()), list(shown.target)]
    labels = ["reference", "pose", *(f"generated ({k})" for k in out), "truth"]
    save_png(dom.preview, image_grid(rows_, labels=labels))
    metrics = {"train_triples": len(train), "val_triples": len(val), "skipped_clips": len(report.skipped),
               "steps": p.steps, "resumed_from": result.resumed_from,
               "train_cpu_seconds": train_cpu,
               "final_loss": training.smoothed(result.history, "diffusion"),
               "final_token_loss": training.smoothed(result.history, "tokens"), "pose_check": check,
               "device": str(device), "torch_threads": torch.get_num_threads(), "trained": 1,
               **model.describe()}
    return metrics


def _run(ctx: StageContext) -> dict:
    from safealign.generation.device import set_threads

    set_threads(ctx.params.pretrain_generator.torch_threads)
    from safealign.tracking.registry import register_model_dir

    dom = get_domain(ctx.args.domain)
    p = ctx.section("pretrain_generator")
    metrics = _adopt(ctx, dom, p.base) if p.base != "builtin" else _train(ctx, dom)
    metrics_file = dom.metrics_file("pretrain_generator")
    write_json(metrics_file, metrics)
    ctx.tracker.log_artifact(metrics_file)
    if dom.preview.exists() and metrics.get("trained"):
        ctx.tracker.log_artifact(dom.preview)
    register_model_dir(f"{dom.registry}-base", dom.base,
                       {"source": p.base, "resolution": dom.resolution(ctx.params), "domain": dom.name})
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float))}


def main(argv: list[str] | None = None) -> int:
    return run_stage("pretrain_generator", argv, _run, add_args=add_domain_arg)


if __name__ == "__main__":
    sys.exit(main())
