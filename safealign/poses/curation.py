"""The body pose curation run (stage curate_poses): merge, filter, de-duplicate, split, augment, robustness, GX.

``curate`` merges the synthetic clips, the extracted real clips and the flagged clips and derives every
split, augmented copy and robustness clip in memory; ``write_curated`` writes the curated folder (pose-only
clip files, manifest, robustness set, counts), the base generator's rows and the GX results, and returns the
manifest and counts. Paths come from ``safealign.paths``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from safealign.atomic import atomic_dir, atomic_path, write_json
from safealign.errors import InputError
from safealign.paths import EXTRACTED_DIR, GENERATOR_SPLIT, GX_DIR, MOTIONS_DIR, POSES_DIR
from safealign.poses import curate as cu
from safealign.poses.curate_params import CuratePosesParams
from safealign.poses.flagged import FlaggedClip, load_flagged
from safealign.poses.quarantine import QuarantineEntry

SYNTHETIC = MOTIONS_DIR / "manifest.parquet"
EXTRACTED = EXTRACTED_DIR / "manifest.parquet"


@dataclass
class Curated:
    """Everything ``curate`` derived: splits, augmented and robustness rows, poses and active frames by clip."""

    split: pd.DataFrame
    augmented: cu.Derived
    robust: cu.Derived
    poses: dict[str, np.ndarray]
    active: dict[str, np.ndarray]
    flagged: list[FlaggedClip]
    refused: list[QuarantineEntry]
    filtered: dict
    counterpart: dict
    merged: int


def curate(root: Path, cfg: CuratePosesParams, categories: list[str], seed: int,
           log_inputs: Callable[[list[Path]], object] | None = None) -> Curated:
    """Merge, filter, de-duplicate, split by subject, augment and build the robustness set (nothing written)."""
    from safealign.poses.augment import augment_training
    from safealign.poses.robustness import build_robustness, robustness_parents

    if not (root / SYNTHETIC).is_file():
        raise InputError(f"{SYNTHETIC}: missing; run `dvc repro synthesize_motions` first")
    sources = [pd.read_parquet(root / SYNTHETIC)]
    if (root / EXTRACTED).is_file():
        sources.append(cu.extracted_rows(pd.read_parquet(root / EXTRACTED)))
    flagged, refused = load_flagged(root / cfg.flagged_dir, categories, tuple(cfg.flagged_canvas))
    merged = pd.concat([s.reindex(columns=cu.MANIFEST_COLUMNS) for s in sources], ignore_index=True)
    if log_inputs is not None:
        log_inputs([root / SYNTHETIC] + ([root / EXTRACTED] if len(sources) > 1 else []))
    poses = cu.load_poses(merged, root)
    active = cu.load_active(merged, root, poses)
    poses.update({c.clip_id: c.pose for c in flagged})
    active.update({c.clip_id: np.ones(len(c.pose), bool) for c in flagged})  # flagged: unsafe throughout
    flagged_paths = {c.clip_id: _clip_path(c.clip_id) for c in flagged}
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
    return Curated(split, augmented, robust, poses, active, flagged, refused, filtered, counterpart, len(merged))


def write_curated(cur: Curated, root: Path, cfg: CuratePosesParams, categories: list[str], resolution: int,
                  seed: int) -> tuple[pd.DataFrame, dict]:
    """Write data/processed/poses (atomically), the generator split and the GX results; (manifest, counts).
    A failed GX suite raises before the curated folder replaces the old one."""
    from safealign.poses.curate_checks import (validate_manifest, validate_robustness, validate_split_counts,
                                               validate_subjects)
    from safealign.poses.flagged_ground_truth import synthetic_ground_truth

    with atomic_dir(root / POSES_DIR) as tmp:
        (tmp / "clips").mkdir()
        for c in cur.flagged:  # pose-only: a seeded synthetic character gives the guard its (degraded) target
            truth = synthetic_ground_truth(c.pose, c.clip_id, resolution, seed)
            np.savez(tmp / "clips" / f"{c.clip_id}.npz", pose=c.pose, active=cur.active[c.clip_id], **truth)
        manifest = pd.concat([cur.split, _save_poses(cur.augmented.rows, cur, tmp)], ignore_index=True)
        manifest["counterpart"] = manifest["clip_id"].map(cur.counterpart).fillna(
            manifest["parent_clip_id"].map(cur.counterpart)).fillna("")
        robustness = _save_poses(cur.robust.rows, cur, tmp)
        coords = (cfg.coordinate_range[0], cfg.coordinate_range[1])
        vis, gx_dir = cfg.visibility_threshold, root / GX_DIR
        gx = {
            "manifest": validate_manifest(manifest, cur.poses, categories, cfg.min_frames, coords, vis, gx_dir),
            "split_counts": validate_split_counts(manifest, categories, cfg.min_clips.model_dump(), gx_dir),
            "subjects": validate_subjects(manifest, gx_dir),
            "robustness": validate_robustness(robustness, manifest, cur.poses, coords, vis, gx_dir),
        }
        counts = cu.summary_counts(manifest, robustness)
        counts.update(filtered=cur.filtered, refused=[{"file": q.file, "reason": q.reason} for q in cur.refused],
                      merged=cur.merged)
        _parquet(manifest, tmp / "manifest.parquet")
        # The base generator trains on synthetic originals only, listed in their own file so that a
        # flagged clip (new rows elsewhere) leaves it byte-identical and pretrain_generator stays cached.
        _parquet(cu.generator_rows(manifest), root / GENERATOR_SPLIT)
        _parquet(robustness, tmp / "robustness.parquet")
        write_json(tmp / "counts.json", counts)
    counts["gx"] = {k: v["success"] for k, v in gx.items()}
    return manifest, counts


def _clip_path(clip_id: str) -> str:
    return (POSES_DIR / "clips" / f"{clip_id}.npz").as_posix()


def _parquet(df: pd.DataFrame, path: Path) -> None:
    from safealign.poses.manifest import canonical

    with atomic_path(path) as tmp:
        canonical(df).to_parquet(tmp, index=False)


def _save_poses(df: pd.DataFrame, cur: Curated, tmp_dir: Path) -> pd.DataFrame:
    """Write pose-only clip files (uncompressed: small, and thousands of them) with their active-frame labels,
    and fill in ``path``."""
    df = df.copy()
    df["path"] = [_clip_path(cid) for cid in df["clip_id"]]
    for cid in df["clip_id"]:
        np.savez(tmp_dir / "clips" / f"{cid}.npz", pose=cur.poses[cid], active=cur.active[cid])
    return df
