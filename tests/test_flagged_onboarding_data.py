"""Flagging a clip must not disturb the rest: synthetic splits stay put; pose-only clips get ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from safealign.poses.curate import generator_rows, split_by_subject
from safealign.poses.flagged_ground_truth import synthetic_ground_truth


def _rows(source: str, subjects: list[str], category: str = "benign") -> pd.DataFrame:
    return pd.DataFrame({"clip_id": [f"{source}-{s}" for s in subjects], "source": source, "subject": subjects,
                         "category": category, "parent_clip_id": ""})


def test_flagged_group_does_not_reshuffle_synthetic_splits():
    synthetic = _rows("synthetic", [f"synth{i:03d}" for i in range(12)])
    flagged = _rows("flagged", ["flag-a", "flag-b", "flag-c"], "discriminatory")
    alone = split_by_subject(synthetic, 0.2, 0.25, seed=7)
    mixed = split_by_subject(pd.concat([flagged, synthetic], ignore_index=True), 0.2, 0.25, seed=7)
    merged = mixed[mixed.source == "synthetic"].set_index("clip_id")["split"]
    assert alone.set_index("clip_id")["split"].equals(merged.loc[alone["clip_id"]])
    assert set(mixed[mixed.source == "flagged"]["split"]) >= {"train", "test"}
    assert generator_rows(mixed.assign(parent_clip_id="")).source.eq("synthetic").all()


def test_pose_only_flagged_clip_gets_seeded_synthetic_ground_truth():
    pose = np.full((5, 33, 4), np.nan, np.float32)
    pose[..., 0] = np.linspace(0.3, 0.7, 33)
    pose[..., 1] = np.linspace(0.1, 0.9, 33)
    pose[..., 3] = 1.0
    a = synthetic_ground_truth(pose, "clip-1", 32, seed=1)
    b = synthetic_ground_truth(pose, "clip-1", 32, seed=1)
    c = synthetic_ground_truth(pose, "clip-2", 32, seed=1)
    assert a["frames"].shape == (5, 32, 32, 3) and a["reference"].shape == (32, 32, 3)
    assert np.array_equal(a["frames"], b["frames"]) and not np.array_equal(a["frames"], c["frames"])
    assert a["frames"].std() > 0


def test_generator_rows_parquet_bytes_do_not_depend_on_string_storage(tmp_path):
    import pyarrow as pa

    rows = split_by_subject(_rows("synthetic", ["s1", "s2", "s3"]), 0.0, 0.34, seed=1)
    large = rows.astype({c: pd.ArrowDtype(pa.large_string()) for c in ("clip_id", "source", "split")})
    generator_rows(rows).to_parquet(tmp_path / "a.parquet", index=False)
    generator_rows(large).to_parquet(tmp_path / "b.parquet", index=False)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
