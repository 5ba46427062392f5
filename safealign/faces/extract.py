"""MediaPipe FaceMesh landmarks of real face media, converted to the ``face140`` layout.

A video or image becomes one clip. ``raw`` [T, 140, 4] holds the landmarks normalised to the source frame;
``pose`` holds them re-centred on the square face framing of the embedded data (``align_face``, as Moore's
``adjust_pose`` re-centres driving landmarks on the reference face), so a real clip drives the generator at
the size and place it was trained on. Frames without a detected face are NaN with visibility 0.
Unreadable or corrupt files, and clips where a face is found in fewer than ``min_detected_fraction`` of
the frames, go to the quarantine list with the reason; the batch goes on.
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


FACE_CENTRE = (0.5, 0.52)   # where the synthetic faces sit (safealign.faces.model.HeadPose defaults)
FACE_HALF_HEIGHT = 0.34     # their mean half-height (face.synthesis.scale_range midpoint)


def align_face(pose: np.ndarray, width: int, height: int, centre: tuple[float, float] = FACE_CENTRE,
               half_height: float = FACE_HALF_HEIGHT) -> np.ndarray:
    """Frame-normalised landmarks [T, 140, 4] of a ``width`` x ``height`` source -> the square face framing.

    One similarity for the whole clip (head motion is kept): the median face centre (nose bridge + tip)
    goes to ``centre`` and the median oval half-height to ``half_height``; pixels stay square.
    """
    from safealign.faces.layout import CENTRE, PARTS

    px = np.asarray(pose, np.float64)[..., :2] * [width, height]
    if not np.isfinite(px).any():
        return np.asarray(pose, np.float32).copy()
    c = np.nanmedian(px[:, list(CENTRE)].mean(axis=1), axis=0)
    oval_y = px[:, list(PARTS["oval"]), 1]
    size = np.nanmedian((np.nanmax(oval_y, axis=1) - np.nanmin(oval_y, axis=1)) / 2)
    out = np.asarray(pose, np.float32).copy()
    out[..., :2] = np.asarray(centre) + (px - c) / max(size, 1e-6) * half_height
    out[..., 2] = pose[..., 2] * width / max(size, 1e-6) * half_height
    return out


@dataclass
class ExtractedFace:
    """Face landmarks of one input file."""

    source: str
    kind: str                 # video | image
    pose: np.ndarray          # float32 [T, 140, 4], aligned to the square face framing (``align_face``)
    raw: np.ndarray           # float32 [T, 140, 4], normalised to the source frame
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
    raw = mesh_to_layout(mesh, found.astype(np.float32))
    return ExtractedFace(str(path), kind, align_face(raw, width, height), raw, found, float(fps), int(width),
                         int(height))


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
    """Manifest row of a real face clip: benign real motion, evaluation only (no ground-truth frames);
    ``width``/``height`` are the source's (``pose`` itself is in the square face framing)."""
    return {"clip_id": clip_id, "source": "extracted", "subject": f"real:{clip_id}", "category": "benign",
            "label": "benign", "action": f"real:{clip_id}", "path": path, "parent_clip_id": "",
            "augmentation": "", "split": "test", "fps": clip.fps, "width": clip.width, "height": clip.height,
            "n_frames": len(clip.pose), "visible_fraction": float(clip.detected.mean()),
            "layout": LAYOUT_NAME,
            "source_path": clip.source, "kind": clip.kind, "detection_rate": float(clip.detected.mean())}
