"""The face landmark layout: a named subset of the MediaPipe face mesh (oval, brows, eyes, nose, lips).

140 of the 478 refined-mesh points: the contour chains of ``mp.solutions.face_mesh_connections`` (copied in
``safealign.poses.topology``), a nose bridge/base and the two iris centres (pupils). Clip files of the face
domain store ``pose`` [T, 140, 4] in this order (x, y normalised, z, visibility), so the procedural model
and MediaPipe extraction of real clips produce the same arrays. Connections are in layout indices.
"""

from __future__ import annotations

import numpy as np

from safealign.poses import topology as tp

LAYOUT_NAME = "face140"


def _chain(edges: list[tuple[int, int]], start: int, stop: int) -> list[int]:
    """The mesh indices of the path ``start`` -> ``stop`` along ``edges`` (both ends included)."""
    nxt: dict[int, list[int]] = {}
    for a, b in edges:
        nxt.setdefault(a, []).append(b)
    path, seen = [start], {start}
    while path[-1] != stop:
        step = [n for n in nxt.get(path[-1], []) if n not in seen]
        if not step:
            raise ValueError(f"no path {start} -> {stop} in the given edges")
        path.append(step[0])
        seen.add(step[0])
    return path


# Each chain runs in a fixed direction on screen, which the procedural model follows point by point.
OVAL = _chain(tp.FACE_OVAL, 10, 109)            # forehead top, clockwise on screen (image right first)
LIPS_OUTER_LOWER = _chain(tp.FACE_LIPS, 61, 291)     # image-left corner -> bottom -> image-right corner
LIPS_OUTER_UPPER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
LIPS_INNER_LOWER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]
LIPS_INNER_UPPER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
RIGHT_EYE_LOWER = [33, 7, 163, 144, 145, 153, 154, 155, 133]   # subject's right = image left; outer -> inner
RIGHT_EYE_UPPER = [33, 246, 161, 160, 159, 158, 157, 173, 133]
LEFT_EYE_LOWER = [263, 249, 390, 373, 374, 380, 381, 382, 362]  # image right; outer -> inner
LEFT_EYE_UPPER = [263, 466, 388, 387, 386, 385, 384, 398, 362]
RIGHT_BROW_LOWER = [46, 53, 52, 65, 55]         # outer -> inner
RIGHT_BROW_UPPER = [70, 63, 105, 66, 107]
LEFT_BROW_LOWER = [276, 283, 282, 295, 285]
LEFT_BROW_UPPER = [300, 293, 334, 296, 336]
NOSE_BRIDGE = [168, 6, 197, 195, 5, 4, 1, 2]    # between the eyes -> tip -> subnasale
NOSE_BASE = [98, 2, 327]                        # image-left nostril -> subnasale -> image-right nostril
PUPILS = [tp.FACE_RIGHT_IRIS_CENTER, tp.FACE_LEFT_IRIS_CENTER]

_CHAINS: dict[str, list[list[int]]] = {
    "oval": [OVAL + [OVAL[0]]],
    "lips": [LIPS_OUTER_LOWER, LIPS_OUTER_UPPER, LIPS_INNER_LOWER, LIPS_INNER_UPPER],
    "right_eye": [RIGHT_EYE_LOWER, RIGHT_EYE_UPPER],
    "left_eye": [LEFT_EYE_LOWER, LEFT_EYE_UPPER],
    "right_brow": [RIGHT_BROW_LOWER, RIGHT_BROW_UPPER, [RIGHT_BROW_LOWER[0], RIGHT_BROW_UPPER[0]],
                   [RIGHT_BROW_LOWER[-1], RIGHT_BROW_UPPER[-1]]],
    "left_brow": [LEFT_BROW_LOWER, LEFT_BROW_UPPER, [LEFT_BROW_LOWER[0], LEFT_BROW_UPPER[0]],
                  [LEFT_BROW_LOWER[-1], LEFT_BROW_UPPER[-1]]],
    "nose": [NOSE_BRIDGE, NOSE_BASE],
    "pupils": [[p] for p in PUPILS],
}

MESH_INDEX: tuple[int, ...] = tuple(dict.fromkeys(i for cs in _CHAINS.values() for c in cs for i in c))
N_POINTS = len(MESH_INDEX)
_POS = {m: k for k, m in enumerate(MESH_INDEX)}


def idx(mesh_indices: list[int]) -> list[int]:
    """Layout positions of mesh indices."""
    return [_POS[m] for m in mesh_indices]


PARTS: dict[str, tuple[int, ...]] = {
    name: tuple(dict.fromkeys(_POS[i] for c in chains for i in c)) for name, chains in _CHAINS.items()
}
CONNECTIONS: dict[str, list[tuple[int, int]]] = {
    name: [(_POS[a], _POS[b]) for c in chains for a, b in zip(c, c[1:])] for name, chains in _CHAINS.items()
}
CENTRE = tuple(idx([168, 1]))                   # nose bridge + tip: rotation and scaling act about it
# Posture-token keypoints of faces (safealign.generation.pose_tokens): the oval's outline, eye corners and lids,
# brows, nose and mouth, enough for identity geometry and expressions; centred on the nose, the inter-ocular
# distance is the unit length.
TOKEN_MESH = [OVAL[k] for k in range(0, len(OVAL), 4)] + [33, 133, 159, 145, 263, 362, 386, 374] + \
    [70, 105, 107, 300, 334, 336] + [168, 1, 98, 327] + [61, 291, 0, 17, 13, 14] + PUPILS
TOKEN_CENTRE = tuple(TOKEN_MESH.index(m) for m in (168, 1))
TOKEN_SCALE = ((TOKEN_MESH.index(33),), (TOKEN_MESH.index(263),))
# Part dropout of faces (robustness, augmentation): detectors lose pupils (blinks, glasses) and brows (hair).
DROPOUT_PARTS: dict[str, tuple[int, ...]] = {
    "pupils": PARTS["pupils"],
    "brows": tuple(sorted(PARTS["right_brow"] + PARTS["left_brow"])),
    "both": tuple(sorted(PARTS["pupils"] + PARTS["right_brow"] + PARTS["left_brow"])),
}


def mesh_to_layout(mesh: np.ndarray, visibility: np.ndarray | float = 1.0) -> np.ndarray:
    """MediaPipe face mesh [..., 468|478, 3] -> layout [..., 140, 4] (x, y, z, visibility).

    A 468-point mesh (no iris refinement) leaves the pupils missing (NaN, visibility 0); NaN mesh points
    (frames without a detected face) stay NaN with visibility 0.
    """
    mesh = np.asarray(mesh, np.float32)
    if mesh.shape[-2] not in (tp.FACE_N, tp.FACE_N_REFINED) or mesh.shape[-1] < 2:
        raise ValueError(f"mesh_to_layout: expected [..., 468|478, 3], got {list(mesh.shape)}")
    out = np.full(mesh.shape[:-2] + (N_POINTS, 4), np.nan, np.float32)
    have = [k for k, m in enumerate(MESH_INDEX) if m < mesh.shape[-2]]
    src = [MESH_INDEX[k] for k in have]
    out[..., have, : min(3, mesh.shape[-1])] = mesh[..., src, :3]
    ok = np.isfinite(out[..., :2]).all(axis=-1)
    out[..., 3] = np.where(ok, np.broadcast_to(np.asarray(visibility, np.float32)[..., None], ok.shape), 0.0)
    return out
