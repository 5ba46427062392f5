"""``safealign animate`` on a tiny untrained generator: OpenPose JSON dir, .npz pose file, DWPose video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from safealign.cli import main as cli_main
from tests.conftest import shared_path, standing_poses


def _animate(tmp_path, generator, reference, poses, *extra) -> Path:
    out = tmp_path / "out" / "anim.mp4"
    rc = cli_main(["animate", "--reference", str(reference), "--poses", str(poses), "--model", str(generator),
                   "--out", str(out), "--steps", "2", "--seed", "3", "--device", "cpu", *extra])
    assert rc == 0
    return out


def test_animate_openpose_json_dir_and_npz(tmp_path, tiny_generator, reference):
    from safealign.poses.openpose_json import write_openpose_json
    from safealign.video.io import read_video

    poses = standing_poses(3)
    write_openpose_json(tmp_path / "json", poses, 24, 40)
    out = _animate(tmp_path, tiny_generator, reference, tmp_path / "json")
    frames, _ = read_video(out)
    assert frames.shape[0] == 3 and out.with_suffix(".png").is_file()
    np.savez_compressed(tmp_path / "clip.npz", pose=poses)
    out2 = _animate(tmp_path, tiny_generator, reference, tmp_path / "clip.npz", "--frames", "2")
    assert read_video(out2)[0].shape[0] == 2


def test_animate_rejects_bad_inputs(tmp_path, tiny_generator, reference, capsys):
    (tmp_path / "poses.txt").write_text("x")
    rc = cli_main(["animate", "--reference", str(reference), "--poses", str(tmp_path / "poses.txt"),
                   "--model", str(tiny_generator), "--out", str(tmp_path / "o.mp4")])
    assert rc == 1 and "expected an OpenPose JSON directory" in capsys.readouterr().err
    rc = cli_main(["animate", "--reference", str(reference), "--poses", str(tmp_path / "poses.txt"),
                   "--model", str(tmp_path / "nope"), "--out", str(tmp_path / "o.mp4")])
    assert rc == 1 and "no such directory" in capsys.readouterr().err


@pytest.mark.shared
def test_animate_dwpose_video_with_real_reference(tmp_path, tiny_generator):
    from safealign.video.io import read_video

    video = shared_path("real", "pose_renders", "dwpose_dance.mp4")
    image = shared_path("real", "images", "fullbody_a.png")
    out = _animate(tmp_path, tiny_generator, image, video, "--frames", "4")
    frames, fps = read_video(out)
    assert frames.shape[0] == 4 and fps == pytest.approx(30, rel=0.05)
