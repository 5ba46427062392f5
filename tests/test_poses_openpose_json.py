"""OpenPose JSON (one file per frame, pixel coordinates) <-> MediaPipe-33 arrays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from safealign.errors import InputError
from safealign.poses import topology as t
from safealign.poses.convert import mediapipe_to_openpose18
from safealign.poses.openpose_json import read_openpose18_json, read_openpose_json, write_openpose_json


def _poses(n: int = 3) -> np.ndarray:
    rng = np.random.default_rng(0)
    poses = rng.random((n, 33, 4)).astype(np.float32)
    poses[..., 3] = rng.uniform(0.4, 1.0, (n, 33))
    return poses


def test_round_trip_keeps_mapped_points_and_empty_frames(tmp_path: Path) -> None:
    poses = _poses()
    poses[1] = [np.nan, np.nan, np.nan, 0.0]          # a frame without a person
    files = write_openpose_json(tmp_path / "clip", poses, 640, 480, prefix="clip")
    assert [f.name for f in files][0] == "clip_000000000000_keypoints.json"
    doc = json.loads(files[0].read_text())
    assert len(doc["people"]) == 1 and len(doc["people"][0]["pose_keypoints_2d"]) == 54
    assert json.loads(files[1].read_text())["people"] == []
    x_px = doc["people"][0]["pose_keypoints_2d"][0]
    assert x_px == pytest.approx(poses[0, t.NOSE, 0] * 640, abs=1e-3)       # pixel coordinates
    back = read_openpose_json(tmp_path / "clip", 640, 480)
    mapped = [m for m in t.MP33_TO_OPENPOSE18 if m is not None]
    np.testing.assert_allclose(back[[0, 2]][..., mapped, :2], poses[[0, 2]][..., mapped, :2], atol=2e-5)
    np.testing.assert_allclose(back[[0, 2]][..., mapped, 3], poses[[0, 2]][..., mapped, 3], atol=1e-3)
    assert np.isnan(back[1, :, :2]).all() and (back[1, :, 3] == 0).all()
    neck = read_openpose18_json(tmp_path / "clip", 640, 480)[:, t.OP_NECK]
    np.testing.assert_allclose(neck[0], mediapipe_to_openpose18(poses[0])[t.OP_NECK], atol=1e-3)


def test_the_most_confident_person_is_kept(tmp_path: Path) -> None:
    weak, strong = [10.0, 20.0, 0.2] * 18, [100.0, 50.0, 0.9] * 18
    (tmp_path / "f_000000000000_keypoints.json").write_text(
        json.dumps({"people": [{"pose_keypoints_2d": weak}, {"pose_keypoints_2d": strong}]}))
    kp = read_openpose18_json(tmp_path, 200, 100)
    np.testing.assert_allclose(kp[0, 0], [0.5, 0.5, 0.9])


def test_bad_files_name_the_file_and_the_problem(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no OpenPose JSON"):
        read_openpose_json(tmp_path, 10, 10)
    bad = tmp_path / "a_keypoints.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="a_keypoints.json: not valid JSON \\(line 1"):
        read_openpose_json(bad, 10, 10)
    bad.write_text(json.dumps({"people": [{"pose_keypoints_2d": [1, 2, 3]}]}))
    with pytest.raises(InputError, match="54 numbers"):
        read_openpose_json(bad, 10, 10)
