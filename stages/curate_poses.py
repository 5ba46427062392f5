"""Stage ``curate_poses``: merge, label, filter, de-duplicate, split by subject, augment, robustness set, GX.

Command: ``python -m stages.curate_poses [--params params.yaml]``
Reads:   data/interim/motions/manifest.parquet (+ clips)      synthetic clips (required)
         data/interim/extracted/manifest.parquet (+ clips)    real clips, when present: benign, test only
         <curate_poses.flagged_dir>/<category>/*.npz | OpenPose-JSON dirs   flagged unsafe clips
         params project.seed, guard.categories, curate_poses.*
Writes:  data/processed/poses/clips/<clip_id>.npz   pose-only files: flagged, augmented and robustness clips
                                                    (derived clips read frames/reference via parent_clip_id)
         data/processed/poses/manifest.parquet      train/val/test originals + augmented unsafe train copies
         data/processed/poses/robustness.parquet    test clips under the perturbation grid (+ family, level,
                                                    level_value)
         data/processed/poses/counts.json, metrics/curate_poses.json   counts per category/split/label, filtered
         metrics/gx/poses_*.json                    Great Expectations results (a failed suite stops the stage)
         reports/figures/categories_grid.png        frames + pose maps per category/action
Flagged clips of a category not in guard.categories are refused (listed with the known categories).
"""

from __future__ import annotations

import sys
import time

from safealign.atomic import write_json
from safealign.paths import CATEGORIES_GRID, stage_metrics
from safealign.stage import StageContext, run_stage

METRICS = stage_metrics("curate_poses")


def _run(ctx: StageContext) -> dict:
    from safealign.poses.category_grid import categories_grid
    from safealign.poses.curation import curate, write_curated
    from safealign.video.io import save_png

    cfg, categories, seed = ctx.section("curate_poses"), ctx.params.guard.categories, ctx.params.project.seed
    started = time.perf_counter()
    curated = curate(ctx.root, cfg, categories, seed, ctx.tracker.log_inputs)
    for q in curated.refused:
        print(f"curate_poses: refused {q.file}: {q.reason}", file=sys.stderr)
    manifest, counts = write_curated(curated, ctx.root, cfg, categories, ctx.params.guard.resolution, seed)
    save_png(ctx.root / CATEGORIES_GRID, categories_grid(manifest, ctx.root, cfg.grid_frames))
    counts["seconds"] = time.perf_counter() - started
    write_json(ctx.root / METRICS, counts)
    flat = {"clips": counts["clips"], "robustness_clips": counts["robustness"]["clips"],
            "refused": len(curated.refused), **{f"filtered.{k}": v for k, v in curated.filtered.items()}}
    flat.update({f"clips.{s}.{c}": n for s, per in counts["by_split_category"].items() for c, n in per.items()})
    return flat


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("curate_poses", argv, _run)


if __name__ == "__main__":
    sys.exit(main())
