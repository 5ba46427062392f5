"""Stage guard_data@<category>: the training and check triples of one category's guard, cached.

Command:  python -m stages.guard_data --item <category> [--domain body|face]
Inputs:   data/processed/poses/manifest.parquet + the clips it names (data/processed/poses/clips/,
          data/interim/motions/clips/); params guard.resolution, train_guard.degrade,
          train_guard.degrade_strength, train_guard.safety_input, train_guard.frames_per_clip,
          train_guard.ambiguity_quantile, train_guard.ambiguity_features, train_guard.balance_actions,
          train_guard.check_clips.
Outputs:  data/processed/guard/<category>.safetensors with four triple sets:
          fidelity (train benign + near-miss -> true frames), safety (train unsafe clips of the category,
          incl. their augmented copies -> degraded frames, poseguard.md 2.2, plus their true frames under
          safety_input truth; frames that look like benign
          poses are left out, safealign/generation/ambiguity.py; with balance_actions every action of the
          category then has as many safety rows as its largest one), check_benign / check_unsafe
          (val clips -> true frames, for the held-out check of train_guard).
          The file has no metadata and the fidelity part does not depend on the category list, so adding a
          category leaves the other categories' files byte-identical and their train_guard stays cached.
Domain face: data/processed/faces -> data/processed/face_guard/<category>.safetensors, face.categories,
          face.resolution and the ``face.train_guard`` overrides (safealign/domains.py).
"""

from __future__ import annotations

import sys

import numpy as np

from safealign.atomic import atomic_path
from safealign.domains import add_domain_arg, get_domain
from safealign.stage import StageContext, run_stage


def _run(ctx: StageContext) -> dict:
    from safealign.generation.device import set_threads

    set_threads(ctx.params.pretrain_generator.torch_threads)
    from safealign.errors import InputError
    from safealign.generation import data
    from safealign.generation.ambiguity import distinct_frames
    from safealign.generation.degrade import degrade
    from safealign.layouts import get_layout

    dom = get_domain(ctx.args.domain)
    cat, p, res = ctx.args.item, dom.section(ctx.params, "train_guard"), dom.resolution(ctx.params)
    if cat not in dom.categories(ctx.params):
        raise InputError(f"--item {cat}: not one of the {dom.name} categories {dom.categories(ctx.params)}")
    manifest = dom.poses_dir / "manifest.parquet"
    rows = data.read_manifest(manifest)
    report = data.LoadReport()

    def load(selected: list, frames: int) -> data.Triples:
        return data.load_clip_triples(selected, ctx.root, res, frames, report)

    fidelity = load(data.select(rows, "train", data.FIDELITY_LABELS), p.frames_per_clip)
    unsafe_rows = data.select(rows, "train", [data.UNSAFE_LABEL], cat)
    if p.balance_actions:  # grouped by action, so that each frame's action is known
        unsafe, action, _ = data.load_by_action(unsafe_rows, ctx.root, res, p.frames_per_clip, report)
    else:
        unsafe = load(unsafe_rows, p.frames_per_clip)
    check_benign = load(data.select(rows, "val", data.FIDELITY_LABELS)[: p.check_clips], 1)
    check_unsafe = load(data.select(rows, "val", [data.UNSAFE_LABEL], cat)[: p.check_clips], 1)
    if len(fidelity) == 0 or len(unsafe) == 0:
        raise InputError(f"{manifest}: category {cat!r} needs train clips labelled benign/near_miss and "
                         f"unsafe (found {len(fidelity)} and {len(unsafe)} frames; skipped e.g. "
                         f"{report.skipped[:1]})")
    bones = get_layout(dom.layout).bones
    distinct = distinct_frames(unsafe, fidelity, p.ambiguity_quantile, p.ambiguity_features, bones)
    if not distinct.any():  # tiny data sets: nothing separates, so keep every frame rather than none
        print(f"guard_data@{cat}: no unsafe frame is farther from benign poses than the "
              f"{p.ambiguity_quantile} quantile; the filter is skipped", file=sys.stderr)
        distinct[:] = True
    kept = np.nonzero(distinct)[0]
    unsafe = unsafe.take(kept[data.balanced_index(action[kept])] if p.balance_actions else kept)
    # The true frames are kept only where training noises them (safety_input truth): default files stay as they were.
    safety = unsafe.with_target(degrade(unsafe.target, p.degrade, p.degrade_strength),
                                keep_source=p.safety_input == "truth")
    out = dom.guard_data / f"{cat}.safetensors"
    with atomic_path(out) as tmp:
        data.save_triples(tmp, {"fidelity": fidelity, "safety": safety, "check_benign": check_benign,
                                "check_unsafe": check_unsafe})
    return {"fidelity_triples": len(fidelity), "safety_triples": len(safety),
            "check_benign": len(check_benign), "check_unsafe": len(check_unsafe),
            "ambiguous_unsafe_frames_dropped": int((~distinct).sum()), "skipped_clips": len(report.skipped)}


def main(argv: list[str] | None = None) -> int:
    def add_args(parser) -> None:
        parser.add_argument("--item", required=True)
        add_domain_arg(parser)

    return run_stage("guard_data", argv, _run, add_args=add_args, section="train_guard")


if __name__ == "__main__":
    sys.exit(main())
