"""Read and check a pose clip from a user: the ``.npz`` file and the ``[T, K, 4]`` landmark array in it.

Shared by ``flag-pose``, ``animate`` and the flagged-clip reader, so that a wrong shape, an object array, an
all-NaN clip or coordinates off the canvas are refused with the same one-line message everywhere.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from safealign.errors import InputError, user_input
from safealign.poses.topology import N_MP33

POSE_CHANNELS = 4  # x, y (normalised to the canvas), z, visibility (pose_contract.md)


def load_pose_npz(path: str | Path, where: str = "", landmarks: int = N_MP33) -> dict[str, np.ndarray]:
    """Every array of a pose ``.npz`` (pickles refused), its ``pose`` checked by ``check_pose``.

    ``where`` names the input in messages (default: the path), e.g. ``--poses clip.npz``.
    """
    where = where or str(path)
    if Path(path).is_file() and not zipfile.is_zipfile(path):  # np.load would try it as a pickle
        raise InputError(f"{where}: not a readable .npz file (not a zip archive of arrays)")
    with user_input(where), np.load(path, allow_pickle=False) as data:
        arrays = {key: _numeric(data, key, where) for key in data.files}
    if "pose" not in arrays:
        raise InputError(f"{where}: no 'pose' array (keys: {sorted(arrays) or 'none'}); "
                         f"expected pose [T, {landmarks}, {POSE_CHANNELS}]")
    arrays["pose"] = check_pose(arrays["pose"], where, landmarks)
    return arrays


def _numeric(data: np.lib.npyio.NpzFile, key: str, where: str) -> np.ndarray:
    try:
        return data[key]
    except ValueError as exc:
        if "allow_pickle" not in str(exc):
            raise
        raise InputError(f"{where}: array {key!r} holds Python objects (pickled data), refused: "
                         "a pose file holds numeric arrays only") from None


def check_pose(pose: np.ndarray, where: str, landmarks: int = N_MP33) -> np.ndarray:
    """``pose`` as float32 ``[T>0, landmarks, 4]`` with at least one landmark; InputError otherwise."""
    pose = np.asarray(pose)
    if pose.ndim != 3 or pose.shape[1:] != (landmarks, POSE_CHANNELS) or len(pose) == 0:
        raise InputError(f"{where}: 'pose' has shape {list(pose.shape)}, "
                         f"expected [T>0, {landmarks}, {POSE_CHANNELS}]")
    if not np.issubdtype(pose.dtype, np.floating):
        raise InputError(f"{where}: 'pose' has dtype {pose.dtype}, expected float32")
    if not np.isfinite(pose[..., :2]).any():
        raise InputError(f"{where}: 'pose' holds no landmark at all (every x, y of its {len(pose)} frames "
                         "is NaN or infinite)")
    return pose.astype(np.float32, copy=False)


def drawable_pose_warnings(pose: np.ndarray, where: str) -> list[str]:
    """Refuse a pose sequence with nothing to draw on the canvas; warn about frames that are partly off.

    ``pose`` is ``[T, K, 4]`` with x, y normalised to the canvas (0..1) and missing points NaN.
    """
    present = np.isfinite(pose[..., :2]).all(axis=-1) & ~(pose[..., 3] <= 0)
    if not present.any():
        raise InputError(f"{where}: no person in any of its {len(pose)} frames")
    xy = np.where(present[..., None], pose[..., :2], 0.5)
    inside = present & (xy >= 0).all(axis=-1) & (xy <= 1).all(axis=-1)
    if not inside.any():
        raise InputError(f"{where}: no landmark inside the canvas in any of its {len(pose)} frames "
                         f"(x, y span {_span(pose[..., :2][present])}, expected 0..1 of the canvas; for "
                         "OpenPose JSON check --pose-canvas)")
    warnings = []
    empty = int((~present.any(axis=1)).sum())
    if empty:
        warnings.append(f"{where}: no person in {empty} of its {len(pose)} frames (drawn empty)")
    outside = int((present & ~inside).sum())
    if outside:
        warnings.append(f"{where}: {outside} of {int(present.sum())} landmarks lie outside the canvas "
                        "(not drawn)")
    return warnings


def _span(xy: np.ndarray) -> str:
    return f"{float(xy.min()):.3g}..{float(xy.max()):.3g}"
