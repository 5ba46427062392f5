"""Manifest rows -> (reference, pose map, target) triples, and their safetensors cache.

A ``Triples`` set holds uint8 arrays [N, H, W, 3] at the training resolution. Pose maps are rendered with the
renderer of the row's landmark layout (``safealign.layouts``, imported lazily: the GPU machine may lack cv2
extras). Clip files follow the pose contract: ``pose`` [T, K, 4] (33 for bodies), ``frames`` [T, H, W, 3],
``reference`` [H, W, 3]; an augmented clip reads frames and reference from its parent's file
(``parent_clip_id``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import numpy as np
import torch

FIDELITY_LABELS = ("benign", "near_miss")
UNSAFE_LABEL = "unsafe"


@dataclass
class Triples:
    """Aligned uint8 arrays [N, H, W, 3]: reference image, rendered pose map, target frame; ``source``
    (optional) is the true frame a degraded ``target`` was made from; ``landmarks`` (optional, float32
    [N, K, C], not saved) are the landmarks the pose map was rendered from."""

    reference: np.ndarray
    pose: np.ndarray
    target: np.ndarray
    source: np.ndarray | None = None
    landmarks: np.ndarray | None = None

    def __post_init__(self) -> None:
        shapes = [self.reference.shape, self.pose.shape, self.target.shape]
        if self.source is not None:
            shapes.append(self.source.shape)
        if len(set(shapes)) != 1:
            raise ValueError(f"Triples: shapes differ: {', '.join(map(str, shapes))}")

    def __len__(self) -> int:
        return len(self.target)

    def take(self, index: np.ndarray) -> "Triples":
        """Rows ``index`` (a batch)."""
        source = None if self.source is None else self.source[index]
        landmarks = None if self.landmarks is None else self.landmarks[index]
        return Triples(self.reference[index], self.pose[index], self.target[index], source, landmarks)

    def with_target(self, target: np.ndarray, keep_source: bool = False) -> "Triples":
        """Same references and poses, another target (e.g. the degraded frames); ``keep_source`` records the
        current target as ``source``."""
        source = self.target if keep_source else None
        return Triples(self.reference, self.pose, target, source, self.landmarks)

    @staticmethod
    def empty(resolution: int) -> "Triples":
        z = np.zeros((0, resolution, resolution, 3), np.uint8)
        return Triples(z, z.copy(), z.copy())

    @property
    def clean(self) -> np.ndarray:
        """The frame each row's noised training input starts from: ``source`` where kept, else ``target``."""
        return self.target if self.source is None else self.source

    @staticmethod
    def concat(parts: Iterable["Triples"]) -> "Triples":
        """Rows of ``parts`` in order; ``source`` is kept when any part has one (``clean`` of the others),
        ``landmarks`` when every part has them in one layout."""
        parts = list(parts)
        keys = ("reference", "pose", "target")
        source = np.concatenate([p.clean for p in parts]) if any(p.source is not None for p in parts) else None
        return Triples(*(np.concatenate([getattr(p, k) for p in parts]) for k in keys), source,
                       _concat_landmarks(parts))

    def poses_only(self) -> "PoseFrames":
        """The pose maps and landmarks alone (a third of the memory: no reference or target images)."""
        return PoseFrames(self.pose, self.landmarks)


@dataclass
class PoseFrames:
    """Rendered pose maps uint8 [N, H, W, 3] and the landmarks they came from (optional, [N, K, C]): what a
    consumer of poses alone needs (the separability classifier), without the images of ``Triples``."""

    pose: np.ndarray
    landmarks: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.pose)

    @staticmethod
    def empty(resolution: int) -> "PoseFrames":
        return PoseFrames(np.zeros((0, resolution, resolution, 3), np.uint8))

    @staticmethod
    def concat(parts: Iterable["PoseFrames"]) -> "PoseFrames":
        """Rows of ``parts`` in order; ``landmarks`` as in ``Triples.concat``."""
        parts = list(parts)
        return PoseFrames(np.concatenate([p.pose for p in parts]), _concat_landmarks(parts))


def _concat_landmarks(parts: list[Triples] | list[PoseFrames]) -> np.ndarray | None:
    """The parts' landmarks stacked when every non-empty part has them in one layout, else None."""
    filled = [p for p in parts if len(p)]  # an empty part (a clip that failed to load) has no layout
    shapes = {None if p.landmarks is None else p.landmarks.shape[1:] for p in filled}
    return np.concatenate([p.landmarks for p in filled]) if len(shapes) == 1 and None not in shapes else None


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


def layout_of(row: Mapping) -> str:
    """The landmark layout of a manifest row (column ``layout``; body manifests predate it)."""
    value = row.get("layout")
    return str(value) if isinstance(value, str) and value else "mediapipe33"


def frame_indices(n_frames: int, count: int) -> np.ndarray:
    """``count`` evenly spaced frame indices of a clip (all of them when it is shorter)."""
    if count <= 0 or n_frames <= count:
        return np.arange(n_frames)
    return np.linspace(0, n_frames - 1, count).round().astype(int)


def load_clip_triples(rows: list[Mapping], root: str | Path, resolution: int, frames_per_clip: int,
                      report: LoadReport | None = None) -> Triples:
    """Triples for manifest ``rows`` (dicts with clip_id, path, parent_clip_id); broken clips are reported."""
    parts = list(_clip_parts(rows, root, resolution, frames_per_clip, report))
    return Triples.concat(parts) if parts else Triples.empty(resolution)


def load_clip_poses(rows: list[Mapping], root: str | Path, resolution: int, frames_per_clip: int,
                    report: LoadReport | None = None) -> PoseFrames:
    """The pose maps and landmarks ``load_clip_triples`` gives for ``rows`` (the same frames), without keeping
    any image: each clip's images are dropped before the next clip is read, so 256-px sets fit in memory."""
    parts = [t.poses_only() for t in _clip_parts(rows, root, resolution, frames_per_clip, report)]
    return PoseFrames.concat(parts) if parts else PoseFrames.empty(resolution)


def _clip_parts(rows: list[Mapping], root: str | Path, resolution: int, frames_per_clip: int,
                report: LoadReport | None) -> Iterator[Triples]:
    root = Path(root)
    report = report if report is not None else LoadReport()
    by_id = {str(r["clip_id"]): r for r in rows}
    for row in rows:
        path = root / str(row["path"])
        try:
            yield _clip_triples(row, by_id, root, resolution, frames_per_clip)
        except (OSError, KeyError, ValueError) as exc:
            report.skipped.append((str(path), f"{type(exc).__name__}: {exc}"))


def _clip_triples(row: Mapping, by_id: Mapping[str, Mapping], root: Path, resolution: int,
                  frames_per_clip: int) -> Triples:
    with np.load(root / str(row["path"]), allow_pickle=False) as clip:
        pose = np.asarray(clip["pose"], np.float32)
        source = clip if "frames" in clip.files else None
        frames = np.asarray(source["frames"]) if source is not None else None
        reference = np.asarray(source["reference"]) if source is not None else None
    if frames is None:
        parent = by_id.get(str(row.get("parent_clip_id") or ""))
        if parent is None:
            raise KeyError(f"clip {row['clip_id']} has no frames and no parent clip with frames")
        with np.load(root / str(parent["path"]), allow_pickle=False) as clip:
            frames, reference = np.asarray(clip["frames"]), np.asarray(clip["reference"])
    n = min(len(pose), len(frames))
    if n == 0:
        raise ValueError("clip has no frames")
    idx = frame_indices(n, frames_per_clip)
    target = resize_square(frames[idx], resolution)
    ref = np.repeat(resize_square(reference[None], resolution), len(idx), axis=0)
    return Triples(ref, render_pose_maps(pose[idx], resolution, layout_of(row)), target, landmarks=pose[idx])


def action_of(row: Mapping) -> str:
    """The action a manifest row shows (e.g. ``raised_arm_salute``; '' where unknown)."""
    value = row.get("action")
    return str(value) if isinstance(value, str) else ""


def load_by_action(rows: list[Mapping], root: str | Path, resolution: int, frames_per_clip: int,
                   report: LoadReport | None = None, poses_only: bool = False,
                   ) -> tuple[Triples | PoseFrames, np.ndarray, list[str]]:
    """Triples of ``rows`` grouped by action (sorted names), the action index of every frame, the names. An
    augmented copy finds its parent among its own action's rows. ``poses_only``: PoseFrames instead."""
    names = sorted({action_of(r) for r in rows})
    load, kind = (load_clip_poses, PoseFrames) if poses_only else (load_clip_triples, Triples)
    parts = [load([r for r in rows if action_of(r) == name], root, resolution, frames_per_clip, report)
             for name in names]
    index = np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)]) if parts else np.zeros(0, int)
    return (kind.concat(parts) if parts else kind.empty(resolution)), index, names


def balanced_index(groups: np.ndarray) -> np.ndarray:
    """Row indices in which every group (``groups`` [N] labels) appears as often as the largest one: a smaller
    group's rows are repeated in turn (the first rows once more when it does not divide)."""
    groups = np.asarray(groups)
    members = [np.nonzero(groups == g)[0] for g in np.unique(groups)]
    size = max((len(m) for m in members), default=0)
    return np.concatenate([np.resize(m, size) for m in members]) if members else np.zeros(0, int)


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


def save_triples(path: str | Path, sets: Mapping[str, Triples]) -> None:
    """Write named Triples to one safetensors file (keys ``<name>.reference|pose|target``; no metadata, so
    identical content gives identical bytes and DVC keeps downstream stages cached)."""
    from safetensors.numpy import save_file

    tensors = {f"{name}.{k}": np.ascontiguousarray(getattr(t, k))
               for name, t in sets.items() for k in ("reference", "pose", "target", "source")
               if getattr(t, k) is not None}
    save_file(tensors, str(path))


def load_triples(path: str | Path) -> dict[str, Triples]:
    """Inverse of ``save_triples``."""
    from safetensors.numpy import load_file

    tensors = load_file(str(path))
    names = sorted({k.rsplit(".", 1)[0] for k in tensors})
    return {n: Triples(*(tensors[f"{n}.{k}"] for k in ("reference", "pose", "target")), tensors.get(f"{n}.source"))
            for n in names}
