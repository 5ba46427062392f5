"""Outputs are written atomically: a failure mid-write keeps the previous file or directory intact."""

import pytest

from safealign.atomic import atomic_dir, write_json, write_text


def test_failed_write_keeps_previous_file(tmp_path):
    target = write_text(tmp_path / "out.txt", "old")
    with pytest.raises(RuntimeError):
        from safealign.atomic import atomic_path

        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_failed_dir_keeps_previous_dir(tmp_path):
    with atomic_dir(tmp_path / "model") as d:
        (d / "weights").write_text("v1")
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "model") as d:
            (d / "weights").write_text("v2-partial")
            raise RuntimeError("killed")
    assert (tmp_path / "model" / "weights").read_text() == "v1"
    with atomic_dir(tmp_path / "model") as d:
        (d / "weights").write_text("v2")
    assert (tmp_path / "model" / "weights").read_text() == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_write_json_replaces_nan(tmp_path):
    import json

    path = write_json(tmp_path / "m.json", {"a": float("nan"), "b": [1.5]})
    assert json.loads(path.read_text()) == {"a": None, "b": [1.5]}


def test_atomic_outputs_get_normal_permissions(tmp_path):
    import os
    import stat

    mask = os.umask(0o022)
    try:
        path = write_text(tmp_path / "f.txt", "x")
        with atomic_dir(tmp_path / "d") as d:
            (d / "a").write_text("y")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755
