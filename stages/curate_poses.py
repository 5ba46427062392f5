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
from pathlib import Path

import numpy as np
import pandas as pd

from safealign.atomic import atomic_dir, atomic_path, write_json
from safealign.errors import InputError
from safealign.stage import StageContext, run_stage

SYNTHETIC = Path("data/interim/motions/manifest.parquet")
EXTRACTED = Path("data/interim/extracted/manifest.parquet")
GENERATOR_SPLIT = Path("data/processed/generator_split.parquet")
OUT_DIR = Path("data/processed/poses")
METRICS = Path("metrics/curate_poses.json")
GX_DIR = Path("metrics/gx")
FIGURE = Path("reports/figures/categories_grid.png")


def _parquet(df: pd.DataFrame, path: Path) -> None:
    from safealign.poses.manifest import canonical

    with atomic_path(path) as tmp:
        canonical(df).to_parquet(tmp, index=False)


def _save_poses(df: pd.DataFrame, poses: dict, active: dict, tmp_dir: Path) -> pd.DataFrame:
    """Write pose-only clip files (uncompressed: small, and thousands of them) with their active-frame labels,
    and fill in ``path``."""
    df = df.copy()
    df["path"] = [(OUT_DIR / "clips" / f"{cid}.npz").as_posix() for cid in df["clip_id"]]
    for cid in df["clip_id"]:
        np.savez(tmp_dir / "clips" / f"{cid}.npz", pose=poses[cid], active=active[cid])
    return df


def _run(ctx: StageContext) -> dict:
    from safealign.poses import curate as cu
    from safealign.poses.augment import augment_training
    from safealign.poses.category_grid import categories_grid
    from safealign.poses.curate_checks import (validate_manifest, validate_robustness, validate_split_counts,
                                               validate_subjects)
    from safealign.poses.flagged import load_flagged
    from safealign.poses.flagged_ground_truth import synthetic_ground_truth
    from safealign.poses.robustness import build_robustness, robustness_parents
    from safealign.video.io import save_png

    cfg, categories, seed = ctx.section("curate_poses"), ctx.params.guard.categories, ctx.params.project.seed
    root, started = ctx.root, time.perf_counter()
    if not (root / SYNTHETIC).is_file():
        raise InputError(f"{SYNTHETIC}: missing; run `dvc repro synthesize_motions` first")
    sources = [pd.read_parquet(root / SYNTHETIC)]
    if (root / EXTRACTED).is_file():
        sources.append(cu.extracted_rows(pd.read_parquet(root / EXTRACTED)))
    flagged, refused = load_flagged(root / cfg.flagged_dir, categories, tuple(cfg.flagged_canvas))
    for q in refused:
        print(f"curate_poses: refused {q.file}: {q.reason}", file=sys.stderr)
    merged = pd.concat([s.reindex(columns=cu.MANIFEST_COLUMNS) for s in sources], ignore_index=True)
    ctx.tracker.log_inputs([root / SYNTHETIC] + ([root / EXTRACTED] if len(sources) > 1 else []))
    poses = cu.load_poses(merged, root)
    active = cu.load_active(merged, root, poses)
    poses.update({c.clip_id: c.pose for c in flagged})
    active.update({c.clip_id: np.ones(len(c.pose), bool) for c in flagged})  # flagged: unsafe throughout
    flagged_paths = {c.clip_id: (OUT_DIR / "clips" / f"{c.clip_id}.npz").as_posix() for c in flagged}
    merged = pd.concat([merged, cu.flagged_rows(flagged, flagged_paths, cfg.visibility_threshold)],
                       ignore_index=True)
    counterpart = dict(zip(sources[0]["clip_id"], sources[0].get("counterpart", pd.Series(dtype=str))))

    kept, filtered = cu.filter_clips(merged, poses, cfg.visibility_threshold, cfg.min_visible_fraction,
                                     cfg.min_frames)
    kept, filtered["duplicates"] = cu.deduplicate(kept, poses, cfg.dedup_decimals)
    split = cu.split_by_subject(kept, cfg.val_fraction, cfg.test_fraction, seed)
    rng = np.random.default_rng([seed, 7])
    augmented = augment_training(split, poses, cfg.augment, rng, cfg.visibility_threshold)
    robust = build_robustness(robustness_parents(split, cfg.robustness_benign_clips, seed), poses,
                              cfg.robustness_combos, rng, cfg.visibility_threshold)
    poses.update(augmented.poses)
    poses.update(robust.poses)
    active.update(cu.derived_active(augmented, active))
    active.update(cu.derived_active(robust, active))

    out_dir = root / OUT_DIR
    with atomic_dir(out_dir) as tmp:
        (tmp / "clips").mkdir()
        for c in flagged:  # pose-only: a seeded synthetic character gives the guard its (degraded) target
            truth = synthetic_ground_truth(c.pose, c.clip_id, ctx.params.guard.resolution, seed)
            np.savez(tmp / "clips" / f"{c.clip_id}.npz", pose=c.pose, active=active[c.clip_id], **truth)
        manifest = pd.concat([split, _save_poses(augmented.rows, poses, active, tmp)], ignore_index=True)
        manifest["counterpart"] = manifest["clip_id"].map(counterpart).fillna(
            manifest["parent_clip_id"].map(counterpart)).fillna("")
        robustness = _save_poses(robust.rows, poses, active, tmp)
        coords = (cfg.coordinate_range[0], cfg.coordinate_range[1])
        vis, gx_dir = cfg.visibility_threshold, root / GX_DIR
        gx = {
            "manifest": validate_manifest(manifest, poses, categories, cfg.min_frames, coords, vis, gx_dir),
            "split_counts": validate_split_counts(manifest, categories, cfg.min_clips.model_dump(), gx_dir),
            "subjects": validate_subjects(manifest, gx_dir),
            "robustness": validate_robustness(robustness, manifest, poses, coords, vis, gx_dir),
        }
        counts = cu.summary_counts(manifest, robustness)
        counts.update(filtered=filtered, refused=[{"file": q.file, "reason": q.reason} for q in refused],
                      merged=int(len(merged)))
        _parquet(manifest, tmp / "manifest.parquet")
        # The base generator trains on synthetic originals only, listed in their own file so that a
        # flagged clip (new rows elsewhere) leaves it byte-identical and pretrain_generator stays cached.
        _parquet(cu.generator_rows(manifest), root / GENERATOR_SPLIT)
        _parquet(robustness, tmp / "robustness.parquet")
        write_json(tmp / "counts.json", counts)
    save_png(root / FIGURE, categories_grid(manifest, root, cfg.grid_frames))
    counts.update(seconds=time.perf_counter() - started, gx={k: v["success"] for k, v in gx.items()})
    write_json(root / METRICS, counts)
    flat = {"clips": counts["clips"], "robustness_clips": counts["robustness"]["clips"],
            "refused": len(refused), **{f"filtered.{k}": v for k, v in filtered.items()}}
    flat.update({f"clips.{s}.{c}": n for s, per in counts["by_split_category"].items() for c, n in per.items()})
    return flat


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("curate_poses", argv, _run)


if __name__ == "__main__":
    sys.exit(main())
