"""Great Expectations suites on the curated pose manifests (run by the ``curate_poses`` stage).

Suites: ``poses_manifest`` (ids, label/category/split/source sets, coordinate and visibility ranges, lengths,
derived copies in their parent's split), ``poses_split_counts`` (minimum clips per category and split),
``poses_subjects`` (no subject in two splits), ``poses_robustness`` (test-only parents, families, ranges).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from safealign.poses.curate import Poses, split_counts
from safealign.poses.manifest import LABELS, SPLITS
from safealign.layouts import PERTURBATION_GRID
from safealign.validation.gx import Expectation, expect, validate_frame


def pose_stats(clip_ids: pd.Series, poses: Poses, threshold: float) -> pd.DataFrame:
    """Per-clip coordinate extremes of the visible landmarks (visibility >= ``threshold``) and visibility range.

    MediaPipe extrapolates off-frame landmarks far outside [0, 1] with low visibility; those are not checked.
    """
    rows = []
    for cid in clip_ids:
        p = poses[cid]
        finite = np.isfinite(p[..., 0]) & (np.nan_to_num(p[..., 3]) >= threshold)
        xs, ys, vs = p[..., 0][finite], p[..., 1][finite], p[..., 3]
        rows.append({"x_min": xs.min() if xs.size else np.nan, "x_max": xs.max() if xs.size else np.nan,
                     "y_min": ys.min() if ys.size else np.nan, "y_max": ys.max() if ys.size else np.nan,
                     "vis_min": float(np.nanmin(vs)), "vis_max": float(np.nanmax(vs))})
    return pd.DataFrame(rows, index=clip_ids.index)


def _with_parent_split(df: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    split_of = dict(zip(reference["clip_id"], reference["split"]))
    out = df.copy()
    out["parent_split"] = [split_of.get(p, "<missing parent>") if p else s
                           for p, s in zip(df["parent_clip_id"], df["split"])]
    return out


def _range_checks(lo: float, hi: float) -> list[Expectation]:
    checks = [expect("ExpectColumnValuesToBeBetween", column=c, min_value=lo, max_value=hi)
              for c in ("x_min", "x_max", "y_min", "y_max")]
    checks += [expect("ExpectColumnValuesToBeBetween", column=c, min_value=0.0, max_value=1.0)
               for c in ("vis_min", "vis_max", "visible_fraction")]
    return checks


def validate_manifest(manifest: pd.DataFrame, poses: Poses, categories: list[str], min_frames: int,
                      coord_range: tuple[float, float], threshold: float, result_dir: str | Path) -> dict:
    """Suite ``poses_manifest``; raises DataValidationError naming each failed expectation."""
    frame = pd.concat([_with_parent_split(manifest, manifest), pose_stats(manifest["clip_id"], poses, threshold)],
                      axis=1)
    suite = [
        expect("ExpectColumnValuesToBeUnique", column="clip_id"),
        expect("ExpectColumnValuesToNotBeNull", column="subject"),
        expect("ExpectColumnValuesToBeInSet", column="label", value_set=list(LABELS)),
        expect("ExpectColumnValuesToBeInSet", column="category", value_set=["benign", "near_miss", *categories]),
        expect("ExpectColumnValuesToBeInSet", column="split", value_set=list(SPLITS)),
        expect("ExpectColumnValuesToBeInSet", column="source",
               value_set=["synthetic", "extracted", "flagged", "augmented"]),
        expect("ExpectColumnValuesToBeBetween", column="n_frames", min_value=min_frames),
        expect("ExpectColumnPairValuesToBeEqual", column_A="split", column_B="parent_split"),
        *_range_checks(*coord_range),
    ]
    return validate_frame(frame, "poses_manifest", suite, result_dir=result_dir)


def validate_split_counts(manifest: pd.DataFrame, categories: list[str], minimum: dict[str, int],
                          result_dir: str | Path) -> dict:
    """Suite ``poses_split_counts``: every category has at least ``minimum[split]`` original clips per split."""
    counts = split_counts(manifest, categories)
    counts["min_required"] = counts["split"].map(minimum)
    counts["category_split"] = counts["category"] + "/" + counts["split"]
    suite = [expect("ExpectColumnPairValuesAToBeGreaterThanB", column_A="n", column_B="min_required",
                    or_equal=True)]
    return validate_frame(counts, "poses_split_counts", suite, result_dir=result_dir)


def validate_subjects(manifest: pd.DataFrame, result_dir: str | Path) -> dict:
    """Suite ``poses_subjects``: each subject appears in exactly one split."""
    per_subject = manifest.groupby("subject")["split"].nunique().rename("n_splits").reset_index()
    suite = [expect("ExpectColumnValuesToBeBetween", column="n_splits", min_value=1, max_value=1)]
    return validate_frame(per_subject, "poses_subjects", suite, result_dir=result_dir)


def validate_robustness(robustness: pd.DataFrame, manifest: pd.DataFrame, poses: Poses,
                        coord_range: tuple[float, float], threshold: float, result_dir: str | Path) -> dict:
    """Suite ``poses_robustness``: only test parents, known families, unique ids, coordinate ranges."""
    stats = pose_stats(robustness["clip_id"], poses, threshold)
    frame = pd.concat([_with_parent_split(robustness, manifest), stats], axis=1)
    families = sorted({f for f, _ in PERTURBATION_GRID} | {"combo"})
    suite = [
        expect("ExpectColumnValuesToBeUnique", column="clip_id"),
        expect("ExpectColumnValuesToBeInSet", column="split", value_set=["test"]),
        expect("ExpectColumnValuesToBeInSet", column="parent_split", value_set=["test"]),
        expect("ExpectColumnValuesToBeInSet", column="source", value_set=["robustness"]),
        expect("ExpectColumnValuesToBeInSet", column="family", value_set=families),
        *_range_checks(coord_range[0], coord_range[1]),
    ]
    return validate_frame(frame, "poses_robustness", suite, result_dir=result_dir)
