"""Evaluation inputs: manifest rows -> (reference, pose maps, ground truth) arrays at the working resolution.

Perturbed and augmented clips store poses only; their reference and ground-truth frames are read from the
parent clip's file (``parent_clip_id``), as the data contract specifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from safealign.errors import InputError

# Same frame sampling, letterboxing and pose rendering as the guard's training data (one place for each).
from safealign.generation.data import (Triples, active_frames, frame_indices, layout_of, render_pose_maps,
                                       resize_square, token_keypoints)


@dataclass
class ClipInputs:
    """One clip, subsampled to the frames that are judged: reference [H,W,3], pose maps [K,H,W,3], ground
    truth [K,H,W,3] or None, the whole clip's token keypoints [T,J,3] and the judged frames' indices [K]."""

    clip_id: str
    reference: np.ndarray
    pose_maps: np.ndarray
    target: np.ndarray | None
    keypoints: np.ndarray
    frames: np.ndarray

    def rows(self) -> Triples:
        """The clip's judged frames as generator rows (targets: ground truth, or the pose maps as filler)."""
        k = len(self.pose_maps)
        return Triples(np.repeat(self.reference[None], k, axis=0), self.pose_maps,
                       self.target if self.target is not None else self.pose_maps,
                       np.repeat(self.keypoints[None], k, axis=0), np.asarray(self.frames, np.int64))


def clip_inputs(clip_id: str, reference: np.ndarray, pose: np.ndarray, layout: str, resolution: int,
                frames_per_clip: int, active: np.ndarray | None = None,
                frames: np.ndarray | None = None) -> ClipInputs:
    """A clip from its landmarks [T, K, 4]: judged on ``frames_per_clip`` evenly spaced frames among the
    ``active`` ones (every frame when None), with ground truth ``frames`` [T, H, W, 3] when given."""
    n = len(pose) if frames is None else min(len(pose), len(frames))
    idx = frame_indices(n, frames_per_clip, None if active is None else np.asarray(active, bool)[:n])
    if len(idx) == 0:
        idx = frame_indices(n, frames_per_clip)
    target = None if frames is None else resize_square(frames[idx], resolution)
    return ClipInputs(clip_id, reference, render_pose_maps(pose[idx], resolution, layout), target,
                      token_keypoints(pose[:n], layout), idx.astype(np.int64))


def _load_npz(root: Path, rel: str, clip_id: str) -> dict[str, np.ndarray]:
    path = root / rel
    if not path.is_file():
        raise InputError(f"clip {clip_id}: file {rel} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"clip {clip_id}: {rel} is not a readable npz file ({exc})") from None


class ClipLoader:
    """Loads clips of a manifest (plus the rows of their parents) at one resolution and frame budget."""

    def __init__(
        self, root: Path, rows: pd.DataFrame, parents: pd.DataFrame, resolution: int, frames_per_clip: int
    ) -> None:
        self.root = Path(root)
        self.paths = dict(zip(parents["clip_id"].astype(str), parents["path"].astype(str)))
        self.paths.update(zip(rows["clip_id"].astype(str), rows["path"].astype(str)))
        self.resolution = resolution
        self.frames_per_clip = frames_per_clip

    def load(self, row: pd.Series) -> ClipInputs:
        """The clip of ``row``: poses from its own file, reference and frames from it or its parent."""
        clip_id = str(row["clip_id"])
        own = _load_npz(self.root, str(row["path"]), clip_id)
        if "pose" not in own:
            raise InputError(f"clip {clip_id}: {row['path']} has no 'pose' array")
        media = own
        parent = str(row.get("parent_clip_id") or "")
        if "reference" not in own and parent:
            if parent not in self.paths:
                raise InputError(f"clip {clip_id}: parent clip {parent} is not in the manifest")
            media = _load_npz(self.root, self.paths[parent], parent)
        if "reference" not in media:
            raise InputError(f"clip {clip_id}: no reference image in its file or its parent's")
        pose = own["pose"]
        # Ground truth fits unperturbed poses only: a perturbed copy no longer matches its parent's frames.
        frames = media["frames"] if "frames" in media and media is own else None
        reference = resize_square(media["reference"][None], self.resolution)[0]
        return clip_inputs(clip_id, reference, pose, layout_of(row), self.resolution, self.frames_per_clip,
                           active_frames(own, len(pose)), frames)


def clips_as_rows(clips: list[ClipInputs]) -> tuple[Triples, np.ndarray]:
    """The judged frames of ``clips`` as one row set and the clip index of every row (to store them)."""
    if not clips:
        raise ValueError("clips_as_rows: no clips")
    rows = Triples.concat([c.rows() for c in clips])
    return rows, np.concatenate([np.full(len(c.pose_maps), i) for i, c in enumerate(clips)])


def rows_as_clips(rows: Triples, group: np.ndarray, name: str) -> list[ClipInputs]:
    """Inverse of ``clips_as_rows`` (clip ids ``<name>#<index>``; targets are kept)."""
    out = []
    for i in np.unique(group):
        take = rows.take(np.nonzero(group == i)[0])
        out.append(ClipInputs(f"{name}#{int(i)}", take.reference[0], take.pose, take.target, take.keypoints[0],
                              take.frame))
    return out


META_COLUMNS = ["clip_id", "category", "label", "action", "yaw", "family", "level"]


def load_set(loader: ClipLoader, rows: pd.DataFrame) -> tuple[list[ClipInputs], pd.DataFrame, list[dict]]:
    """Load every row; a broken clip is skipped and reported as {clip_id, file, reason}, the rest proceed."""
    from tqdm import tqdm

    clips, keep, problems = [], [], []
    for i, row in tqdm(list(rows.iterrows()), desc="load clips", leave=False, mininterval=2.0):
        try:
            clips.append(loader.load(row))
            keep.append(i)
        except InputError as exc:
            problems.append({"clip_id": str(row["clip_id"]), "file": str(row["path"]), "reason": str(exc)})
    meta = rows.loc[keep].reindex(columns=META_COLUMNS).fillna({"family": "", "level": "", "action": ""})
    meta["clip_id"] = meta["clip_id"].astype(str)
    return clips, meta.reset_index(drop=True), problems
