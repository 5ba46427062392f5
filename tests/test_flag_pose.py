"""``safealign flag-pose``: valid inputs are copied with provenance; bad input is refused atomically."""

from __future__ import annotations

import difflib
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from safealign.cli import main as cli
from safealign.hashing import path_sha256
from safealign.ops.flagging import flag_inputs
from tests.conftest import REPO
from tests.tiny_dvc import dvc


@pytest.fixture
def project(make_project, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return make_project()


def tiny_video(path: Path, n: int = 4) -> Path:
    from safealign.video.io import write_video

    rng = np.random.default_rng(0)
    return write_video(path, rng.integers(0, 255, (n, 32, 32, 3), dtype=np.uint8), fps=8)


def tiny_pose(path: Path, seed: int = 0) -> Path:
    pose = np.random.default_rng(seed).random((5, 33, 4)).astype(np.float32)
    np.savez_compressed(path, pose=pose)
    return path


def tiny_openpose_dir(path: Path) -> Path:
    from safealign.poses.openpose_json import write_openpose_json

    pose = np.random.default_rng(1).random((3, 33, 4)).astype(np.float32)
    pose[..., 3] = 0.9
    write_openpose_json(path, pose, width=64, height=64)
    return path


def snapshot(root: Path) -> dict[str, str]:
    """Every file under data/ (including staging leftovers) -> sha256."""
    return {str(p.relative_to(root)): path_sha256(p) for p in sorted((root / "data").rglob("*")) if p.is_file()}


def test_flags_every_input_kind_with_provenance(project, tmp_path, capsys):
    from PIL import Image

    inputs = [tiny_video(tmp_path / "clip.mp4"), tiny_pose(tmp_path / "pose.npz"),
              tiny_openpose_dir(tmp_path / "openpose_frames")]
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "still.png")
    inputs.append(tmp_path / "still.png")
    assert cli(["flag-pose", "--category", "sexual", "--who", "alice", *map(str, inputs)]) == 0
    out = capsys.readouterr().out
    assert "not emitted: no Prefect API configured" in out
    entries = sorted((project / "data/flagged/sexual").iterdir())
    assert len(entries) == 4
    kinds = set()
    for entry in entries:
        record = json.loads((entry / "provenance.json").read_text())
        source = Path(record["source_path"])
        assert record["who"] == "alice" and record["category"] == "sexual"
        assert datetime.fromisoformat(record["flagged_at_utc"]).utcoffset().total_seconds() == 0
        assert record["sha256"] == path_sha256(source) == path_sha256(entry / record["payload"])
        assert record["sha256"][:8] in entry.name
        kinds.add(record["kind"])
    assert kinds == {"video", "pose_npz", "openpose_json", "image"}


def test_unknown_category_is_refused_with_the_known_list(project, tmp_path, capsys):
    before = snapshot(project)
    assert cli(["flag-pose", "--category", "weapons", str(tiny_pose(tmp_path / "p.npz"))]) == 1
    err = capsys.readouterr().err
    assert "unknown category 'weapons'" in err and "discriminatory, sexual, celebrity" in err
    assert snapshot(project) == before


def test_empty_or_corrupt_input_is_refused_and_nothing_changes(project, tmp_path, capsys):
    good = tiny_pose(tmp_path / "good.npz")
    (tmp_path / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 50)
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "empty_dir").mkdir()
    np.savez_compressed(tmp_path / "wrong_shape.npz", pose=np.zeros((5, 18, 3), np.float32))
    nobody = tmp_path / "nobody"
    nobody.mkdir()
    (nobody / "f_000000000000_keypoints.json").write_text(json.dumps({"people": []}))
    bad = ["corrupt.mp4", "empty.mp4", "empty_dir", "wrong_shape.npz", "nobody"]
    before = snapshot(project)
    assert cli(["flag-pose", "--category", "sexual", str(good), *(str(tmp_path / b) for b in bad)]) == 1
    err = capsys.readouterr().err
    assert "refused 5 of 6 input(s), nothing was flagged" in err
    for name, reason in zip(bad, ["not a readable video", "empty file", "empty directory", "[T>0, 33, 4]",
                                  "no person"]):
        assert name in err and reason in err, (name, reason, err)
    assert snapshot(project) == before  # the good input was not copied either, and no staging is left


def test_never_overwrites_an_earlier_flag(project, tmp_path):
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first = flag_inputs(project, "celebrity", [tiny_pose(tmp_path / "a.npz", seed=1)], who="a", now=now)[0]
    again = flag_inputs(project, "celebrity", [tmp_path / "a.npz"], who="b", now=now)[0]
    assert again.duplicate and again.entry == first.entry
    record = json.loads((first.entry / "provenance.json").read_text())
    assert record["who"] == "a"  # the earlier record is untouched
    (tmp_path / "other").mkdir()
    tiny_pose(tmp_path / "other" / "a.npz", seed=2)  # same name and second, new content
    second = flag_inputs(project, "celebrity", [tmp_path / "other" / "a.npz"], who="b", now=now)[0]
    assert not second.duplicate and second.entry != first.entry
    assert len(list((project / "data/flagged/celebrity").iterdir())) == 2


def test_new_category_edits_params_keeping_comments(project, tmp_path, capsys):
    from safealign.config import load_params

    original = (REPO / "params.yaml").read_text()
    (project / "params.yaml").write_text(original)  # the real, commented file
    assert cli(["flag-pose", "--category", "weapons", "--new-category", str(tiny_pose(tmp_path / "w.npz"))]) == 0
    edited = (project / "params.yaml").read_text()
    changed = [line for line in difflib.ndiff(original.splitlines(), edited.splitlines()) if line[:1] in "+-"]
    assert len(changed) == 2 and "weapons" in changed[1] and "# the paper's three" in changed[1]
    assert load_params(project / "params.yaml").guard.categories[-1] == "weapons"
    assert "registered new category 'weapons'" in capsys.readouterr().out
    assert len(list((project / "data/flagged/weapons").iterdir())) == 1


@pytest.mark.parametrize("name", ["Bad Name", "benign", "../x"])
def test_invalid_category_names_are_refused(project, tmp_path, name, capsys):
    assert cli(["flag-pose", "--category", name, "--new-category", str(tiny_pose(tmp_path / "p.npz"))]) == 1
    assert "category" in capsys.readouterr().err
    assert not (project / "data" / "flagged").exists() or not any((project / "data" / "flagged").iterdir())


def test_reports_the_dvc_stage_that_tracks_data_flagged(project, tmp_path, capsys):
    (project / "dvc.yaml").write_text("stages:\n  curate:\n    cmd: ls data/flagged\n    deps: [data/flagged]\n")
    dvc(project, "init", "--no-scm", "-q")
    assert cli(["flag-pose", "--category", "sexual", str(tiny_pose(tmp_path / "p.npz"))]) == 0
    assert "tracked by DVC as a dependency of curate" in capsys.readouterr().out


def test_unreachable_prefect_api_is_reported_and_the_flag_kept(project, tmp_path, capsys):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # nothing listens on port 9
        assert cli(["flag-pose", "--category", "sexual", str(tiny_pose(tmp_path / "p.npz"))]) == 0
    assert "event safealign.pose.flagged NOT emitted to http://127.0.0.1:9/api" in capsys.readouterr().out
    assert len(list((project / "data/flagged/sexual").iterdir())) == 1
