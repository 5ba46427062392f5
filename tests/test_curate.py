"""Curation: subject splits, augmentation only in train, robustness only from test, flagged clips, GX, stage."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from safealign.errors import DataValidationError, InputError
from safealign.poses.augment import augment_training
from safealign.poses.curate import deduplicate, filter_clips, split_by_subject
from safealign.poses.flagged import check_category, load_flagged
from safealign.poses.manifest import MANIFEST_COLUMNS
from safealign.poses.openpose_json import write_openpose_json
from safealign.layouts import PERTURBATION_GRID
from safealign.poses.robustness import build_robustness, robustness_parents

KNOWN = ["discriminatory", "sexual", "celebrity"]


def _pose(seed: int, t: int = 10) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = np.empty((t, 33, 4), np.float32)
    p[..., :2] = rng.uniform(0.2, 0.8, (t, 33, 2))
    p[..., 2] = 0.0
    p[..., 3] = 0.9
    return p


def _dataset(n_subjects: int = 12) -> tuple[pd.DataFrame, dict]:
    rows, poses = [], {}
    actions = [("walk", "benign", "benign"), ("squat", "near_miss", "near_miss"),
               ("kneel_one_knee", "discriminatory", "unsafe"), ("hip_thrust", "sexual", "unsafe")]
    for s in range(n_subjects):
        for a, (action, category, label) in enumerate(actions):
            cid = f"{action}__s{s}"
            rows.append(dict(clip_id=cid, source="synthetic", subject=f"s{s}", category=category, label=label,
                             action=action, path="", parent_clip_id="", augmentation="", split="", fps=8.0,
                             width=64, height=64, n_frames=10, visible_fraction=0.9))
            poses[cid] = _pose(100 * s + a)
    for r in range(3):
        cid = f"real{r}"
        rows.append(dict(rows[0], clip_id=cid, source="extracted", subject=f"real:{r}", action=f"real:{r}"))
        poses[cid] = _pose(5000 + r)
    return pd.DataFrame(rows, columns=MANIFEST_COLUMNS), poses


def test_split_by_subject_is_disjoint_and_keeps_real_clips_for_test():
    df, _ = _dataset()
    out = split_by_subject(df, val_fraction=0.2, test_fraction=0.25, seed=0)
    assert set(out["split"]) == {"train", "val", "test"}
    assert (out.groupby("subject")["split"].nunique() == 1).all()
    assert (out.loc[out["source"] == "extracted", "split"] == "test").all()
    synth_subjects = out[out["source"] == "synthetic"].groupby("split")["subject"].nunique().to_dict()
    assert synth_subjects == {"test": 3, "val": 2, "train": 7}
    for split in ("train", "val", "test"):          # every subject did every action: all categories everywhere
        assert set(out.loc[out["split"] == split, "category"]) >= {"benign", "near_miss", "discriminatory"}
    assert out.equals(split_by_subject(df, 0.2, 0.25, seed=0))      # deterministic for a seed


def test_a_new_flagged_category_gets_train_and_test_subjects():
    df, _ = _dataset(4)
    extra = [dict(df.iloc[0], clip_id=f"f{i}", source="flagged", subject=f"flagged:new/{i}", category="violent",
                  label="unsafe") for i in range(3)]
    out = split_by_subject(pd.concat([df, pd.DataFrame(extra)], ignore_index=True), 0.2, 0.25, seed=1)
    assert set(out.loc[out["category"] == "violent", "split"]) >= {"train", "test"}


def test_augmentation_copies_only_unsafe_training_clips():
    from safealign.config import load_params
    from tests.conftest import REPO

    cfg = load_params(REPO / "params.yaml").curate_poses.augment
    df, poses = _dataset()
    split = split_by_subject(df, 0.2, 0.25, seed=0)
    aug = augment_training(split, poses, cfg, np.random.default_rng(0), threshold=0.5)
    parents = split.set_index("clip_id").loc[aug.rows["parent_clip_id"]]
    assert (parents["split"] == "train").all() and (parents["label"] == "unsafe").all()
    n_unsafe_train = int(((split["split"] == "train") & (split["label"] == "unsafe")).sum())
    assert len(aug.rows) == cfg.copies * n_unsafe_train
    assert (aug.rows["split"] == "train").all() and (aug.rows["source"] == "augmented").all()
    assert aug.rows["clip_id"].is_unique
    changed = [not np.array_equal(aug.poses[c], poses[p], equal_nan=True)
               for c, p in zip(aug.rows["clip_id"], aug.rows["parent_clip_id"])]
    assert np.mean(changed) > 0.9
    assert aug.rows["augmentation"].str.contains(":").mean() > 0.9


def test_robustness_set_is_built_only_from_test_clips():
    df, poses = _dataset()
    split = split_by_subject(df, 0.2, 0.25, seed=0)
    parents = robustness_parents(split, benign_clips=2, seed=0)
    assert (parents["split"] == "test").all()
    assert (parents["label"] == "benign").sum() == 2 and (parents["label"] != "benign").sum() == 3 * 3
    rob = build_robustness(parents, poses, combos=2, rng=np.random.default_rng(0), threshold=0.5)
    assert len(rob.rows) == len(parents) * (len(PERTURBATION_GRID) + 2)
    assert set(rob.rows["parent_clip_id"]) == set(parents["clip_id"]) and (rob.rows["split"] == "test").all()
    assert rob.rows["clip_id"].is_unique and (rob.rows["family"] == "combo").sum() == 2 * len(parents)
    hands = rob.rows[(rob.rows["family"] == "part_dropout") & (rob.rows["level"] == "hands")]
    assert hands["level_value"].isna().all() and len(hands) == len(parents)
    with pytest.raises(ValueError, match="test clips"):
        build_robustness(split[split["split"] == "train"], poses, 0, np.random.default_rng(0), 0.5)


def test_filter_and_deduplicate_report_counts():
    df, poses = _dataset(2)
    poses["walk__s0"] = poses["walk__s0"][:3]                        # too short
    poses["squat__s0"][..., 3] = 0.1                                  # invisible
    poses["squat__s1"] = poses["kneel_one_knee__s1"].copy()           # duplicate of another clip
    kept, counts = filter_clips(df, poses, threshold=0.5, min_visible=0.5, min_frames=8)
    assert counts == {"too_short": 1, "low_visibility": 1}
    kept, dups = deduplicate(kept, poses, decimals=3)
    assert dups == 1 and len(kept) == len(df) - 3


def test_unknown_flagged_category_is_refused_with_the_known_list(tmp_path):
    with pytest.raises(InputError, match="unknown flagged category 'violent' .known: discriminatory, sexual, "
                                         "celebrity."):
        check_category("violent", KNOWN)
    (tmp_path / "violent").mkdir()
    np.savez(tmp_path / "violent" / "a.npz", pose=_pose(1))
    good = tmp_path / "discriminatory"
    good.mkdir()
    np.savez(good / "clip1.npz", pose=_pose(2), fps=np.float32(25.0))
    (good / "broken.npz").write_bytes(b"not a zip")
    write_openpose_json(good / "dance_json", _pose(3), 640, 480)
    (good / "dance_json" / "meta.yaml").write_text("width: 640\nheight: 480\nfps: 15\n")
    entry = good / "20260101T000000Z-x-abcd1234"                       # a `safealign flag-pose` entry
    entry.mkdir()
    np.savez(entry / "x.npz", pose=_pose(4))
    (entry / "provenance.json").write_text("{}")
    clips, refused = load_flagged(tmp_path, KNOWN)
    assert sorted(c.clip_id for c in clips) == ["flagged_discriminatory_20260101T000000Z-x-abcd1234",
                                                "flagged_discriminatory_clip1", "flagged_discriminatory_dance_json"]
    by_file = {r.file.split("/")[-1]: r.reason for r in refused}
    assert "known: discriminatory, sexual, celebrity" in by_file["a.npz"]
    assert "not a readable .npz" in by_file["broken.npz"]
    json_clip = next(c for c in clips if c.clip_id.endswith("dance_json"))
    assert json_clip.fps == 15 and json_clip.pose.shape == (10, 33, 4)
    np.testing.assert_allclose(json_clip.pose[:, 11, :2], _pose(3)[:, 11, :2], atol=1e-3)   # pixel -> normalised


@pytest.mark.slow
def test_gx_failure_names_the_expectation(tmp_path):
    from safealign.poses.curate_checks import validate_split_counts, validate_subjects

    df, _ = _dataset(4)
    df["split"] = "train"
    df.loc[df.index[:2], "split"] = "test"                            # subject s0 now in train and test
    with pytest.raises(DataValidationError, match=r"poses_subjects.*expect_column_values_to_be_between\(n_splits\): 1 of"):
        validate_subjects(df, tmp_path)
    assert json.loads((tmp_path / "poses_subjects.json").read_text())["success"] is False
    with pytest.raises(DataValidationError, match="column_pair_values_a_to_be_greater_than_b"):
        validate_split_counts(df, KNOWN, {"train": 1, "val": 1, "test": 1}, tmp_path)


@pytest.mark.slow
def test_curate_poses_stage_outputs(tiny_pose_data):
    out = tiny_pose_data / "data/processed/poses"
    manifest = pd.read_parquet(out / "manifest.parquet")
    robustness = pd.read_parquet(out / "robustness.parquet")
    assert (manifest.groupby("subject")["split"].nunique() == 1).all()
    aug = manifest[manifest["source"] == "augmented"]
    originals = manifest.set_index("clip_id")
    assert len(aug) and (originals.loc[aug["parent_clip_id"], "label"] == "unsafe").all()
    assert (aug["split"] == "train").all()
    assert (originals.loc[robustness["parent_clip_id"], "split"] == "test").all()
    assert set(robustness["label"]) == {"benign", "near_miss", "unsafe"}
    for rel in list(manifest["path"].sample(5, random_state=0)) + list(robustness["path"].sample(5, random_state=0)):
        with np.load(tiny_pose_data / rel) as clip:
            assert clip["pose"].shape[1:] == (33, 4)
            assert clip["active"].dtype == bool and clip["active"].shape == (len(clip["pose"]),)
    synthetic = manifest[manifest["source"] == "synthetic"]
    assert synthetic["yaw"].notna().all() and synthetic["yaw"].abs().max() <= 35.0
    assert manifest["yaw"].dtype == np.float64 and manifest["width"].dtype == np.int64
    metrics = json.loads((tiny_pose_data / "metrics/curate_poses.json").read_text())
    assert all(metrics["gx"].values()) and metrics["filtered"]["too_short"] == 0
    assert metrics["by_split_label"]["test"]["unsafe"] == int(((manifest["split"] == "test")
                                                               & (manifest["label"] == "unsafe")).sum())
    for suite in ("poses_manifest", "poses_split_counts", "poses_subjects", "poses_robustness"):
        assert json.loads((tiny_pose_data / f"metrics/gx/{suite}.json").read_text())["success"]
    assert (tiny_pose_data / "reports/figures/categories_grid.png").stat().st_size > 1000


@pytest.mark.slow
def test_curate_poses_stage_refuses_unknown_flagged_category(make_project, capsys):
    from stages import curate_poses, synthesize_motions

    root = make_project({"tracking.enabled": False, "guard.resolution": 32, "synthesize_motions.subjects": 3,
                         "synthesize_motions.frames": 8, "curate_poses.min_clips": {"train": 1, "val": 0, "test": 1},
                         "curate_poses.augment.copies": 1, "curate_poses.robustness_combos": 0})
    assert synthesize_motions.main([]) == 0
    for category, n in (("violent", 1), ("celebrity", 3)):
        (root / "data/flagged" / category).mkdir(parents=True)
        for i in range(n):
            np.savez(root / "data/flagged" / category / f"c{i}.npz", pose=_pose(10 + i))
    assert curate_poses.main([]) == 0
    assert "unknown flagged category 'violent' (known: discriminatory, sexual, celebrity)" in capsys.readouterr().err
    metrics = json.loads((root / "metrics/curate_poses.json").read_text())
    assert len(metrics["refused"]) == 1 and "violent" in metrics["refused"][0]["file"]
    manifest = pd.read_parquet(root / "data/processed/poses/manifest.parquet")
    flagged = manifest[manifest["source"] == "flagged"]
    assert len(flagged) == 3 and set(flagged["category"]) == {"celebrity"} and "train" in set(flagged["split"])
