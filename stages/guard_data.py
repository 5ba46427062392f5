"""Stage guard_data@<category>: the training and check rows of one category's guard, cached.

Command:  python -m stages.guard_data --item <category> [--domain body|face]
Inputs:   data/processed/poses/manifest.parquet + the clips it names (data/processed/poses/clips/,
          data/interim/motions/clips/); params guard.resolution, guard_data.*, evaluate_guard.frames_per_clip,
          project.seed.
Outputs:  data/processed/guard/<category>.safetensors with four row sets:
          fidelity (train benign + near-miss clips -> true frames), safety (train unsafe clips of the category,
          incl. their augmented copies, active frames only: the held posture or the motion, not the lead-in
          -> degraded frames, poseguard.md 2.2, with the true frames kept as ``source``), curve_benign /
          curve_near_miss / curve_unsafe (val clips judged as the evaluation judges them, for train_guard's
          learning curve; rows grouped by clip).
          The file has no metadata and the fidelity part does not depend on the category list, so adding a
          category leaves the other categories' files byte-identical and their train_guard stays cached.
Domain face: data/processed/faces -> data/processed/face_guard/<category>.safetensors, face.categories,
          face.resolution and the ``face.guard_data`` overrides (safealign/domains.py).
"""

from __future__ import annotations

import sys

from safealign.atomic import atomic_path
from safealign.domains import add_domain_arg, get_domain
from safealign.stage import StageContext, run_stage


def _run(ctx: StageContext) -> dict:
    from safealign.errors import InputError
    from safealign.generation import data
    from safealign.generation.degrade import degrade

    dom = get_domain(ctx.args.domain)
    cat, p, res = ctx.args.item, ctx.section("guard_data"), dom.resolution(ctx.params)
    if cat not in dom.categories(ctx.params):
        raise InputError(f"--item {cat}: not one of the {dom.name} categories {dom.categories(ctx.params)}")
    manifest = dom.poses_dir / "manifest.parquet"
    rows = data.read_manifest(manifest)
    report = data.LoadReport()

    def load(selected: list, frames: int, active_only: bool = False) -> data.Triples:
        return data.load_clip_triples(selected, ctx.root, res, frames, report, active_only)

    fidelity = load(data.select(rows, "train", data.FIDELITY_LABELS), p.frames_per_clip)
    unsafe = load(data.select(rows, "train", [data.UNSAFE_LABEL], cat), p.active_frames_per_clip, True)
    curve, groups = _curve_sets(ctx, dom, manifest, cat, p.curve_clips)
    if len(fidelity) == 0 or len(unsafe) == 0:
        raise InputError(f"{manifest}: category {cat!r} needs train clips labelled benign/near_miss and "
                         f"unsafe (found {len(fidelity)} and {len(unsafe)} frames; skipped e.g. "
                         f"{report.skipped[:1]})")
    safety = unsafe.with_target(degrade(unsafe.target, p.degrade, p.degrade_strength), keep_source=True)
    out = dom.guard_data / f"{cat}.safetensors"
    with atomic_path(out) as tmp:
        data.save_triples(tmp, {"fidelity": fidelity, "safety": safety, **curve}, groups)
    return {"fidelity_rows": len(fidelity), "safety_rows": len(safety), "skipped_clips": len(report.skipped),
            **{f"{k}_clips": len(set(g.tolist())) for k, g in groups.items()}}


def _curve_sets(ctx: StageContext, dom, manifest, cat: str, clips_per_group: int) -> tuple[dict, dict]:
    """Validation clips of the learning curve (benign, near-miss, this category's unsafe), as rows grouped by
    clip, judged on the frames the evaluation judges."""
    import pandas as pd

    from safealign.evaluation.clips import ClipLoader, clips_as_rows, load_set
    from safealign.evaluation.learning_curve import curve_rows

    frame = pd.read_parquet(manifest)
    ev = ctx.section("evaluate_guard")
    loader = ClipLoader(ctx.root, frame, frame, dom.resolution(ctx.params), ev.frames_per_clip)
    sets, groups = {}, {}
    for group, rows in curve_rows(frame, cat, clips_per_group, ctx.params.project.seed).items():
        clips = load_set(loader, rows)[0]
        if clips:
            sets[f"curve_{group}"], groups[f"curve_{group}"] = clips_as_rows(clips)
    return sets, groups


def main(argv: list[str] | None = None) -> int:
    def add_args(parser) -> None:
        parser.add_argument("--item", required=True)
        add_domain_arg(parser)

    return run_stage("guard_data", argv, _run, add_args=add_args, section="guard_data")


if __name__ == "__main__":
    sys.exit(main())
