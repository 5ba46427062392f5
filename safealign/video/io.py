"""Read and write video and images: uint8 RGB arrays in, atomic files out.

Decoding uses OpenCV's FFmpeg backend (fast, already installed with mediapipe); writing uses imageio-ffmpeg
(H.264, yuv420p, faststart). Unreadable, empty, truncated or oversized media raise ``InputError`` naming the
file, so callers can quarantine it and carry on with the rest of a batch.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np

from safealign.atomic import atomic_path
from safealign.errors import InputError, user_input

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})
# Larger images and video frames are refused before decoding (decompression bombs); 40 MP is a 8K frame.
MAX_PIXELS = 40_000_000
# Containers often report one frame more than they decode; more missing frames than this means truncation.
FRAME_COUNT_SLACK = 2


def media_kind(path: str | Path) -> str:
    """'video', 'image' or 'other', from the file suffix."""
    suffix = Path(path).suffix.lower()
    return "video" if suffix in VIDEO_SUFFIXES else "image" if suffix in IMAGE_SUFFIXES else "other"


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: empty file (0 bytes)")


def probe_video(path: str | Path) -> tuple[int, float, int, int]:
    """(frame count from the container, fps, width, height) without decoding; InputError if unreadable."""
    import cv2

    path = Path(path)
    _require_file(path)
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise InputError(f"{path}: not a readable video (corrupt, truncated or not media)")
        return (int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), float(cap.get(cv2.CAP_PROP_FPS)),
                int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    finally:
        cap.release()


def iter_video(path: str | Path, max_frames: int | None = None):
    """Yield uint8 RGB frames one by one (bounded memory); InputError if unreadable or truncated."""
    import cv2

    path = Path(path)
    expected, _, _, _ = probe_video(path)
    # one decoder thread: decoding overlaps inference in a prefetch thread; more threads only add CPU
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    n = 0
    try:
        while max_frames is None or n < max_frames:
            ok, frame = cap.read()
            if not ok:
                break
            n += 1
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()
    if n == 0:
        raise InputError(f"{path}: no decodable frames (corrupt or truncated video)")
    wanted = expected if max_frames is None else min(expected, max_frames)
    if n < wanted - FRAME_COUNT_SLACK:
        raise InputError(f"{path}: truncated video: decoded {n} of {expected} frames")


def read_video(path: str | Path, max_frames: int | None = None) -> tuple[np.ndarray, float]:
    """Decode a video -> (uint8 RGB frames ``[T, H, W, 3]``, fps). ``max_frames`` keeps the first frames."""
    frames = list(iter_video(path, max_frames))
    _, fps, _, _ = probe_video(path)
    return np.stack(frames), fps


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) from the image header, without decoding the pixels."""
    from PIL import Image

    path = Path(path)
    _require_file(path)
    with _pillow_input(path), Image.open(path) as img:
        return img.size


def read_image(path: str | Path, max_pixels: int | None = MAX_PIXELS) -> np.ndarray:
    """Read an image as uint8 RGB ``[H, W, 3]`` (alpha dropped, grey expanded, 16-bit scaled).

    ``max_pixels`` refuses oversized images from the header alone, before any pixel is decoded; Pillow's own
    decompression-bomb limit applies as well and is reported the same way.
    """
    from PIL import Image

    path = Path(path)
    width, height = image_size(path)
    if max_pixels is not None and width * height > max_pixels:
        raise InputError(f"{path}: image too large: {width}x{height} = {width * height} pixels "
                         f"> max_pixels {max_pixels}")
    with _pillow_input(path), Image.open(path) as img:
        img.load()
        if img.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(img, dtype=np.float64)
            arr = (arr / max(arr.max(), 1.0) * 255.0).astype(np.uint8)
            return np.ascontiguousarray(np.repeat(arr[..., None], 3, axis=-1))
        return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


@contextlib.contextmanager
def _pillow_input(path: Path) -> Iterator[None]:
    """Pillow's errors on ``path`` as InputError; its decompression-bomb warning is refused like its error."""
    from PIL import Image

    with user_input(path), warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except OSError as exc:  # truncated or corrupt pixel data behind a valid header, or no image at all
            raise InputError(f"{path}: not a readable image, corrupt or truncated ({exc})") from None


def _even(frames: np.ndarray) -> np.ndarray:
    """Pad the bottom/right edge by one replicated pixel where a side is odd (yuv420p needs even sizes)."""
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    if not (pad_h or pad_w):
        return frames
    return np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")


def write_video(path: str | Path, frames: np.ndarray, fps: float) -> Path:
    """Write uint8 RGB ``[T, H, W, 3]`` frames as an H.264 mp4 (atomic; odd sizes padded by one pixel)."""
    import imageio_ffmpeg

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"write_video: expected non-empty uint8 [T, H, W, 3], got {frames.dtype} "
                         f"{list(frames.shape)}")
    frames = _even(frames)
    height, width = frames.shape[1:3]
    with atomic_path(path, suffix=".mp4") as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp), (width, height), fps=float(fps), codec="libx264", pix_fmt_out="yuv420p",
            macro_block_size=1, quality=None, output_params=["-crf", "18", "-movflags", "+faststart"],
            ffmpeg_log_level="error")
        writer.send(None)
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
        writer.close()
    return Path(path)


def save_png(path: str | Path, img: np.ndarray) -> Path:
    """Write a uint8 image (``[H, W]``, ``[H, W, 3]`` or ``[H, W, 4]``) as PNG, atomically."""
    from PIL import Image

    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(np.asarray(img, dtype=np.uint8)).save(tmp, format="PNG")
    return Path(path)
