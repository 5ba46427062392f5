"""Face driving input for ``safealign animate --faces``: a face clip file or real media -> face140 landmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from safealign.errors import InputError


def face_landmarks(source: str | Path, max_frames: int | None,
                   min_detected: float = 0.5) -> tuple[np.ndarray, float | None]:
    """face140 landmarks float32 [T, 140, 4] and the source fps (None when it has none).

    ``source``: a face clip ``.npz`` (key ``pose`` [T, 140, 4], e.g. from extract_faces / synthesize_faces)
    or a video / image, whose MediaPipe FaceMesh landmarks are extracted and aligned to the face framing.
    """
    from safealign.faces.extract import extract_face_file
    from safealign.faces.layout import N_POINTS
    from safealign.poses.pose_file import load_pose_npz
    from safealign.video.io import media_kind

    source = Path(source)
    if not source.is_file():
        raise InputError(f"--faces {source}: no such file")
    fps: float | None = None
    if source.suffix.lower() == ".npz":
        pose = load_pose_npz(source, f"--faces {source}", landmarks=N_POINTS)["pose"]
    elif media_kind(source) in ("video", "image"):
        clip = extract_face_file(source, max_frames, 0.5, min_detected)
        pose, fps = clip.pose, (clip.fps or None)
    else:
        raise InputError(f"--faces {source}: expected a face clip .npz, a video or an image")
    pose = pose[:max_frames] if max_frames else pose
    if len(pose) == 0:
        raise InputError(f"--faces {source}: no frames")
    return pose, fps
