"""MediaPipe extraction: detection on the real clips, quarantine of bad input, the stage and the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from safealign.cli import main as cli_main
from safealign.poses.extract import ExtractOptions, ExtractedClip, clip_ids, extract_batch, extract_file, \
    find_media
from safealign.poses.extraction_outputs import write_extraction
from safealign.poses.quarantine import QuarantineEntry
from safealign.video.io import write_video
from tests.conftest import shared_path

OPTIONS = ExtractOptions(max_frames=8, max_pixels=600_000)


def _bad_inputs(folder: Path) -> dict[str, str]:
    """Write one file per bad-input case; returns file name -> expected words of its quarantine reason."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "zero.mp4").write_bytes(b"")
    write_video(folder / "whole.mp4", np.full((30, 64, 64, 3), 90, np.uint8), fps=10)
    data = (folder / "whole.mp4").read_bytes()
    (folder / "whole.mp4").unlink()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 2])
    (folder / "notes.txt").write_text("not media")
    (folder / "fake.png").write_text("not an image either")
    Image.fromarray(np.full((96, 96, 3), 127, np.uint8)).save(folder / "nobody.png")
    Image.fromarray(np.zeros((1000, 1000, 3), np.uint8)).save(folder / "huge.png")
    return {"zero.mp4": "0 bytes", "truncated.mp4": "truncated", "notes.txt": "unsupported file type",
            "fake.png": "not a readable image", "nobody.png": "no person", "huge.png": "too large"}


def test_clip_ids_are_readable_and_unique() -> None:
    ids = clip_ids([Path("v/a.mp4"), Path("i/a_2.png"), Path("i/a.png"), Path("x/my clip!.mov")])
    assert ids == ["a", "a_2", "a_3", "my_clip"]


def test_dance_clip_has_a_person_in_at_least_90_percent_of_frames() -> None:
    clip = extract_file(shared_path("real", "videos", "dance_a.mp4"), ExtractOptions(max_frames=20))
    assert clip.pose.shape == (20, 33, 4) and clip.fps == 15 and (clip.width, clip.height) == (604, 604)
    assert clip.detection_rate >= 0.9
    ok = clip.pose[clip.detected]
    assert np.isfinite(ok).all() and (ok[..., 3] >= 0).all() and (ok[..., 3] <= 1).all()


def test_full_body_image_has_25_visible_landmarks_and_rgba_is_handled() -> None:
    clip = extract_file(shared_path("real", "images", "fullbody_a.png"), ExtractOptions(face=True))
    assert clip.kind == "image" and clip.pose.shape == (1, 33, 4)
    assert int((clip.pose[0, :, 3] > 0.5).sum()) >= 25
    assert clip.face is not None and clip.face.shape == (1, 478, 3)


def test_each_bad_input_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    expected = _bad_inputs(tmp_path / "in")
    files, missing = find_media([tmp_path / "in", tmp_path / "absent.mp4"])
    results = extract_batch(files, OPTIONS)
    assert all(isinstance(r, QuarantineEntry) for r in results)
    reasons = {Path(r.file).name: r.reason for r in results}
    for name, words in expected.items():
        assert words in reasons[name], (name, reasons[name])
    assert missing == [QuarantineEntry(str(tmp_path / "absent.mp4"), "input path not found")]
    summary = write_extraction(tmp_path / "out", files, results, missing)
    assert len(summary.manifest) == 0 and len(summary.quarantine) == len(expected) + 1
    report = json.loads((tmp_path / "out" / "quarantine.json").read_text())
    assert report["count"] == len(expected) + 1


def test_good_file_in_a_bad_batch_is_still_processed(tmp_path: Path) -> None:
    good = shared_path("real", "images", "fullbody_a.png")
    _bad_inputs(tmp_path / "in")
    files, _ = find_media([tmp_path / "in", good])
    results = extract_batch(files, OPTIONS)
    clips = [r for r in results if isinstance(r, ExtractedClip)]
    assert [Path(c.source).name for c in clips] == ["fullbody_a.png"]
    summary = write_extraction(tmp_path / "out", files, results, [], path_root=tmp_path)
    row = summary.manifest.iloc[0]
    assert row.clip_id == "fullbody_a" and row.path == "out/clips/fullbody_a.npz" and row.label == "benign"
    with np.load(tmp_path / "out" / "clips" / "fullbody_a.npz") as npz:
        assert npz["pose"].shape == (1, 33, 4) and npz["detected"].all()
    assert len(summary.quarantine) == 6


@pytest.mark.parametrize("tracking", [False, pytest.param(True, marks=pytest.mark.slow)])  # MLflow adds ~10 s
def test_stage_writes_clips_manifest_quarantine_and_metrics(make_project: Callable[..., Path],
                                                            tracking: bool) -> None:
    shared_path("real", "videos", "dance_a.mp4")
    from stages import extract_poses

    root = make_project({"extract_poses.inputs": ["real/images/fullbody_a.png", "real/videos/dance_a.mp4",
                                                  "real/videos/no_such_clip.mp4"],
                         "extract_poses.max_frames": 4, "extract_poses.workers": 1,
                         "extract_poses.face": True,
                         "tracking.enabled": tracking})
    assert extract_poses.main([]) == 0
    out = root / "data" / "interim" / "extracted"
    manifest = pd.read_parquet(out / "manifest.parquet")
    assert list(manifest.clip_id) == ["fullbody_a", "dance_a"]
    assert manifest.set_index("clip_id").loc["dance_a", "n_frames"] == 4
    for rel in manifest.path:
        with np.load(root / rel) as npz:
            assert npz["face"].shape[1:] == (478, 3)
    quarantine = json.loads((out / "quarantine.json").read_text())
    assert quarantine["count"] == 1 and quarantine["files"][0]["file"].endswith("no_such_clip.mp4")
    metrics = json.loads((root / "metrics" / "extract_poses.json").read_text())
    assert metrics["clips"]["dance_a"]["detection_rate"] >= 0.9 and metrics["n_quarantined"] == 1


def test_stage_without_shared_data_writes_an_empty_manifest(make_project: Callable[..., Path],
                                                            capsys: pytest.CaptureFixture) -> None:
    from stages import extract_poses

    root = make_project({"tracking.enabled": False})
    raw = yaml.safe_load((root / "params.yaml").read_text())
    raw["project"]["shared_data"] = str(root / "no_shared_here")
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    assert extract_poses.main([]) == 0
    assert len(pd.read_parquet(root / "data" / "interim" / "extracted" / "manifest.parquet")) == 0
    assert "absent" in json.loads((root / "metrics" / "extract_poses.json").read_text())["note"]
    assert "absent" in capsys.readouterr().err


def test_stage_refuses_a_bad_param_with_exit_code_2(make_project: Callable[..., Path]) -> None:
    from stages import extract_poses

    make_project({"extract_poses.workers": 0, "tracking.enabled": False})
    assert extract_poses.main([]) == 2


def test_command_writes_openpose_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    image = shared_path("real", "images", "fullbody_a.png")
    assert cli_main(["extract-poses", str(image), str(tmp_path / "nothing.mp4"), "--out", str(tmp_path / "o"),
                     "--openpose-json"]) == 0
    frame = json.loads((tmp_path / "o" / "openpose" / "fullbody_a" / "fullbody_a_000000000000_keypoints.json")
                       .read_text())
    assert len(frame["people"][0]["pose_keypoints_2d"]) == 54
    assert "1 clips, 1 quarantined" in capsys.readouterr().out


@pytest.mark.slow
def test_process_pool_and_dask_give_the_serial_results(tmp_path: Path) -> None:
    files = [shared_path("real", "videos", "dance_b.mp4"), shared_path("real", "images", "fullbody_a.png"),
             tmp_path / "notes.txt"]
    (tmp_path / "notes.txt").write_text("x")
    serial = extract_batch(files, OPTIONS)
    for kwargs in ({"workers": 2}, {"dask_workers": 2}):
        parallel = extract_batch(files, OPTIONS, **kwargs)
        assert parallel[2] == serial[2]
        for a, b in zip(parallel[:2], serial[:2]):
            np.testing.assert_array_equal(a.pose, b.pose)
            np.testing.assert_array_equal(a.detected, b.detected)


def test_unreachable_dask_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from safealign.errors import ConfigError
    from safealign.poses import parallel

    monkeypatch.setattr(parallel, "DASK_CONNECT_TIMEOUT", "1s")
    with pytest.raises(ConfigError, match="no Dask scheduler reachable"):
        parallel.parallel_map(abs, [1, 2], dask_address="tcp://127.0.0.1:9")
