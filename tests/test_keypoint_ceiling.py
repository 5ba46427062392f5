"""The keypoint learnability ceiling on a tiny synthetic manifest; its features, tiers and intervals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safealign.evaluation.intervals import wilson_interval
from safealign.evaluation.keypoint_ceiling import TABLE_COLUMNS, keypoint_ceiling, view_tier
from safealign.evaluation.keypoint_features import clip_features, feature_names

BENIGN = ("walk", "wave", "clap")
NEAR_MISS = ("squat", "raise_hand_ask")
PLANTED = "kneel_one_knee"          # category "planted": an action unlike every benign one
SPLITS = ("train",) * 14 + ("val",) * 8 + ("test",) * 8     # by subject


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0), (81, 263, 0.2553, 0.3662),
    (1, 20, 0.0089, 0.2361),
])
def test_wilson_interval_known_values(k: int, n: int, low: float, high: float) -> None:
    assert wilson_interval(k, n) == pytest.approx((low, high), abs=1e-4)


def test_wilson_interval_edges() -> None:
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    assert wilson_interval(3, 10, z=2.576)[0] < wilson_interval(3, 10)[0]          # 99 % is wider
    with pytest.raises(ValueError, match="k=11, n=10"):
        wilson_interval(11, 10)


def test_view_tiers() -> None:
    assert [view_tier(y) for y in (0.0, 10.0, -10.0, 10.5, -35.0, float("nan"))] == \
        ["frontal", "frontal", "frontal", "non_frontal", "non_frontal", "non_frontal"]
    assert view_tier(15.0, frontal_deg=20.0) == "frontal"


def _clip(action: str, subject: int, rep: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(pose [16, 33, 4], active [16], camera yaw) of ``action`` by synthetic subject ``subject``."""
    from safealign.poses.motions.actions import load_actions
    from safealign.poses.motions.camera import random_camera
    from safealign.poses.motions.clip import Timing, synthesize_clip
    from safealign.poses.motions.dataset import make_subjects

    body = make_subjects(subject + 1, 7, 0.06)[subject].body
    names = sorted(load_actions())
    rng = np.random.default_rng([7, names.index(action), subject, rep])
    camera = random_camera(rng, 30.0, (0.6, 0.9))
    pose, active = synthesize_clip(load_actions()[action], body, camera, Timing(16, 8, 1.0, 0.0), rng, 64, 64)
    return pose, active, camera.yaw


@pytest.fixture(scope="module")
def tiny_manifest(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """Clips on disk and their manifest: benign, near-miss, unsafe 'planted' (a kneel) and unsafe 'random'
    (benign actions labelled unsafe: nothing to learn). Train unsafe clips have one augmented copy each."""
    root = tmp_path_factory.mktemp("ceiling")
    (root / "clips").mkdir()
    plan = [(a, "benign", "benign", a) for a in BENIGN]
    plan += [(a, "near_miss", "near_miss", a) for a in NEAR_MISS]
    plan += [(PLANTED, "unsafe", "planted", PLANTED)]
    plan += [(a, "unsafe", "random", f"random_{a}") for a in BENIGN]
    rows = []
    for subject, split in enumerate(SPLITS):
        for action, label, category, name in plan:
            rep = 1 if category == "random" else 0          # not the benign clip itself, another take
            pose, active, yaw = _clip(action, subject, rep)
            clip_id = f"{name}__s{subject}"
            np.savez(root / "clips" / f"{clip_id}.npz", pose=pose, active=active)
            row = {"clip_id": clip_id, "subject": f"s{subject}", "category": category, "label": label,
                   "action": name, "path": f"clips/{clip_id}.npz", "parent_clip_id": "", "split": split,
                   "yaw": yaw}
            rows.append(row)
            if split == "train" and label == "unsafe":
                shifted = pose.copy()
                shifted[..., :2] += np.random.default_rng(subject).normal(0.0, 0.003, shifted[..., :2].shape)
                np.savez(root / "clips" / f"{clip_id}__aug0.npz", pose=shifted, active=active)
                rows.append({**row, "clip_id": f"{clip_id}__aug0", "path": f"clips/{clip_id}__aug0.npz",
                             "parent_clip_id": clip_id})
    manifest = pd.DataFrame(rows)
    manifest.loc[manifest.index[-1], "yaw"] = float("nan")          # a clip of unknown view (real clips)
    manifest.to_parquet(root / "manifest.parquet")
    return root, manifest


def _caught(table: pd.DataFrame, category: str, tier: str = "all") -> pd.Series:
    row = table[(table["category"] == category) & (table["label"] == "unsafe") & (table["action"] == "all")
                & (table["tier"] == tier)]
    return row.iloc[0]


def test_ceiling_finds_a_planted_action_and_not_random_labels(
        tiny_manifest: tuple[Path, pd.DataFrame]) -> None:
    root, manifest = tiny_manifest
    summary, table = keypoint_ceiling(manifest, root, flag_rate=0.05, seed=0)
    assert list(table.columns) == TABLE_COLUMNS
    assert [c["category"] for c in summary["categories"]] == ["planted", "random"]
    planted, random = _caught(table, "planted"), _caught(table, "random")
    assert planted["clips"] == 8 and planted["rate"] >= 0.875
    assert random["clips"] == 24 and random["rate"] <= 0.25          # about the 5 % flag rate, not more
    for res in summary["categories"]:
        assert res["val_flagged"] <= 0.05 + 1e-9                    # the threshold is set on these clips
        assert res["train_clips"]["unsafe"] == (14 if res["category"] == "planted" else 42) * 2
        assert res["train_clips"]["benign_near_miss"] == 14 * 5
    json.dumps(summary)                                              # plain JSON-able
    nm = table[(table["category"] == "planted") & (table["label"] == "near_miss") & (table["tier"] == "all")]
    assert set(nm["action"]) == {"all", *NEAR_MISS} and (nm["clips"] == [16, 8, 8]).all()


def test_tiers_split_the_test_clips_by_camera_yaw(tiny_manifest: tuple[Path, pd.DataFrame]) -> None:
    root, manifest = tiny_manifest
    summary, table = keypoint_ceiling(manifest, root, categories=["random"], seed=1)
    test = manifest[(manifest["split"] == "test") & (manifest["category"] == "random")]
    frontal = test["yaw"].abs() <= 10                                # NaN yaw compares False: not frontal
    assert test["yaw"].isna().sum() == 1
    for action, clips in [("all", test), *test.groupby("action")]:
        rows = table[(table["label"] == "unsafe") & (table["action"] == action)].set_index("tier")
        assert rows.loc["frontal", "clips"] == int(frontal[clips.index].sum())
        assert rows.loc["non_frontal", "clips"] == int((~frontal[clips.index]).sum())
        assert rows.loc["all", "clips"] == len(clips)
        by_view = rows.loc["frontal", "flagged"] + rows.loc["non_frontal", "flagged"]
        assert rows.loc["all", "flagged"] == by_view


def test_features_are_clip_normalised_and_read_active_frames_only() -> None:
    pose, active, _ = _clip(PLANTED, 0, 0)
    base = clip_features(pose, active)
    assert base.shape == (len(feature_names("mediapipe33")),) and base.dtype == np.float32
    moved = pose.copy()
    moved[..., :2] = moved[..., :2] * 0.7 + 0.1                     # same clip, smaller and elsewhere
    assert np.allclose(clip_features(moved, active), base, atol=1e-4, equal_nan=True)
    half = np.zeros(len(pose), bool)
    half[8:] = True
    changed = pose.copy()
    changed[:8, :, :2] = np.random.default_rng(0).random((8, 33, 2))   # only inactive frames differ
    assert np.allclose(clip_features(changed, half), clip_features(pose, half), equal_nan=True)
    assert not np.allclose(clip_features(changed), clip_features(pose), equal_nan=True)
    hidden = pose.copy()
    hidden[:, 25, 3] = 0.0                                           # left knee never visible
    names = feature_names("mediapipe33")
    values = dict(zip(names, clip_features(hidden, active)))
    assert values["j9_vis"] == 0.0 and math.isnan(values["j9_x_mean"])


def test_face_layout_features() -> None:
    from safealign.layouts import get_layout

    n = get_layout("face140").n_points
    face = np.random.default_rng(0).random((6, n, 4)).astype(np.float32)
    face[..., 3] = 1.0
    features = clip_features(face, None, "face140")
    assert features.shape == (len(feature_names("face140")),) and np.isfinite(features).all()


def test_pose_separability_command_prints_and_writes_the_ceiling(tiny_manifest: tuple[Path, pd.DataFrame],
                                                                 tmp_path: Path, monkeypatch, capsys) -> None:
    from safealign.cli import main

    root, _ = tiny_manifest
    monkeypatch.chdir(root)
    out = tmp_path / "ceiling.json"
    assert main(["pose-separability", "--manifest", "manifest.parquet", "--categories", "planted",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "planted" in printed and "kneel_one_knee" in printed and "non-frontal" in printed
    result = json.loads(out.read_text())
    assert result["features"] == "keypoints" and [c["category"] for c in result["categories"]] == ["planted"]
    assert {r["label"] for r in result["table"]} == {"unsafe", "benign", "near_miss"}
    assert main(["pose-separability", "--manifest", "manifest.parquet", "--categories", "nsfw"]) == 1
    assert "nsfw" in capsys.readouterr().err
