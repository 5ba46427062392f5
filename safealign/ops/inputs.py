"""Validate a flagged input before it is copied: a media file, a pose ``.npz`` file or an OpenPose JSON dir.

Checks are cheap (decode the media, parse the keypoints) and never run pose extraction; every refusal is an
``InputError`` that names the file and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from safealign.errors import InputError
from safealign.poses.topology import N_MP33

POSE_CHANNELS = 4  # x, y, z, visibility (pose_contract.md)


@dataclass(frozen=True)
class CheckedInput:
    """A validated input: its path, kind (video | image | pose_npz | openpose_json) and a short summary."""

    path: Path
    kind: str
    summary: str


def check_input(path: str | Path) -> CheckedInput:
    """Identify and validate one flagged input; raise ``InputError`` when it is missing, empty or corrupt."""
    from safealign.video.io import media_kind

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        return _check_openpose_dir(path)
    if path.stat().st_size == 0:
        raise InputError(f"{path}: empty file (0 bytes)")
    if path.suffix.lower() == ".npz":
        return _check_pose_npz(path)
    kind = media_kind(path)
    if kind == "video":
        return _check_video(path)
    if kind == "image":
        return _check_image(path)
    raise InputError(f"{path}: unknown input kind {path.suffix or '(no suffix)'!r}; expected a video, an image, "
                     "a pose .npz file or a directory of OpenPose JSON files")


def _check_video(path: Path) -> CheckedInput:
    from safealign.video.io import iter_video, probe_video

    _, fps, width, height = probe_video(path)
    n = sum(1 for _ in iter_video(path))  # decodes every frame: catches truncation, stays bounded in memory
    return CheckedInput(path, "video", f"{n} frames {width}x{height} @ {fps:.1f} fps")


def _check_image(path: Path) -> CheckedInput:
    from safealign.video.io import read_image

    image = read_image(path)
    return CheckedInput(path, "image", f"image {image.shape[1]}x{image.shape[0]}")


def _check_pose_npz(path: Path) -> CheckedInput:
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npz file ({exc.__class__.__name__}: {exc})") from None
    if "pose" not in arrays:
        raise InputError(f"{path}: no 'pose' array (keys: {sorted(arrays) or 'none'}); expected pose [T, 33, 4]")
    pose = arrays["pose"]
    if pose.ndim != 3 or pose.shape[1:] != (N_MP33, POSE_CHANNELS) or len(pose) == 0:
        raise InputError(f"{path}: 'pose' has shape {list(pose.shape)}, expected [T>0, {N_MP33}, {POSE_CHANNELS}]")
    if not np.issubdtype(pose.dtype, np.floating):
        raise InputError(f"{path}: 'pose' has dtype {pose.dtype}, expected float32")
    if not np.isfinite(pose[..., :2]).any():
        raise InputError(f"{path}: 'pose' holds no landmark at all (every x, y is NaN)")
    n = len(pose)
    for key in ("frames", "face"):
        if key in arrays and (arrays[key].ndim < 2 or len(arrays[key]) != n):
            raise InputError(f"{path}: '{key}' has shape {list(arrays[key].shape)}; expected {n} frames like 'pose'")
    if "frames" in arrays and (arrays["frames"].dtype != np.uint8 or arrays["frames"].shape[-1:] != (3,)):
        raise InputError(f"{path}: 'frames' must be uint8 [T, H, W, 3], got {arrays['frames'].dtype} "
                         f"{list(arrays['frames'].shape)}")
    return CheckedInput(path, "pose_npz", f"{n} pose frames" + (" with RGB frames" if "frames" in arrays else ""))


def _check_openpose_dir(path: Path) -> CheckedInput:
    from safealign.poses.openpose_json import read_openpose18_json

    if not any(path.iterdir()):
        raise InputError(f"{path}: empty directory")
    keypoints = read_openpose18_json(path, width=1, height=1)  # pixel scale is irrelevant for validation
    seen = np.isfinite(keypoints[..., 0]).any(axis=1)
    if not seen.any():
        raise InputError(f"{path}: {len(keypoints)} OpenPose frames but no person in any of them")
    return CheckedInput(path, "openpose_json", f"{len(keypoints)} OpenPose frames, {int(seen.sum())} with a person")
