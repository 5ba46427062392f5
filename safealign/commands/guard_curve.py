"""``safealign guard-curve``: train one category's guard adapter and measure its val block rate every N steps
(safealign.evaluation.learning_curve): how long must the guard train to reach the gate at this size?"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "guard-curve",
        help="learning curve of one guard adapter: val block rate, false blocks and AUC every N steps",
    )
    p.add_argument("--category", required=True, help="unsafe category (one of guard.categories)")
    p.add_argument("--domain", choices=("body", "face"), default="body")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: train_guard.steps)")
    p.add_argument("--every", type=int, default=None, help="steps between points (default: steps / 4)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override a param for this run, validated like params.yaml (repeatable), e.g. "
                        "--set train_guard.lam=2 --set train_guard.preserve=30")
    p.add_argument("--clips", type=int, default=36,
                   help="val clips per group at most (benign calibrates tau; near-miss, unsafe are judged)")
    p.add_argument("--fit-check", action="store_true",
                   help="also judge up to --clips original TRAIN unsafe clips of the category under the same "
                        "tau (train block, train AUC): does the adapter fit its own training poses? a "
                        "diagnostic, not an evaluation figure")
    p.add_argument("--train-seed", type=int, default=None, metavar="INT",
                   help="seed of the training draws only (default: project.seed); the judged clips and the "
                        "sampling noise keep project.seed, so runs of different training seeds are judged on "
                        "the same clips with the same noise")
    p.add_argument("--save-adapters", default=None, metavar="DIR",
                   help="save the adapter of every point as DIR/step_<N> (peft directories)")
    p.add_argument("--out", default=None, help="write the curve as JSON here (atomic)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import pandas as pd
    from tqdm import tqdm

    from safealign.atomic import atomic_dir, write_json
    from safealign.config import load_params
    from safealign.domains import get_domain
    from safealign.errors import InputError
    from safealign.evaluation.clips import ClipLoader, load_set
    from safealign.evaluation.learning_curve import FIT_GROUP, CurveProbe, blocks_by_action, curve_rows
    from safealign.generation import data, guard, training
    from safealign.generation.device import set_threads
    from safealign.generation.loading import load_generator
    from safealign.generation.lora import adapter_name, save_adapter
    from safealign.generation.params import guard_config, loss_config
    from safealign.generation.sampling import generate

    params = load_params(args.params, parse_overrides(args.overrides))
    dom = get_domain(args.domain)
    if args.category not in dom.categories(params):
        raise InputError(f"--category {args.category}: not a {dom.name} category {dom.categories(params)}")
    p, ev = dom.section(params, "train_guard"), dom.section(params, "evaluate_guard")
    seed = params.project.seed
    train_seed = seed if args.train_seed is None else args.train_seed
    steps = args.steps if args.steps is not None else p.steps
    every = args.every if args.every is not None else max(1, steps // 4)
    for flag, value in (("--steps", steps), ("--every", every), ("--clips", args.clips)):
        if value < 1:
            raise InputError(f"{flag}: expected an int >= 1, received {value}")
    if train_seed < 0:
        raise InputError(f"--train-seed: expected an int >= 0, received {train_seed}")
    source, manifest = dom.guard_data / f"{args.category}.safetensors", dom.poses_dir / "manifest.parquet"
    needed = ((source, f"{dom.dvc_stage('guard_data')}@{args.category}"),
              (manifest, "curate_poses (or curate_faces)"), (dom.base, dom.dvc_stage("pretrain_generator")))
    for path, stage in needed:
        if not path.exists():
            raise InputError(f"{path}: missing (run `dvc repro {stage}` first)")
    set_threads(params.pretrain_generator.torch_threads)

    rows = pd.read_parquet(manifest)
    chosen = curve_rows(rows, args.category, args.clips, seed, args.fit_check)
    loader = ClipLoader(Path.cwd(), rows, rows, dom.resolution(params), ev.frames_per_clip)
    clips = {}
    for group in chosen:
        clips[group], _, bad = load_set(loader, chosen[group])
        for problem in bad:
            print(f"skipped {problem['clip_id']} ({problem['file']}): {problem['reason']}")

    name = adapter_name(args.category)
    save_dir = Path(args.save_adapters) if args.save_adapters else None
    cfg, lr = guard_config(p), p.lr
    header = {"category": args.category, "domain": dom.name, "steps": steps, "every": every,
              "overrides": args.overrides, "train_guard": p.model_dump(), "seed": seed,
              "train_seed": train_seed,
              "rule": {"percentile": ev.threshold_percentile, "margin": ev.threshold_margin},
              "val_clips": {g: [c.clip_id for c in clips[g]] for g in clips if g != FIT_GROUP}}
    fit = FIT_GROUP in clips
    if fit:
        header["train_clips_fit_check"] = [c.clip_id for c in clips[FIT_GROUP]]
    tqdm.write(f"{args.category}: lam {cfg.lam:g}, lr {lr:g}, rank {cfg.rank}; clips "
               + ", ".join(f"{g} {len(clips[g])}" for g in clips))
    fit_columns = f" {'train block':>12} {'train AUC':>10}" if fit else ""
    tqdm.write(f"{'step':>6} {'train s':>8} {'block':>6} {'near-miss FB':>13} {'benign FB':>10} {'AUC':>6} "
               f"{'unsafe SSIM':>12} {'benign SSIM':>12}" + fit_columns)

    action_of = dict(zip(rows["clip_id"], rows["action"])) if "action" in rows else {}

    def report(point: dict, model) -> None:
        # Printed and written as they come: a long run that is stopped keeps the points it reached.
        tqdm.write(f"{point['step']:6d} {point['train_seconds']:8.0f} {point['block_rate']:6.3f} "
                   f"{point['near_miss_false_block']:13.3f} {point['benign_false_block']:10.3f} "
                   f"{point['auc']:6.3f} {point['unsafe_ssim_mean']:12.3f} {point['benign_ssim_mean']:12.3f}"
                   + (f" {point['train_block_rate']:12.3f} {point['train_auc']:10.3f}" if fit else ""))
        windows = (("first steps' losses", point.get("losses_first_steps")),
                   ("losses since last point", point["losses_window"]))
        for label, losses in windows:
            if losses:
                tqdm.write(f"{'':6} {label}: " + ", ".join(f"{k} {v:.4f}" for k, v in losses.items()))
        if action_of:
            point["blocks_by_action"] = {
                g: blocks_by_action(point["ssim_per_clip"][g], [action_of[c.clip_id] for c in clips[g]],
                                    point["tau"])
                for g in ("near_miss", "unsafe", FIT_GROUP) if clips.get(g)}
            for g, counts in point["blocks_by_action"].items():
                tqdm.write(f"{'':6} {g} blocked: " + ", ".join(f"{a} {k}/{n}" for a, (k, n) in counts.items()))
        if save_dir is not None:
            with atomic_dir(save_dir / f"step_{point['step']}") as tmp:
                save_adapter(model, name, tmp)
        if args.out:
            write_json(Path(args.out), header | {"points": probe.points})

    probe = CurveProbe(clips, every, steps, ev.threshold_percentile, ev.threshold_margin, seed, ev.steps,
                       ev.clips_per_batch, generate, report)
    sets = data.load_triples(source)
    base = load_generator(dom.base, device=params.project.device)
    loss = loss_config(params.pretrain_generator.loss)
    loop = training.LoopConfig(steps, lr, train_seed)
    guard.train_guard(base, sets["fidelity"], sets["safety"], name, cfg, loss, loop, dom.base.resolve(),
                      probe, probe.bind)
    return 0


def parse_overrides(items: list[str]) -> dict:
    """``["train_guard.lam=2"]`` -> ``{"train_guard.lam": 2}``; values read as YAML (2, 0.5, true, [a])."""
    from safealign.yaml_load import load_yaml
    from safealign.errors import ConfigError, shorten

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {shorten(item)}: expected KEY=VALUE with a dotted params key, "
                              "e.g. train_guard.lam=2")
        out[key.strip()] = load_yaml(value, f"--set {key}")
    return out
