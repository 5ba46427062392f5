"""MediaPipe pose (and optional face-mesh) landmarks for every frame of videos and images.

Uses the legacy ``mp.solutions`` API of mediapipe 0.10.14, whose wheel ships the models (env.md section 2):
``model_complexity=1`` only, static mode for images, tracking for videos. A frame without a person is NaN
with visibility 0 and ``detected = False``. Files that cannot be used become ``QuarantineEntry`` objects
instead of exceptions, so one bad file never stops a batch. Each clip is independent, so a batch runs in
parallel over clips (``parallel_map``: spawn pool or Dask) with results identical to a serial run.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

import numpy as np

from safealign.errors import InputError, SafealignError, format_error, user_input
from safealign.poses.manifest import visible_fraction
from safealign.poses.parallel import parallel_map, prefetched
from safealign.poses.quarantine import QuarantineEntry
from safealign.poses.topology import FACE_N_REFINED, N_MP33
from safealign.video.io import (IMAGE_SUFFIXES, MAX_PIXELS, VIDEO_SUFFIXES, iter_video, media_kind, probe_video,
                                read_image)

VISIBLE = 0.5   # a landmark counts as visible from this MediaPipe visibility on (for visible_fraction)


@dataclass(frozen=True)
class ExtractOptions:
    """What to extract and the limits on the input."""

    face: bool = False                   # also run the face mesh (478 refined landmarks per frame)
    max_frames: int | None = None        # keep only the first frames of each video (None = all)
    max_pixels: int = MAX_PIXELS         # refuse larger images / video frames (decompression bombs)
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5


@dataclass
class ExtractedClip:
    """Landmarks of one input file (a video, or an image as a one-frame clip)."""

    source: str
    kind: str                            # "video" | "image"
    pose: np.ndarray                     # float32 [T, 33, 4]: x, y normalised, z, visibility; NaN if missing
    detected: np.ndarray                 # bool [T]: a person was found in the frame
    fps: float
    width: int
    height: int
    face: np.ndarray | None = field(default=None)   # float32 [T, 478, 3] or None

    @property
    def detection_rate(self) -> float:
        """Fraction of frames with a person."""
        return float(self.detected.mean()) if len(self.detected) else 0.0

    @property
    def visible_fraction(self) -> float:
        """Fraction of all (frame, landmark) entries present with visibility >= ``VISIBLE``."""
        return visible_fraction(self.pose, VISIBLE)


def _missing(shape: tuple[int, ...], visibility: bool) -> np.ndarray:
    out = np.full(shape, np.nan, np.float32)
    if visibility:
        out[..., 3] = 0.0
    return out


class LandmarkDetector:
    """One MediaPipe Pose (+ FaceMesh) graph; ``static`` for independent images, tracking otherwise."""

    def __init__(self, static: bool, options: ExtractOptions) -> None:
        import warnings

        import mediapipe as mp

        # mediapipe 0.10.14 calls a protobuf API its pinned protobuf deprecates (harmless, env.md section 2)
        warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)

        self.pose = mp.solutions.pose.Pose(
            static_image_mode=static, model_complexity=1,
            min_detection_confidence=options.min_detection_confidence,
            min_tracking_confidence=options.min_tracking_confidence)
        self.face = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=static, max_num_faces=1, refine_landmarks=True,
            min_detection_confidence=options.min_detection_confidence,
            min_tracking_confidence=options.min_tracking_confidence) if options.face else None

    def __call__(self, rgb: np.ndarray) -> tuple[np.ndarray, bool, np.ndarray | None]:
        """RGB uint8 frame -> (pose [33, 4], person found, face [478, 3] or None)."""
        result = self.pose.process(rgb)
        if result.pose_landmarks is None:
            pose, found = _missing((N_MP33, 4), visibility=True), False
        else:
            marks = result.pose_landmarks.landmark
            pose = np.array([(p.x, p.y, p.z, p.visibility) for p in marks], np.float32)
            found = True
        face = None
        if self.face is not None:
            faces = self.face.process(rgb).multi_face_landmarks
            face = (np.array([(p.x, p.y, p.z) for p in faces[0].landmark], np.float32) if faces
                    else _missing((FACE_N_REFINED, 3), visibility=False))
        return pose, found, face

    def close(self) -> None:
        """Release the MediaPipe graphs."""
        self.pose.close()
        if self.face is not None:
            self.face.close()

    def __enter__(self) -> "LandmarkDetector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def extract_frames(frames: Iterable[np.ndarray], static: bool, options: ExtractOptions
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Landmarks of a frame sequence -> (pose [T, 33, 4], detected [T], face [T, 478, 3] or None)."""
    poses, found, faces = [], [], []
    with LandmarkDetector(static, options) as detect:
        for rgb in frames:
            pose, ok, face = detect(np.ascontiguousarray(rgb))
            poses.append(pose)
            found.append(ok)
            faces.append(face)
    pose_arr = np.stack(poses) if poses else np.zeros((0, N_MP33, 4), np.float32)
    face_arr = np.stack(faces) if options.face and faces else None
    return pose_arr, np.array(found, dtype=bool), face_arr


def extract_file(path: str | Path, options: ExtractOptions) -> ExtractedClip:
    """Landmarks of one video or image file; ``InputError`` (with the reason) when it cannot be used."""
    path = Path(path)
    kind = media_kind(path)
    if kind == "other":
        known = ", ".join(sorted(VIDEO_SUFFIXES | IMAGE_SUFFIXES))
        raise InputError(f"{path}: unsupported file type '{path.suffix}' (expected one of {known})")
    if kind == "image":
        rgb = read_image(path, max_pixels=options.max_pixels)
        pose, detected, face = extract_frames([rgb], static=True, options=options)
        if not detected.any():
            raise InputError(f"{path}: no person detected in the image")
        return ExtractedClip(str(path), kind, pose, detected, 0.0, rgb.shape[1], rgb.shape[0], face)
    _, fps, width, height = probe_video(path)
    if width * height > options.max_pixels:
        raise InputError(f"{path}: video frames too large: {width}x{height} "
                         f"> max_pixels {options.max_pixels}")
    pose, detected, face = extract_frames(prefetched(iter_video(path, options.max_frames)), False, options)
    if not detected.any():
        raise InputError(f"{path}: no person detected in any of its {len(detected)} frames")
    return ExtractedClip(str(path), kind, pose, detected, fps, width, height, face)


def extract_job(job: tuple[str, ExtractOptions]) -> ExtractedClip | QuarantineEntry:
    """Worker entry point (top level, picklable): a clip, or the quarantine entry saying why not."""
    path, options = job
    try:
        with user_input(path):
            return extract_file(path, options)
    except SafealignError as exc:
        reason = format_error(exc).removeprefix(f"{path}: ")
        return QuarantineEntry(file=path, reason=reason)


def find_shared_media(root: Path, shared_data: str, inputs: Iterable[str], stage: str,
                      ) -> tuple[list[Path], list[QuarantineEntry], list[Path], str]:
    """Media under the shared data folder: (files, quarantined, input paths to hash, note).

    An absent shared folder is not an error (CI without ../shared): no files and a note saying so.
    """
    shared = (root / shared_data).resolve()
    if not shared.is_dir():
        note = f"shared data folder {shared} is absent: nothing extracted, empty manifest written"
        print(f"{stage}: {note}", file=sys.stderr)
        return [], [], [], note
    inputs = list(inputs)
    files, missing = find_media(os.path.relpath(shared / item, root) for item in inputs)
    return files, missing, [shared / item for item in inputs], ""


def find_media(inputs: Iterable[str | Path]) -> tuple[list[Path], list[QuarantineEntry]]:
    """Expand files and directories (recursively, sorted, hidden files skipped) into input files.

    A path that does not exist is quarantined rather than stopping the batch.
    """
    files: list[Path] = []
    missing: list[QuarantineEntry] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file()
                         and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.exists():
            files.append(path)
        else:
            missing.append(QuarantineEntry(file=str(path), reason="input path not found"))
    unique = list(dict.fromkeys(files))
    return unique, missing


def clip_ids(files: list[Path]) -> list[str]:
    """Readable unique ids from file stems (``dance_a``; a repeated stem gets ``_2``, ``_3``...)."""
    ids: list[str] = []
    for path in files:
        base = re.sub(r"[^A-Za-z0-9_-]+", "_", path.stem).strip("_") or "clip"
        clip_id, n = base, 1
        while clip_id in ids:
            n += 1
            clip_id = f"{base}_{n}"
        ids.append(clip_id)
    return ids


def extract_batch(files: list[Path], options: ExtractOptions, workers: int = 1, dask_address: str = "",
                  dask_workers: int = 0) -> list[ExtractedClip | QuarantineEntry]:
    """Extract every file (in input order), in parallel over files; bad files come back as quarantine.

    Workers get absolute paths (a Dask worker may run elsewhere on a shared filesystem); results name the
    files as they were given.
    """
    jobs = [(str(Path(f).resolve()), options) for f in files]
    results = parallel_map(extract_job, jobs, workers=workers, dask_address=dask_address,
                           dask_workers=dask_workers, desc="extract poses")
    return [replace(r, source=str(f)) if isinstance(r, ExtractedClip) else replace(r, file=str(f))
            for r, f in zip(results, files)]


def save_clip(path: str | Path, clip: ExtractedClip) -> Path:
    """Write a clip file (contract: ``pose`` [T,33,4], optional ``face``; plus ``detected``), atomically."""
    from safealign.atomic import atomic_path

    arrays = {"pose": clip.pose.astype(np.float32), "detected": clip.detected}
    if clip.face is not None:
        arrays["face"] = clip.face.astype(np.float32)
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    return Path(path)


def label_of(category: str) -> str:
    """Manifest label of a category: benign / near_miss keep their name, every other category is unsafe."""
    return category if category in ("benign", "near_miss") else "unsafe"


def manifest_row(clip: ExtractedClip, clip_id: str, clip_path: str, category: str = "benign") -> dict:
    """One manifest row (pose_contract.md columns + source_path, kind, detection_rate, has_face)."""
    return {
        "clip_id": clip_id, "source": "extracted", "subject": clip_id, "category": category,
        "label": label_of(category), "action": "", "path": clip_path, "parent_clip_id": "",
        "augmentation": "",
        "split": "", "fps": float(clip.fps), "width": int(clip.width), "height": int(clip.height),
        "n_frames": int(len(clip.pose)), "visible_fraction": clip.visible_fraction,
        "source_path": clip.source, "kind": clip.kind, "detection_rate": clip.detection_rate,
        "has_face": clip.face is not None,
    }
