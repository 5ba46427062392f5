"""Manifest rows -> generator training rows (reference, pose map, target frame, clip keypoints, frame index),
and their safetensors cache.

A ``Triples`` set holds uint8 images [N, H, W, 3] at the training resolution plus, per row, the posture-token
keypoints of its whole clip. Pose maps are rendered with the renderer of the row's landmark layout
(``safealign.layouts``, imported lazily: the GPU machine may lack cv2 extras). Clip files follow the pose
contract: ``pose`` [T, K, 4] (33 for bodies), ``frames`` [T, H, W, 3], ``reference`` [H, W, 3], optionally
``active`` bool [T] (the frames that show the action itself); an augmented clip reads frames and reference from
its parent's file (``parent_clip_id``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import torch

FIDELITY_LABELS = ("benign", "near_miss")
UNSAFE_LABEL = "unsafe"


@dataclass
class Triples:
    """Training rows of the generator. Images uint8 [N, H, W, 3]: reference, rendered pose map, target frame;
    ``keypoints`` float32 [N, T, J, 3]: the whole clip's posture-token keypoints (the layout's ``tokens``
    selection: x, y, visibility); ``frame`` int64 [N]: which frame of that clip the row shows; ``source``
    (optional): the true frame a degraded ``target`` was made from."""

    reference: np.ndarray
    pose: np.ndarray
    target: np.ndarray
    keypoints: np.ndarray
    frame: np.ndarray
    source: np.ndarray | None = None

    def __post_init__(self) -> None:
        shapes = [self.reference.shape, self.pose.shape, self.target.shape]
        if self.source is not None:
            shapes.append(self.source.shape)
        if len(set(shapes)) != 1:
            raise ValueError(f"Triples: shapes differ: {', '.join(map(str, shapes))}")
        if len(self.keypoints) != len(self.target) or len(self.frame) != len(self.target):
            raise ValueError(f"Triples: {len(self.target)} rows but {len(self.keypoints)} keypoint clips and "
                             f"{len(self.frame)} frame indices")

    def __len__(self) -> int:
        return len(self.target)

    def take(self, index: np.ndarray) -> "Triples":
        """Rows ``index`` (a batch)."""
        source = None if self.source is None else self.source[index]
        return Triples(self.reference[index], self.pose[index], self.target[index], self.keypoints[index],
                       self.frame[index], source)

    def with_target(self, target: np.ndarray, keep_source: bool = False) -> "Triples":
        """Same conditions, another target (e.g. the degraded frames); ``keep_source`` records the current
        target as ``source``."""
        source = self.target if keep_source else None
        return Triples(self.reference, self.pose, target, self.keypoints, self.frame, source)

    @staticmethod
    def empty(resolution: int, frames: int = 1, joints: int = 1) -> "Triples":
        z = np.zeros((0, resolution, resolution, 3), np.uint8)
        return Triples(z, z.copy(), z.copy(), np.zeros((0, frames, joints, 3), np.float32), np.zeros(0, np.int64))

    @property
    def clean(self) -> np.ndarray:
        """The frame each row's noised training input starts from: ``source`` where kept, else ``target``."""
        return self.target if self.source is None else self.source

    @staticmethod
    def concat(parts: Iterable["Triples"]) -> "Triples":
        """Rows of ``parts`` in order (clips of different lengths are padded to the longest with invisible
        keypoints); ``source`` is kept when any part has one (``clean`` of the others)."""
        parts = [p for p in parts if len(p)] or list(parts)[:1]
        keys = ("reference", "pose", "target")
        source = np.concatenate([p.clean for p in parts]) if any(p.source is not None for p in parts) else None
        length = max(p.keypoints.shape[1] for p in parts)
        keypoints = np.concatenate([pad_frames(p.keypoints, length) for p in parts])
        return Triples(*(np.concatenate([getattr(p, k) for p in parts]) for k in keys), keypoints,
                       np.concatenate([p.frame for p in parts]).astype(np.int64), source)


def pad_frames(keypoints: np.ndarray, length: int) -> np.ndarray:
    """Keypoint clips [N, T, J, 3] padded to ``length`` frames with invisible (all-zero) keypoints."""
    n, t = keypoints.shape[:2]
    if t >= length:
        return keypoints
    pad = np.zeros((n, length - t, *keypoints.shape[2:]), np.float32)
    return np.concatenate([keypoints, pad], axis=1)


@dataclass
class LoadReport:
    """Clips that could not be used, as (file, reason) pairs (the quarantine of this load)."""

    skipped: list[tuple[str, str]] = field(default_factory=list)


def resize_square(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 [N, H, W, 3] -> [N, size, size, 3]: letterbox (black bars) to a square, then area-resize."""
    images = np.asarray(images, dtype=np.uint8)
    n, h, w, _ = images.shape
    side = max(h, w)
    if h != w:
        padded = np.zeros((n, side, side, 3), np.uint8)
        top, left = (side - h) // 2, (side - w) // 2
        padded[:, top:top + h, left:left + w] = images
        images = padded
    if side == size:
        return images
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", antialias=side > size,
                                        align_corners=False)
    return x.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


def render_pose_maps(poses: np.ndarray, resolution: int, layout: str = "mediapipe33") -> np.ndarray:
    """Landmarks [T, K, 4] of ``layout`` (normalised x, y) -> condition maps uint8 [T, res, res, 3]: the
    OpenPose convention for MediaPipe-33 bodies, ``safealign.faces.render`` for the face layout."""
    from safealign.layouts import get_layout

    return get_layout(layout).render(poses, resolution, resolution)


def token_keypoints(poses: np.ndarray, layout: str = "mediapipe33") -> np.ndarray:
    """Landmarks [T, K, 4] of ``layout`` -> the posture-token keypoints [T, J, 3] the generator reads."""
    from safealign.layouts import get_layout

    return get_layout(layout).tokens.select(poses)


def layout_of(row: Mapping) -> str:
    """The landmark layout of a manifest row (column ``layout``; body manifests predate it)."""
    value = row.get("layout")
    return str(value) if isinstance(value, str) and value else "mediapipe33"


def frame_indices(n_frames: int, count: int, allowed: np.ndarray | None = None) -> np.ndarray:
    """``count`` evenly spaced frame indices of a clip (all of them when it is shorter); with ``allowed``
    (bool [n_frames]) only among those frames."""
    pool = np.arange(n_frames) if allowed is None else np.nonzero(np.asarray(allowed, bool)[:n_frames])[0]
    if count <= 0 or len(pool) <= count:
        return pool
    return pool[np.linspace(0, len(pool) - 1, count).round().astype(int)]


def load_clip_triples(rows: list[Mapping], root: str | Path, resolution: int, frames_per_clip: int,
                      report: LoadReport | None = None, active_only: bool = False) -> Triples:
    """Triples for manifest ``rows`` (dicts with clip_id, path, parent_clip_id); broken clips are reported.
    ``active_only``: only frames that show the action itself (the clip's ``active`` labels), e.g. the held
    salute of an unsafe clip and not its lead-in."""
    root = Path(root)
    report = report if report is not None else LoadReport()
    by_id = {str(r["clip_id"]): r for r in rows}
    parts = []
    for row in rows:
        try:
            parts.append(_clip_triples(row, by_id, root, resolution, frames_per_clip, active_only))
        except (OSError, KeyError, ValueError) as exc:
            report.skipped.append((str(root / str(row["path"])), f"{type(exc).__name__}: {exc}"))
    return Triples.concat(parts) if parts else Triples.empty(resolution)


def active_frames(clip: Mapping[str, np.ndarray], n_frames: int) -> np.ndarray:
    """The clip file's per-frame active labels (every frame where the file has none)."""
    if "active" in clip:
        active = np.asarray(clip["active"], bool)[:n_frames]
        if len(active) == n_frames:
            return active
    return np.ones(n_frames, bool)


def _clip_triples(row: Mapping, by_id: Mapping[str, Mapping], root: Path, resolution: int,
                  frames_per_clip: int, active_only: bool) -> Triples:
    with np.load(root / str(row["path"]), allow_pickle=False) as clip:
        own = {k: clip[k] for k in clip.files}
    pose = np.asarray(own["pose"], np.float32)
    if "frames" not in own:
        parent = by_id.get(str(row.get("parent_clip_id") or ""))
        if parent is None:
            raise KeyError(f"clip {row['clip_id']} has no frames and no parent clip with frames")
        with np.load(root / str(parent["path"]), allow_pickle=False) as clip:
            own["frames"], own["reference"] = np.asarray(clip["frames"]), np.asarray(clip["reference"])
    frames, reference = own["frames"], own["reference"]
    n = min(len(pose), len(frames))
    if n == 0:
        raise ValueError("clip has no frames")
    idx = frame_indices(n, frames_per_clip, active_frames(own, n) if active_only else None)
    if len(idx) == 0:
        raise ValueError("clip has no active frame")
    layout = layout_of(row)
    target = resize_square(frames[idx], resolution)
    ref = np.repeat(resize_square(reference[None], resolution), len(idx), axis=0)
    keypoints = np.repeat(token_keypoints(pose[:n], layout)[None], len(idx), axis=0)
    return Triples(ref, render_pose_maps(pose[idx], resolution, layout), target, keypoints,
                   idx.astype(np.int64))


def action_of(row: Mapping) -> str:
    """The action a manifest row shows (e.g. ``raised_arm_salute``; '' where unknown)."""
    value = row.get("action")
    return str(value) if isinstance(value, str) else ""


def read_manifest(path: str | Path) -> list[dict]:
    """Manifest parquet -> list of row dicts (pandas is imported here only; the GPU path never calls this)."""
    import pandas as pd

    from safealign.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: pose manifest not found (run the curate_poses stage first)")
    frame = pd.read_parquet(path)
    required = {"clip_id", "path", "label", "category", "split", "parent_clip_id"}
    missing = required - set(frame.columns)
    if missing:
        raise InputError(f"{path}: manifest lacks column(s) {', '.join(sorted(missing))}")
    return frame.to_dict("records")


def select(rows: list[Mapping], split: str, labels: Iterable[str] = (), category: str | None = None) -> list:
    """Rows of ``split`` with a label in ``labels`` (any when empty) and ``category`` (any when None)."""
    labels = set(labels)
    return [r for r in rows if r["split"] == split and (not labels or r["label"] in labels)
            and (category is None or r["category"] == category)]


def originals(rows: list[Mapping]) -> list:
    """Rows that are not augmented copies (their perturbed poses no longer match the parent's frames)."""
    return [r for r in rows if not str(r.get("parent_clip_id") or "")]


FIELDS = ("reference", "pose", "target", "keypoints", "frame", "source")


def save_triples(path: str | Path, sets: Mapping[str, Triples], groups: Mapping[str, np.ndarray] | None = None
                 ) -> None:
    """Write named Triples to one safetensors file (keys ``<name>.<field>``; no metadata, so identical
    content gives identical bytes and DVC keeps downstream stages cached). ``groups`` (optional, per set
    name): an int array [N] telling which clip each row belongs to (``load_groups``)."""
    from safetensors.numpy import save_file

    tensors = {f"{name}.{k}": np.ascontiguousarray(getattr(t, k))
               for name, t in sets.items() for k in FIELDS if getattr(t, k) is not None}
    tensors.update({f"{name}.group": np.ascontiguousarray(g, dtype=np.int64) for name, g in (groups or {}).items()})
    save_file(tensors, str(path))


def load_triples(path: str | Path) -> dict[str, Triples]:
    """Inverse of ``save_triples``."""
    from safetensors.numpy import load_file

    tensors = load_file(str(path))
    names = sorted({k.rsplit(".", 1)[0] for k in tensors})
    return {n: Triples(*(tensors[f"{n}.{k}"] for k in FIELDS[:5]), tensors.get(f"{n}.source")) for n in names}


def load_groups(path: str | Path) -> dict[str, np.ndarray]:
    """The per-row clip index of every set saved with ``groups``."""
    from safetensors.numpy import load_file

    return {k.rsplit(".", 1)[0]: v for k, v in load_file(str(path)).items() if k.endswith(".group")}
