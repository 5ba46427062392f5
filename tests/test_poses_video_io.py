"""Video/image I/O and image grids: round trips and the errors bad media raise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from safealign.errors import InputError
from safealign.video.grid import image_grid
from safealign.video.io import read_image, read_video, save_png, write_video


def _frames(n: int = 6, h: int = 31, w: int = 40) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([np.stack([(xx * 6 + 20 * t) % 256, yy * 8, np.full_like(xx, 128)], -1)
                     for t in range(n)]).astype(np.uint8)


def test_video_round_trip_odd_size(tmp_path: Path) -> None:
    frames = _frames()
    write_video(tmp_path / "v.mp4", frames, fps=12)
    back, fps = read_video(tmp_path / "v.mp4")
    assert fps == 12 and back.shape == (6, 32, 40, 3)          # odd height padded by one row
    assert np.abs(back[:, :31].astype(int) - frames).mean() < 6
    assert read_video(tmp_path / "v.mp4", max_frames=2)[0].shape[0] == 2


def test_bad_videos_raise_input_errors_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "text.mp4").write_text("not a video")
    write_video(tmp_path / "ok.mp4", _frames(40, 64, 64), fps=10)
    data = (tmp_path / "ok.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) * 2 // 3])
    for name, reason in [("empty.mp4", "0 bytes"), ("text.mp4", "not a readable video"),
                         ("cut.mp4", "truncated"), ("missing.mp4", "not found")]:
        with pytest.raises(InputError, match=reason) as info:
            read_video(tmp_path / name)
        assert name in str(info.value)


def test_images_are_rgb_and_size_limited(tmp_path: Path) -> None:
    Image.fromarray(np.full((20, 30, 4), 200, np.uint8)).save(tmp_path / "rgba.png")
    Image.fromarray(np.full((20, 30), 7, np.uint8)).save(tmp_path / "grey.png")
    assert read_image(tmp_path / "rgba.png").shape == (20, 30, 3)
    assert read_image(tmp_path / "grey.png").shape == (20, 30, 3)
    with pytest.raises(InputError, match="too large"):
        read_image(tmp_path / "rgba.png", max_pixels=599)
    data = (tmp_path / "rgba.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cut.png"):
        read_image(tmp_path / "cut.png")
    save_png(tmp_path / "out.png", read_image(tmp_path / "grey.png"))
    assert read_image(tmp_path / "out.png")[0, 0, 0] == 7


def test_image_grid_tiles_rows_with_labels() -> None:
    cells = [[np.zeros((16, 16, 3), np.uint8)] * 3, [np.zeros((8, 16), np.uint8)]]
    grid = image_grid(cells, labels=["unsafe", "benign"], pad=2)
    assert grid.dtype == np.uint8 and grid.shape[0] == 2 + 2 * 18 and grid.shape[1] > 2 + 3 * 18
    with pytest.raises(ValueError, match="labels"):
        image_grid(cells, labels=["one"])
