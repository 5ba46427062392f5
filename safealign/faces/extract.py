"""MediaPipe FaceMesh landmarks of real face media, converted to the ``face140`` layout.

A video or image becomes one clip (``pose`` [T, 140, 4]; frames without a detected face are NaN with
visibility 0). Unreadable or corrupt files, and clips where a face is found in fewer than
``min_detected_fraction`` of the frames, go to the quarantine list with the reason; the batch goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from safealign.errors import InputError
from safealign.faces.layout import LAYOUT_NAME, mesh_to_layout
from safealign.poses.manifest import MANIFEST_COLUMNS
from safealign.poses.quarantine import QuarantineEntry
from safealign.poses.topology import FACE_N_REFINED
from safealign.video.io import iter_video, media_kind, probe_video, read_image

EXTRACTED_COLUMNS = [*MANIFEST_COLUMNS, "layout", "source_path", "kind", "detection_rate"]


@dataclass
class ExtractedFace:
    """Face landmarks of one input file."""

    source: str
    kind: str                 # video | image
    pose: np.ndarray          # float32 [T, 140, 4]
    detected: np.ndarray      # bool [T]
    fps: float
    width: int
    height: int


def _mesh_frames(frames, static: bool, min_confidence: float) -> tuple[np.ndarray, np.ndarray]:
    import mediapipe as mp

    meshes, found = [], []
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=static, max_num_faces=1, refine_landmarks=True,
                                         min_detection_confidence=min_confidence) as mesh:
        for rgb in frames:
            faces = mesh.process(np.ascontiguousarray(rgb)).multi_face_landmarks
            found.append(bool(faces))
            meshes.append(np.array([(p.x, p.y, p.z) for p in faces[0].landmark], np.float32) if faces
                          else np.full((FACE_N_REFINED, 3), np.nan, np.float32))
    if not meshes:
        raise InputError("no frames could be decoded")
    return np.stack(meshes), np.array(found, bool)


def extract_face_file(path: str | Path, max_frames: int | None, min_confidence: float,
                      min_detected: float) -> ExtractedFace:
    """Landmarks of one file; ``InputError`` with the reason when it cannot be used."""
    path = Path(path)
    kind = media_kind(path)
    if kind == "image":
        rgb = read_image(path)
        mesh, found = _mesh_frames([rgb], True, min_confidence)
        fps, width, height = 0.0, rgb.shape[1], rgb.shape[0]
    elif kind == "video":
        _, fps, width, height = probe_video(path)
        mesh, found = _mesh_frames(iter_video(path, max_frames), False, min_confidence)
    else:
        raise InputError(f"unsupported file type '{path.suffix}'")
    if found.mean() < min_detected:
        raise InputError(f"a face was found in {int(found.sum())} of {len(found)} frames "
                         f"(< min_detected_fraction {min_detected})")
    return ExtractedFace(str(path), kind, mesh_to_layout(mesh, found.astype(np.float32)), found, float(fps),
                         int(width), int(height))


def extract_faces(files: list[Path], max_frames: int | None, min_confidence: float, min_detected: float
                  ) -> tuple[list[ExtractedFace], list[QuarantineEntry]]:
    """Every usable file's landmarks, and the quarantine entries of the others."""
    import cv2
    from tqdm import tqdm

    clips, refused = [], []
    for f in tqdm(files, desc="extract faces", leave=False):
        try:
            clips.append(extract_face_file(f, max_frames, min_confidence, min_detected))
        except (InputError, OSError, ValueError, cv2.error) as exc:
            refused.append(QuarantineEntry(file=str(f), reason=str(exc).removeprefix(f"{f}: ")))
    return clips, refused


def manifest_row(clip: ExtractedFace, clip_id: str, path: str) -> dict:
    """Manifest row of a real face clip: benign real motion, evaluation only (no ground-truth frames)."""
    return {"clip_id": clip_id, "source": "extracted", "subject": f"real:{clip_id}", "category": "benign",
            "label": "benign", "action": f"real:{clip_id}", "path": path, "parent_clip_id": "",
            "augmentation": "", "split": "test", "fps": clip.fps, "width": clip.width, "height": clip.height,
            "n_frames": len(clip.pose), "visible_fraction": float(clip.detected.mean()), "layout": LAYOUT_NAME,
            "source_path": clip.source, "kind": clip.kind, "detection_rate": float(clip.detected.mean())}
