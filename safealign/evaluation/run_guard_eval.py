"""One domain's guard evaluation: base vs single-category adapters vs fused guard on held-out clips.

``evaluate_guard`` loads the evaluation sets and the models, generates, scores, calibrates the block rule on
validation clips, summarises the gate metrics and assembles the report; it writes nothing (the stage
stages/evaluate_guard.py writes the metrics, the plots data and the report).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from safealign.domains import Domain
from safealign.errors import InputError
from safealign.evaluation.clips import ClipLoader, load_set
from safealign.evaluation.evaluate import EvalInputs, ModelSpec, run_models
from safealign.evaluation.outputs import gate_table
from safealign.evaluation.params import EvaluateGuardParams
from safealign.evaluation.real import real_inputs
from safealign.evaluation.report import build_report, example_grid, group_grids
from safealign.evaluation.report_sections import action_section, ceiling_section, curve_section, tier_section
from safealign.evaluation.sets import select_sets
from safealign.evaluation.summary import (BASE, FUSED, action_table, adapter_name, calibrate_rules, fidelity_table,
                                          mark_blocked, robustness_table, summarize)
from safealign.report.html import Report

TITLES = {"body": "PoseGuard evaluation", "face": "FaceGuard evaluation (facial-landmark variant, issue 9)"}
ALL_SETS = ("val", "test", "robustness", "real")


@dataclass
class GuardEvaluation:
    """What one evaluation produced: gate metrics, the report (not written), gate lines, robustness table."""

    metrics: dict[str, Any]
    report: Report
    gate_lines: list[str]
    robustness: pd.DataFrame


@dataclass
class _Loaded:
    manifest: pd.DataFrame
    inputs: EvalInputs
    problems: list[dict]
    real_notes: list[str]


def evaluate_guard(root: Path, params: Any, dom: Domain,
                   log_inputs: Callable[[list[Any]], object] | None = None) -> GuardEvaluation:
    """Evaluate domain ``dom`` with ``params`` (its ``evaluate_guard`` section already the domain's) in the
    project at ``root``; ``log_inputs`` receives the data and model paths read (e.g. the MLflow tracker's)."""
    from safealign.generation.loading import load_generator
    from safealign.generation.sampling import generate

    sec: EvaluateGuardParams = params.evaluate_guard
    project, categories = params.project, dom.categories(params)
    adapters = {c: Path(sec.adapters_dir) / c for c in categories}
    missing = [str(p) for p in [Path(sec.base_model), Path(sec.fused_model), *adapters.values()] if not p.exists()]
    if missing:
        raise InputError(f"models not found: {', '.join(missing)} (run pretrain_generator/train_guard/fuse_guard)")
    data = _load(root, params, dom)
    specs = [ModelSpec(BASE, sec.base_model, None, ALL_SETS)]
    specs += [ModelSpec(adapter_name(c), sec.base_model, p, ("val", "test", "real")) for c, p in adapters.items()]
    specs.append(ModelSpec(FUSED, sec.fused_model, None, ALL_SETS))
    if log_inputs is not None:
        log_inputs([Path(sec.poses_dir), sec.base_model, sec.fused_model, *adapters.values()])
    scores, outputs = run_models(specs, data.inputs,
                                 lambda s: load_generator(s.model, adapter=s.adapter, device=project.device),
                                 generate, project.seed, sec.steps, sec.clips_per_batch,
                                 keep_outputs={"test": (BASE, FUSED), "real": (BASE, FUSED)})
    rules = calibrate_rules(scores, sec.threshold_percentile, sec.threshold_margin)
    scores = mark_blocked(scores, rules)
    metrics = summarize(scores, categories, rules, sec.robustness_mild, sec.frontal_yaw_deg)
    ceiling, ceiling_rows, ceiling_note = keypoint_ceiling_section(root, data.manifest, categories, project.seed,
                                                                   sec.frontal_yaw_deg)
    metrics["keypoint_ceiling"] = ceiling
    metrics["threshold_rule"] = rules[FUSED].describe()
    metrics["quarantined_clips"] = len(data.problems)
    rob = robustness_table(scores)
    gated_model = f"{dom.registry}-fused"
    gate_rows, gate_lines, passed = gate_table(params.gates, gated_model, metrics)
    grids = _grids(data.inputs, outputs, categories, sec.example_rows_per_group)
    real = data.inputs.clips["real"]
    real_note = (" ".join(data.real_notes) + f" Fused guard on {len(real)} real windows: mean SSIM to base "
                 f"{metrics['real_ssim_vs_base']:.3f}, false-block rate {metrics['real_false_block_rate']:.3f}.")
    report = build_report(metrics, fidelity_table(scores), rob, metrics["threshold_rule"], gate_lines, gate_rows,
                          passed, grids, real_note, categories, TITLES[dom.name], gated_model)
    tier_section(report, metrics, categories)
    action_section(report, action_table(scores, sec.frontal_yaw_deg), categories)
    ceiling_section(report, ceiling_rows, ceiling_note)
    curve_section(report, learning_curves(dom, categories))
    for p in data.problems:
        report.note(f"skipped clip {p['clip_id']} ({p['file']}): {p['reason']}")
    return GuardEvaluation(metrics, report, gate_lines, rob)


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{path} not found: run the curate_poses stage first")
    return pd.read_parquet(path)


def _load(root: Path, params: Any, dom: Domain) -> _Loaded:
    """The val/test/robustness sets of the curated manifest and the real clips, loaded as the models see them."""
    sec, project = params.evaluate_guard, params.project
    poses, resolution = Path(sec.poses_dir), dom.resolution(params)
    manifest, robustness = _read(poses / "manifest.parquet"), _read(poses / "robustness.parquet")
    sets = select_sets(manifest, robustness, sec.max_clips_per_group, sec.max_robustness_clips_per_cell,
                       project.seed)
    loader = ClipLoader(root, pd.concat([manifest, robustness]), manifest, resolution, sec.frames_per_clip)
    inputs, problems = EvalInputs(), []
    for name in ("val", "test", "robustness"):
        clips, meta, bad = load_set(loader, getattr(sets, name))
        inputs.add(name, clips, meta)
        problems += bad
    fallback = inputs.clips["test"][0].reference if inputs.clips["test"] else None
    real, real_meta, notes, bad = real_inputs(root, (root / project.shared_data).resolve(), sec, resolution,
                                              sets.train, fallback, dom.layout)
    inputs.add("real", real, real_meta)
    return _Loaded(manifest, inputs, problems + bad, notes)


def _grids(inputs: EvalInputs, outputs: dict, categories: list[str], n: int) -> dict:
    """Example image grids per group of test clips, and of the real clips when there are any."""
    grids = group_grids(inputs.meta["test"], inputs.clips["test"], outputs.get(("test", BASE), []),
                        outputs.get(("test", FUSED), []), ["benign", "near_miss", *categories], n)
    real = inputs.clips["real"]
    if real and n:
        grids["benign real motion (no ground truth: black cell)"] = example_grid(
            real[:n], outputs[("real", BASE)][:n], outputs[("real", FUSED)][:n], [c.clip_id for c in real[:n]])
    return grids


def keypoint_ceiling_section(root: Path, manifest: pd.DataFrame, categories: list[str], seed: int,
                             frontal: float) -> tuple[dict, Any, str]:
    """The keypoint learnability ceiling on the same manifest (a classifier on the keypoint sequences):
    (results, report table, note); a note saying why when it cannot be measured."""
    from safealign.evaluation.keypoint_ceiling import keypoint_ceiling

    try:
        results, table = keypoint_ceiling(manifest, root, categories, seed=seed, frontal_deg=frontal)
    except (InputError, ValueError) as exc:
        return {}, None, f"Not measured: {exc}"
    return results, table, ""


def learning_curves(dom: Domain, categories: list[str]) -> dict[str, list]:
    """Each adapter's learning curve from its train_guard metrics (categories without one are left out)."""
    out = {}
    for c in categories:
        path = dom.metrics_file(f"train_guard/{c}")
        if path.is_file():
            out[c] = json.loads(path.read_text(encoding="utf-8")).get("curve") or []
    return out
