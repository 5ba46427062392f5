"""Stage curate_faces: filter, split by identity, augment, robustness set, GX for the face domain (issue 9).

Command:  python -m stages.curate_faces [--params params.yaml]
Inputs:   data/interim/faces/{manifest.parquet, clips/} (synthesize_faces); params project.seed,
          face.categories, face.curate.
Outputs:  data/processed/faces/clips/<clip_id>.npz   pose-only derived clips (frames via parent_clip_id)
          data/processed/faces/manifest.parquet      train/val/test originals + augmented unsafe train copies
                                                     (expression strength, landmark families); layout face140
          data/processed/faces/robustness.parquet    test clips under the face grid (+ family, level)
          data/processed/faces/counts.json, data/processed/face_generator_split.parquet (base generator rows),
          metrics/face/curate_faces.json, metrics/gx/face/*.json (a failed suite stops the stage).
Splits are per subject within each role stratum (generic, impersonator:<name>, lookalike:<name>), so no
identity is in two splits and every category keeps train and test subjects; the robustness set is built
from test clips only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from safealign.atomic import atomic_dir, atomic_path, write_json
from safealign.errors import InputError
from safealign.paths import FACE_GENERATOR_SPLIT as GENERATOR_SPLIT
from safealign.paths import FACE_GX_DIR as GX_DIR
from safealign.paths import FACE_METRICS, FACES_DIR, stage_metrics
from safealign.paths import FACE_POSES_DIR as OUT_DIR
from safealign.stage import StageContext, run_stage

SYNTHETIC = FACES_DIR / "manifest.parquet"
METRICS = stage_metrics("curate_faces", FACE_METRICS)


def _parquet(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def _run(ctx: StageContext) -> dict:
    from safealign.faces.curate import expression_copies
    from safealign.layouts import FACE
    from safealign.poses import curate as cu
    from safealign.poses.augment import augment_training
    from safealign.poses.curate_checks import validate_split_counts, validate_subjects
    from safealign.poses.robustness import build_robustness, robustness_parents

    cfg, cats, seed = ctx.params.face.curate, ctx.params.face.categories, ctx.params.project.seed
    root = ctx.root
    if not (root / SYNTHETIC).is_file():
        raise InputError(f"{SYNTHETIC}: missing; run `dvc repro synthesize_faces` first")
    merged = pd.read_parquet(root / SYNTHETIC)
    ctx.tracker.log_inputs([root / SYNTHETIC])
    poses = cu.load_poses(merged, root)
    neutrals = {}
    for cid, rel in zip(merged["clip_id"], merged["path"]):
        with np.load(root / rel, allow_pickle=False) as clip:
            if "neutral" in clip.files:
                neutrals[cid] = np.asarray(clip["neutral"], np.float32)
    kept, filtered = cu.filter_clips(merged, poses, cfg.visibility_threshold, cfg.min_visible_fraction,
                                     cfg.min_frames)
    kept, filtered["duplicates"] = cu.deduplicate(kept, poses, 4)
    split = cu.split_by_subject(kept, cfg.val_fraction, cfg.test_fraction, seed, group_by="stratum")
    rng = np.random.default_rng([seed, 9])
    expr = expression_copies(split, poses, neutrals, cfg.expression_copies, cfg.expression_delta, rng,
                             cfg.visibility_threshold)
    augmented = augment_training(split, poses, cfg.augment, rng, cfg.visibility_threshold, layout=FACE)
    robust = build_robustness(robustness_parents(split, cfg.robustness_benign_clips, seed), poses,
                              cfg.robustness_combos, rng, cfg.visibility_threshold, layout=FACE)
    for d in (expr, augmented, robust):
        poses.update(d.poses)

    def save(df: pd.DataFrame, tmp: Path) -> pd.DataFrame:
        df = df.copy()
        df["path"] = [(OUT_DIR / "clips" / f"{c}.npz").as_posix() for c in df["clip_id"]]
        for c in df["clip_id"]:
            np.savez(tmp / "clips" / f"{c}.npz", pose=poses[c])
        return df

    with atomic_dir(root / OUT_DIR) as tmp:
        (tmp / "clips").mkdir()
        manifest = pd.concat([split, save(expr.rows, tmp), save(augmented.rows, tmp)], ignore_index=True)
        robustness = save(robust.rows, tmp)
        minimum = cfg.min_clips.model_dump()
        gx = {"split_counts": validate_split_counts(manifest, cats, minimum, root / GX_DIR),
              "subjects": validate_subjects(manifest, root / GX_DIR)}
        counts = cu.summary_counts(manifest, robustness)
        counts.update(filtered=filtered, merged=int(len(merged)))
        _parquet(manifest, tmp / "manifest.parquet")
        _parquet(robustness, tmp / "robustness.parquet")
        write_json(tmp / "counts.json", counts)
    _parquet(cu.generator_rows(manifest), root / GENERATOR_SPLIT)
    counts["gx"] = {k: v["success"] for k, v in gx.items()}
    write_json(root / METRICS, counts)
    flat = {"clips": counts["clips"], "robustness_clips": counts["robustness"]["clips"]}
    per_split = counts["by_split_category"].items()
    flat.update({f"clips.{s}.{c}": n for s, per in per_split for c, n in per.items()})
    return flat


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("curate_faces", argv, _run, section="face")


if __name__ == "__main__":
    sys.exit(main())
