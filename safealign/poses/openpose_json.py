"""OpenPose JSON (one file per frame, as OpenPose and DWPose tools emit) <-> MediaPipe-33 pose arrays.

A frame file is ``{"version": 1.3, "people": [{"pose_keypoints_2d": [x0, y0, c0, ... x17, y17, c17]}]}`` in
pixel coordinates, BODY-18 order; a missing point is ``0, 0, 0`` and a frame without a person has no people.
Frames are named ``<prefix>_<frame:012d>_keypoints.json`` (OpenPose's own naming) so that they sort in order.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from safealign.atomic import atomic_dir
from safealign.errors import InputError, shorten, user_input
from safealign.poses.convert import mediapipe_to_openpose18, openpose18_to_mediapipe
from safealign.poses.topology import N_OPENPOSE18, OPENPOSE_THRESHOLD

OPENPOSE_JSON_VERSION = 1.3


def keypoints_to_person(keypoints: np.ndarray, width: int, height: int) -> dict | None:
    """``[18, 3]`` normalised OpenPose-18 -> one ``people`` entry in pixels (None when no point is there)."""
    kp = np.asarray(keypoints, dtype=np.float64)
    present = np.isfinite(kp[:, :2]).all(axis=1) & (np.nan_to_num(kp[:, 2]) > 0)
    if not present.any():
        return None
    flat = np.zeros((N_OPENPOSE18, 3))
    flat[present] = kp[present] * np.array([width, height, 1.0])
    return {"person_id": [-1], "pose_keypoints_2d": [round(float(v), 3) for v in flat.ravel()],
            "face_keypoints_2d": [], "hand_left_keypoints_2d": [], "hand_right_keypoints_2d": []}


def person_to_keypoints(person: dict, width: int, height: int, where: str = "") -> np.ndarray:
    """One ``people`` entry in pixels -> ``[18, 3]`` normalised OpenPose-18 (missing = NaN, confidence 0)."""
    if not isinstance(person, dict):
        raise InputError(f"{where}: each entry of 'people' must be an object with pose_keypoints_2d, "
                         f"received {shorten(person)} ({type(person).__name__})")
    values = person.get("pose_keypoints_2d")
    if not isinstance(values, list) or len(values) != N_OPENPOSE18 * 3:
        got = len(values) if isinstance(values, list) else type(values).__name__
        raise InputError(f"{where}: pose_keypoints_2d must hold {N_OPENPOSE18 * 3} numbers (BODY-18), "
                         f"got {got}")
    bad = next((v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))), None)
    if bad is not None:
        raise InputError(f"{where}: pose_keypoints_2d must hold numbers, received {shorten(bad)} "
                         f"({type(bad).__name__})")
    kp = np.asarray(values, dtype=np.float64).reshape(N_OPENPOSE18, 3)
    out = kp / np.array([width, height, 1.0])
    out[kp[:, 2] <= 0] = [np.nan, np.nan, 0.0]
    return out.astype(np.float32)


def write_openpose_json(out_dir: str | Path, poses: np.ndarray, width: int, height: int,
                        prefix: str = "frame", threshold: float = OPENPOSE_THRESHOLD) -> list[Path]:
    """Write ``[T, 33, 4]`` MediaPipe poses as one OpenPose JSON file per frame into ``out_dir`` (atomic).

    Points at or below ``threshold`` stay in the file with their score (OpenPose keeps low scores); a frame
    without any landmark is written with an empty ``people`` list.
    """
    keypoints = mediapipe_to_openpose18(poses, threshold)
    names = []
    with atomic_dir(out_dir) as tmp:
        for t, kp in enumerate(keypoints):
            person = keypoints_to_person(kp, width, height)
            doc = {"version": OPENPOSE_JSON_VERSION, "people": [person] if person else []}
            name = f"{prefix}_{t:012d}_keypoints.json"
            (tmp / name).write_text(json.dumps(doc), encoding="utf-8")
            names.append(name)
    return [Path(out_dir) / n for n in names]


def _frame_files(source: str | Path) -> list[Path]:
    source = Path(source)
    if source.is_file():
        return [source]
    # links are not frames: reading through one would take a file from outside the folder
    files = sorted(p for p in source.glob("*.json") if p.is_file() and not p.is_symlink()) if source.is_dir() else []
    if not files:
        raise InputError(f"{source}: no OpenPose JSON files found (expected one *_keypoints.json per frame)")
    return files


def read_openpose18_json(source: str | Path, width: int, height: int) -> np.ndarray:
    """A directory of per-frame OpenPose JSON files (or one file) -> ``[T, 18, 3]`` normalised keypoints.

    With several people in a frame the one with the highest mean score is kept (DWPose single-person mode);
    a frame with no people is all NaN with confidence 0.
    """
    frames = []
    for path in _frame_files(source):
        with user_input(path):
            doc = json.loads(path.read_text(encoding="utf-8"))
        people = doc.get("people") if isinstance(doc, dict) else None
        if not isinstance(people, list):
            raise InputError(f"{path}: missing 'people' list")
        candidates = [person_to_keypoints(p, width, height, f"{path}: people[{k}]") for k, p in enumerate(people)]
        if candidates:
            frames.append(max(candidates, key=lambda kp: float(kp[:, 2].mean())))
        else:
            empty = np.full((N_OPENPOSE18, 3), np.nan, np.float32)
            empty[:, 2] = 0.0
            frames.append(empty)
    return np.stack(frames)


def read_openpose_json(source: str | Path, width: int, height: int) -> np.ndarray:
    """A directory of per-frame OpenPose JSON files (or one file) -> ``[T, 33, 4]`` MediaPipe layout."""
    return openpose18_to_mediapipe(read_openpose18_json(source, width, height))
