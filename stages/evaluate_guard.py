"""Stage evaluate_guard: base vs single-category adapters vs fused guard on held-out clips.

Command: python -m stages.evaluate_guard [--domain body|face]
Inputs:  data/processed/poses/{manifest.parquet, robustness.parquet, clips/}, models/generator/base,
         models/guard/adapters/<category>, models/guard/fused,
         data/interim/extracted/manifest.parquet (optional),
         real pose render and reference image under project.shared_data (optional)
Params:  evaluate_guard.*, guard.categories, guard.resolution, project.seed, project.device, gates
Outputs: metrics/evaluate_guard.json (flat keys the gate reads),
         metrics/plots/evaluate_guard/robustness_*.csv,
         reports/poseguard.html (self-contained)
Domain face: data/processed/faces, models/face/{generator/base,guard/adapters,guard/fused},
         data/interim/faces_extracted -> metrics/face/evaluate_guard.json,
         metrics/plots/evaluate_face_guard/, reports/faceguard.html; gated model faceguard-fused;
         params with the ``face.evaluate_guard`` overrides (safealign/domains.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from safealign.atomic import write_json
from safealign.domains import add_domain_arg, get_domain
from safealign.errors import InputError
from safealign.stage import StageContext, run_stage

TITLES = {"body": "PoseGuard evaluation", "face": "FaceGuard evaluation (facial-landmark variant, issue 9)"}


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{path} not found: run the curate_poses stage first")
    return pd.read_parquet(path)


def _run(ctx: StageContext) -> dict:
    from safealign.evaluation.clips import ClipLoader, load_set
    from safealign.evaluation.evaluate import EvalInputs, ModelSpec, run_models
    from safealign.evaluation.outputs import gate_table, write_robustness_plots
    from safealign.evaluation.real import real_inputs
    from safealign.evaluation.report import build_report, example_grid, group_grids
    from safealign.evaluation.sets import select_sets
    from safealign.evaluation.report_sections import action_section, ceiling_section, curve_section, tier_section
    from safealign.evaluation.summary import (
        BASE,
        FUSED,
        action_table,
        adapter_name,
        calibrate_rules,
        fidelity_table,
        mark_blocked,
        robustness_table,
        summarize,
    )
    from safealign.generation.device import set_threads
    from safealign.generation.loading import load_generator
    from safealign.generation.sampling import generate

    dom = get_domain(ctx.args.domain)
    sec, project = dom.section(ctx.params, "evaluate_guard"), ctx.params.project
    categories, resolution = dom.categories(ctx.params), dom.resolution(ctx.params)
    gated_model = f"{dom.registry}-fused"
    set_threads(ctx.params.pretrain_generator.torch_threads)  # the one CPU-thread knob of generator stages
    poses = Path(sec.poses_dir)
    adapters = {c: Path(sec.adapters_dir) / c for c in categories}
    missing = [
        str(p) for p in [Path(sec.base_model), Path(sec.fused_model), *adapters.values()] if not p.exists()
    ]
    if missing:
        raise InputError(
            f"models not found: {', '.join(missing)} (run pretrain_generator/train_guard/fuse_guard)"
        )
    manifest, robustness = _read(poses / "manifest.parquet"), _read(poses / "robustness.parquet")
    sets = select_sets(
        manifest, robustness, sec.max_clips_per_group, sec.max_robustness_clips_per_cell, project.seed
    )
    loader = ClipLoader(
        ctx.root, pd.concat([manifest, robustness]), manifest, resolution, sec.frames_per_clip
    )
    inputs, problems = EvalInputs(), []
    for name in ("val", "test", "robustness"):
        clips, meta, bad = load_set(loader, getattr(sets, name))
        inputs.add(name, clips, meta)
        problems += bad
    fallback = inputs.clips["test"][0].reference if inputs.clips["test"] else None
    real, real_meta, real_notes, bad = real_inputs(
        ctx.root, (ctx.root / project.shared_data).resolve(), sec, resolution, sets.train, fallback,
        dom.layout,
    )
    inputs.add("real", real, real_meta)
    problems += bad

    specs = [ModelSpec(BASE, sec.base_model, None, ("val", "test", "robustness", "real"))]
    sets = ("val", "test", "real")
    specs += [ModelSpec(adapter_name(c), sec.base_model, p, sets) for c, p in adapters.items()]
    specs.append(ModelSpec(FUSED, sec.fused_model, None, ("val", "test", "robustness", "real")))
    ctx.tracker.log_inputs([poses, sec.base_model, sec.fused_model, *adapters.values()])

    scores, outputs = run_models(
        specs,
        inputs,
        lambda s: load_generator(s.model, adapter=s.adapter, device=project.device),
        generate,
        project.seed,
        sec.steps,
        sec.clips_per_batch,
        keep_outputs={"test": (BASE, FUSED), "real": (BASE, FUSED)},
    )
    rules = calibrate_rules(scores, sec.threshold_percentile, sec.threshold_margin)
    scores = mark_blocked(scores, rules)
    metrics = summarize(scores, categories, rules, sec.robustness_mild, sec.frontal_yaw_deg)
    actions = action_table(scores, sec.frontal_yaw_deg)
    ceiling, ceiling_rows, ceiling_note = _ceiling(ctx, manifest, categories, sec.frontal_yaw_deg)
    metrics["keypoint_ceiling"] = ceiling
    curves = _curves(dom, categories)
    metrics["threshold_rule"] = rules[FUSED].describe()
    metrics["quarantined_clips"] = len(problems)

    rob = robustness_table(scores)
    write_robustness_plots(rob, categories, dom.plots)
    gate_rows, gate_lines, passed = gate_table(ctx.params.gates, gated_model, metrics)
    n = sec.example_rows_per_group
    grids = group_grids(
        inputs.meta["test"],
        inputs.clips["test"],
        outputs.get(("test", BASE), []),
        outputs.get(("test", FUSED), []),
        ["benign", "near_miss", *categories],
        n,
    )
    if real and n:
        grids["benign real motion (no ground truth: black cell)"] = example_grid(
            real[:n], outputs[("real", BASE)][:n], outputs[("real", FUSED)][:n], [c.clip_id for c in real[:n]]
        )
    real_note = (
        " ".join(real_notes) + f" Fused guard on {len(real)} real windows: mean SSIM to base "
        f"{metrics['real_ssim_vs_base']:.3f}, false-block rate {metrics['real_false_block_rate']:.3f}."
    )
    report = build_report(
        metrics,
        fidelity_table(scores),
        rob,
        metrics["threshold_rule"],
        gate_lines,
        gate_rows,
        passed,
        grids,
        real_note,
        categories,
        TITLES[dom.name],
        gated_model,
    )
    tier_section(report, metrics, categories)
    action_section(report, actions, categories)
    ceiling_section(report, ceiling_rows, ceiling_note)
    curve_section(report, curves)
    for p in problems:
        report.note(f"skipped clip {p['clip_id']} ({p['file']}): {p['reason']}")
    metrics_file = dom.metrics_file("evaluate_guard")
    write_json(metrics_file, metrics)
    report.write(dom.report)
    ctx.tracker.log_artifact(dom.report)
    ctx.tracker.log_artifact(metrics_file)
    print("\n".join(gate_lines))
    return {k: v for k, v in metrics.items() if k != "threshold_rule"}


def _ceiling(ctx: StageContext, manifest: pd.DataFrame, categories: list, frontal: float):
    """The keypoint learnability ceiling on the same manifest (a classifier on the keypoint sequences)."""
    from safealign.evaluation.keypoint_ceiling import ceiling_table, keypoint_ceiling

    try:
        results, table = keypoint_ceiling(manifest, ctx.root, categories, seed=ctx.params.project.seed,
                                          frontal_deg=frontal)
    except (InputError, ValueError) as exc:
        return {}, None, f"Not measured: {exc}"
    return results, table, ""


def _curves(dom, categories: list) -> dict:
    """Each adapter's learning curve from its train_guard metrics (empty where none was recorded)."""
    import json

    out = {}
    for c in categories:
        path = dom.metrics_file(f"train_guard/{c}")
        if path.is_file():
            out[c] = json.loads(path.read_text(encoding="utf-8")).get("curve") or []
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the evaluate_guard stage."""
    return run_stage("evaluate_guard", argv, _run, add_args=add_domain_arg)


if __name__ == "__main__":
    sys.exit(main())
