"""The pose-separability ceiling: a classifier learns a separable decision; the command on a tiny set."""

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import torch

from safealign.evaluation.separability import scores, train_classifier


def _bars(rng: np.random.Generator, n: int, vertical: bool, size: int = 32) -> np.ndarray:
    maps = np.zeros((n, size, size, 3), np.uint8)
    for i in range(n):
        a, b = rng.integers(2, size - 14, 2)
        if vertical:
            maps[i, a:a + 12, b:b + 2] = 255
        else:
            maps[i, a:a + 2, b:b + 12] = 255
    return maps


def test_classifier_separates_a_learnable_decision_on_unseen_maps():
    rng = np.random.default_rng(0)
    net = train_classifier(_bars(rng, 64, False), _bars(rng, 64, True), steps=150)
    benign, unsafe = scores(net, _bars(rng, 40, False)), scores(net, _bars(rng, 40, True))
    assert (unsafe > 0.5).mean() >= 0.9
    assert (benign < 0.5).mean() >= 0.9
    maps = _bars(rng, 40, True)
    assert np.allclose(scores(net, maps, batch=7), scores(net, maps), atol=1e-6)  # batching changes nothing


def test_classifier_sees_the_same_share_of_the_map_at_every_resolution():
    from safealign.evaluation.separability import pose_classifier

    def strides(res: int) -> int:
        return sum(1 for m in pose_classifier(res).modules() if isinstance(m, torch.nn.Conv2d))

    assert [strides(r) for r in (32, 64, 128, 256)] == [3, 3, 4, 5]
    assert pose_classifier(128)(torch.zeros(2, 3, 128, 128)).shape == (2, 1)


def test_pose_separability_command_on_the_tiny_set(tiny_pose_data, tmp_path, monkeypatch):
    from safealign.cli import main
    from safealign.config import load_params

    monkeypatch.chdir(tiny_pose_data)
    out = tmp_path / "sep.json"
    assert main(["pose-separability", "--steps", "10", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    categories = load_params("params.yaml").guard.categories
    assert [r["category"] for r in result["results"]] == categories
    manifest = pd.read_parquet(tiny_pose_data / "data/processed/poses/manifest.parquet")
    for row in result["results"]:
        assert row["train_benign_frames"] > 0 and row["train_unsafe_frames"] > 0
        assert row["val_false_positive"] <= 0.05 + 1e-9  # the threshold is calibrated on these frames
        for key in ("test_unsafe_recall", "test_benign_false_positive", "test_near_miss_false_positive"):
            assert math.isnan(row[key]) or 0.0 <= row[key] <= 1.0
        test = manifest[(manifest["split"] == "test") & (manifest["label"] == "unsafe")
                        & (manifest["category"] == row["category"])]
        assert set(row["test_clip_recall_by_action"]) == set(test["action"])
        assert row["train_kept_share_by_action"]
        for share in [*row["train_kept_share_by_action"].values(), *row["test_clip_recall_by_action"].values()]:
            assert math.isnan(share) or 0.0 <= share <= 1.0


def test_separability_with_the_landmark_filter(tiny_pose_data):
    from safealign.evaluation.separability import measure
    from safealign.generation import data

    rows = data.read_manifest(tiny_pose_data / "data/processed/poses/manifest.parquet")
    by_map = measure(rows, tiny_pose_data, "sexual", 32, 4, 0.5, steps=5)
    by_landmarks = measure(rows, tiny_pose_data, "sexual", 32, 4, 0.5, steps=5,
                           ambiguity_features="landmarks")
    assert set(by_landmarks.train_kept_share_by_action) == set(by_map.train_kept_share_by_action)
    assert 0 < by_landmarks.train_unsafe_frames <= sum(1 for r in rows if r["split"] == "train"
                                                        and r["category"] == "sexual") * 4


def test_separability_lists_unreadable_clips_and_names_a_category_left_without_any(tiny_pose_data, tmp_path):
    import pytest

    from safealign.errors import InputError
    from safealign.evaluation.separability import measure
    from safealign.generation import data

    rows = data.read_manifest(tiny_pose_data / "data/processed/poses/manifest.parquet")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not an npz archive")
    victim = next(r for r in rows if r["split"] == "train" and r["label"] == "benign")
    report = data.LoadReport()
    rows_with_one_broken = [dict(r, path=str(broken)) if r is victim else r for r in rows]
    result = measure(rows_with_one_broken, tiny_pose_data, "sexual", 32, 4, 0.5, steps=5, report=report)
    assert str(broken) in {file for file, _ in report.skipped}
    assert result.train_benign_frames > 0 and result.train_unsafe_frames > 0  # the rest of the batch is used
    unsafe = [dict(r, path=str(broken)) if r["split"] == "train" and r["category"] == "sexual"
              and r["label"] == data.UNSAFE_LABEL else r for r in rows]
    with pytest.raises(InputError, match=r"'sexual'.*clips skipped"):
        measure(unsafe, tiny_pose_data, "sexual", 32, 4, 0.5, steps=5)


def test_pose_only_loading_gives_the_same_frames_as_the_triples(tiny_pose_data, tmp_path):
    from safealign.generation import data

    rows = data.read_manifest(tiny_pose_data / "data/processed/poses/manifest.parquet")
    selected = data.select(rows, "train", [data.UNSAFE_LABEL], "sexual")
    assert any(r.get("parent_clip_id") for r in selected)  # augmented copies read their parent's frames
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not an npz archive")
    selected = [dict(selected[0], path=str(broken)), *selected[1:]]
    reports = data.LoadReport(), data.LoadReport()
    triples = data.load_clip_triples(selected, tiny_pose_data, 32, 4, reports[0])
    poses = data.load_clip_poses(selected, tiny_pose_data, 32, 4, reports[1])
    assert not hasattr(poses, "target") and len(poses) == len(triples) > 0
    assert np.array_equal(poses.pose, triples.pose) and np.array_equal(poses.landmarks, triples.landmarks)
    assert reports[0].skipped == reports[1].skipped and str(broken) in reports[1].skipped[0][0]
    grouped, action, names = data.load_by_action(selected, tiny_pose_data, 32, 4, poses_only=True)
    grouped_triples, action_triples, _ = data.load_by_action(selected, tiny_pose_data, 32, 4)
    assert isinstance(grouped, data.PoseFrames) and len(names) >= 2
    assert np.array_equal(grouped.pose, grouped_triples.pose) and np.array_equal(action, action_triples)
    assert len(data.load_clip_poses([], tiny_pose_data, 32, 4)) == 0


def test_the_guard_probe_detector_learns_a_decision_on_unseen_maps():
    from safealign.generation.model import GeneratorConfig, PoseGuidedGenerator
    from safealign.generation.probe_detector import probe_detector_trainer

    torch.manual_seed(0)
    base = PoseGuidedGenerator.build(GeneratorConfig(resolution=32, block_out_channels=(8, 16),
                                                     attention_levels=(False, True), pose_guider_channels=(8, 8)))
    rng = np.random.default_rng(0)
    train = probe_detector_trainer(base, 4, 4.0, ("to_q",), 1e-2, 16)
    net = train(_bars(rng, 64, False), _bars(rng, 64, True), 150, 0)
    benign, unsafe = scores(net, _bars(rng, 40, False)), scores(net, _bars(rng, 40, True))
    assert (unsafe > 0.5).mean() >= 0.9 and (benign < 0.5).mean() >= 0.9
    assert not any(n.startswith("detector") or "lora" in n for n, _ in base.named_parameters())  # base left as is


def test_pose_separability_with_the_guard_probe_detector(tiny_pose_data, tmp_path, monkeypatch, capsys):
    from safealign.cli import main
    from safealign.domains import get_domain
    from safealign.generation.model import GeneratorConfig, PoseGuidedGenerator

    monkeypatch.chdir(tiny_pose_data)
    out, base_dir = tmp_path / "sep.json", tmp_path / "base"
    args = ["pose-separability", "--detector", "guard_probe", "--steps", "5", "--rows", "4", "--categories",
            "sexual", "--out", str(out)]
    body = dataclasses.replace(get_domain("body"), base=base_dir)  # the shared tiny set stays read-only
    monkeypatch.setattr("safealign.domains.get_domain", lambda name: body)
    assert main(args) != 0 and "run `dvc repro pretrain_generator` first" in capsys.readouterr().err
    PoseGuidedGenerator.build(GeneratorConfig(resolution=32, block_out_channels=(8, 16),
                                              attention_levels=(False, True),
                                              pose_guider_channels=(8, 8))).save_pretrained(base_dir)
    assert main(args) == 0
    result = json.loads(out.read_text())
    assert result["detector"] == "guard_probe" and [r["category"] for r in result["results"]] == ["sexual"]
    assert result["results"][0]["val_false_positive"] <= 0.05 + 1e-9
    assert main(args + ["--resolution", "64"]) != 0
    assert "--resolution [64]: the guard probe reads the base generator's pose maps" in capsys.readouterr().err
