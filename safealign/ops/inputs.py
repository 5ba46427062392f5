"""Validate a flagged input before it is copied: a media file, a pose ``.npz`` file or an OpenPose JSON dir.

Checks are cheap (decode the media, parse the keypoints) and never run pose extraction; every refusal is an
``InputError`` that names the file and the reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from safealign.errors import InputError, shorten
from safealign.paths import META_FILE


@dataclass(frozen=True)
class CheckedInput:
    """A validated input: its path, kind (video | image | pose_npz | openpose_json) and a short summary.

    For a directory, ``members`` are the files that will be copied (regular files of the expected types,
    relative names) and ``refused`` says which entries are left out and why.
    """

    path: Path
    kind: str
    summary: str
    members: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The input's own name, also for paths such as ``dir/..`` or ``.``."""
        return Path(os.path.realpath(self.path)).name or "input"


def check_input(path: str | Path) -> CheckedInput:
    """Identify and validate one flagged input; raise ``InputError`` when it is missing, empty or corrupt.

    Symbolic links are refused, not followed: a flag copies what it was given, nothing it points to.
    """
    from safealign.video.io import media_kind

    path = Path(path)
    if path.is_symlink():
        raise InputError(f"{path}: a symbolic link (to {shorten(os.readlink(path))}); links are never followed, "
                         "give the file or directory itself")
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        return _check_openpose_dir(path)
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")
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
    from safealign.video.io import MAX_PIXELS, iter_video, probe_video

    _, fps, width, height = probe_video(path)
    if width * height > MAX_PIXELS:
        raise InputError(f"{path}: video frames too large: {width}x{height} > {MAX_PIXELS} pixels")
    n = sum(1 for _ in iter_video(path))  # decodes every frame: catches truncation, stays bounded in memory
    return CheckedInput(path, "video", f"{n} frames {width}x{height} @ {fps:.1f} fps")


def _check_image(path: Path) -> CheckedInput:
    from safealign.video.io import read_image

    image = read_image(path)
    return CheckedInput(path, "image", f"image {image.shape[1]}x{image.shape[0]}")


def _check_pose_npz(path: Path) -> CheckedInput:
    from safealign.poses.pose_file import load_pose_npz

    arrays = load_pose_npz(path)
    pose = arrays["pose"]
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
    members, refused = openpose_dir_members(path)
    keypoints = read_openpose18_json(path, width=1, height=1)  # pixel scale is irrelevant for validation
    seen = np.isfinite(keypoints[..., 0]).any(axis=1)
    if not seen.any():
        raise InputError(f"{path}: {len(keypoints)} OpenPose frames but no person in any of them")
    return CheckedInput(path, "openpose_json", f"{len(keypoints)} OpenPose frames, {int(seen.sum())} with a person",
                        tuple(members), tuple(refused))


def openpose_dir_members(path: Path) -> tuple[list[str], list[str]]:
    """(files a flagged OpenPose directory may hold: frame ``*.json`` and ``meta.yaml``; the other entries,
    each with why it is refused). Links, sub-folders and other files are never taken."""
    members, refused = [], []
    for entry in sorted(path.iterdir()):
        if entry.is_symlink():
            refused.append(f"{entry.name} (symbolic link)")
        elif entry.is_dir():
            refused.append(f"{entry.name}/ (sub-folder)")
        elif not entry.is_file():
            refused.append(f"{entry.name} (not a regular file)")
        elif entry.suffix == ".json" or entry.name == META_FILE:
            members.append(entry.name)
        else:
            refused.append(f"{entry.name} (not *.json or {META_FILE})")
    return members, refused
