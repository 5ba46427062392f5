"""Flagged clips: newly identified unsafe pose sequences a user drops under ``data/flagged/<category>/``.

Each entry of a category folder is one clip: a ``.npz`` pose file (key ``pose`` [T, 33, 4]; optional ``fps``,
``width``, ``height``, ``subject``), a directory of per-frame OpenPose JSON files (optional ``meta.yaml``
with ``width``, ``height``, ``fps``, ``subject``; without it pixel coordinates refer to ``canvas``), or a
video/image (landmarks extracted with MediaPipe). ``safealign flag-pose`` wraps each payload in an entry
directory with a ``provenance.json`` (safealign/ops/flagging.py); such a directory is unwrapped here.
A category that is not in ``guard.categories`` is refused with the list of known ones; a broken clip is
refused with its reason; the other clips are still used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from safealign.errors import InputError, user_input
from safealign.paths import META_FILE, PROVENANCE_FILE
from safealign.poses import topology as tp
from safealign.poses.openpose_json import read_openpose_json
from safealign.poses.pose_file import load_pose_npz
from safealign.poses.quarantine import QuarantineEntry
from safealign.video.io import media_kind
from safealign.yaml_load import load_yaml

DEFAULT_FPS = 30.0   # most flagged material comes from ordinary web video


@dataclass(frozen=True)
class FlaggedClip:
    """One flagged pose sequence with its category and where it came from."""

    clip_id: str
    category: str
    subject: str
    action: str
    pose: np.ndarray
    fps: float
    width: int
    height: int
    source_path: str


def check_category(category: str, known: list[str], where: str = "") -> None:
    """Raise InputError unless ``category`` is one of the configured unsafe categories ``known``."""
    if category not in known:
        raise InputError(f"{where or category}: unknown flagged category '{category}' "
                         f"(known: {', '.join(known)}); add it to guard.categories in params.yaml "
                         f"or move the clip under data/flagged/<known category>/")


def _meta(path: Path) -> dict:
    meta_file = path / META_FILE
    if not meta_file.is_file():
        return {}
    with user_input(meta_file):
        meta = load_yaml(meta_file.read_text(encoding="utf-8"), str(meta_file), InputError)
    if not isinstance(meta, dict):
        raise InputError(f"{meta_file}: expected an object with width, height, fps, subject")
    return meta


def _payload(entry: Path) -> Path:
    """The clip inside a ``flag-pose`` entry directory (next to provenance.json), else the entry itself."""
    if not (entry.is_dir() and (entry / PROVENANCE_FILE).is_file()):
        return entry
    items = [p for p in entry.iterdir() if p.name != PROVENANCE_FILE and not p.name.startswith(".")]
    if len(items) != 1:
        raise InputError(f"{entry}: expected one flagged payload next to {PROVENANCE_FILE}, found {len(items)}")
    return items[0]


def read_flagged_clip(entry: Path, category: str, canvas: tuple[int, int]) -> FlaggedClip:
    """Load one flagged entry (pose ``.npz``, OpenPose JSON dir, video or image); InputError names the problem."""
    name = entry.stem if entry.is_file() else entry.name
    path = _payload(entry)
    if path.is_dir():
        meta = _meta(path)
        width, height = int(meta.get("width", canvas[0])), int(meta.get("height", canvas[1]))
        pose = read_openpose_json(path, width, height)
    elif path.suffix == ".npz":
        data = load_pose_npz(path)
        pose = data["pose"]
        with user_input(path):
            meta = {k: data[k].item() for k in ("fps", "width", "height", "subject") if k in data}
        width, height = int(meta.get("width", canvas[0])), int(meta.get("height", canvas[1]))
    elif media_kind(path) != "other":
        from safealign.poses.extract import ExtractOptions, extract_file   # MediaPipe only when needed

        clip = extract_file(path, ExtractOptions())
        pose, width, height, meta = clip.pose, clip.width, clip.height, {"fps": clip.fps or DEFAULT_FPS}
    else:
        raise InputError(f"{path}: expected a .npz pose file, a directory of OpenPose JSON frames, a video or "
                         f"an image")
    if pose.ndim != 3 or pose.shape[1:] != (tp.N_MP33, 4) or len(pose) == 0:
        raise InputError(f"{path}: pose must be [T, 33, 4] with T >= 1, got {list(pose.shape)}")
    return FlaggedClip(
        clip_id=f"flagged_{category}_{name}", category=category,
        subject=f"flagged:{meta.get('subject', f'{category}/{name}')}", action=f"flagged:{name}", pose=pose,
        fps=float(meta.get("fps", DEFAULT_FPS)), width=width, height=height, source_path=str(path),
    )


def load_flagged(flagged_dir: str | Path, categories: list[str], canvas: tuple[int, int] = (512, 512)
                 ) -> tuple[list[FlaggedClip], list[QuarantineEntry]]:
    """Every usable flagged clip under ``flagged_dir/<category>/`` and the refused entries with reasons."""
    root = Path(flagged_dir)
    clips: list[FlaggedClip] = []
    refused: list[QuarantineEntry] = []
    if not root.is_dir():
        return clips, refused
    for cat_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        entries = sorted(p for p in cat_dir.iterdir() if not p.name.startswith("."))
        try:
            check_category(cat_dir.name, categories, str(cat_dir))
        except InputError as exc:
            refused.extend(QuarantineEntry(str(p), str(exc)) for p in entries)
            continue
        for entry in entries:
            try:
                clips.append(read_flagged_clip(entry, cat_dir.name, canvas))
            except InputError as exc:
                refused.append(QuarantineEntry(str(entry), str(exc)))
    return clips, refused
