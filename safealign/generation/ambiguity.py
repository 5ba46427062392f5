"""Which frames of an unsafe clip actually show the unsafe pose.

An unsafe clip starts and ends in ordinary poses (standing before a kneel, arms down between salutes).
Training those frames toward the degraded target teaches the guard to block benign poses too, and the
fidelity term pulls the other way: the adapter then learns a uniform change instead of a decision. So the
safety set keeps only frames whose pose map is farther from every benign / near-miss training frame than
benign frames typically are from each other. "Look like" is measured on the rendered pose map
(``pose_map_features``, the default) or on the landmarks themselves (``landmark_features``: the directions
of the layout's bones, so body proportions drop out): the 16 x 16 map blurs a 25-40 degree change of one arm,
which is all that separates a salute from a raised hand.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
import torch

if TYPE_CHECKING:
    from safealign.generation.data import PoseFrames, Triples

FEATURE_SIZE = 16


def pose_map_features(maps: np.ndarray) -> np.ndarray:
    """Translation- and scale-invariant features of pose maps uint8 [N, H, W, 3]: the skeleton's bounding
    box, letterboxed to a square and area-resized to 16 x 16 x 3, in [0, 1]."""
    out = np.zeros((len(maps), 3 * FEATURE_SIZE * FEATURE_SIZE), np.float32)
    for i, image in enumerate(maps):
        ys, xs = np.nonzero(image.max(axis=-1) > 0)
        if len(ys) == 0:
            continue
        crop = image[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        side = max(crop.shape[:2])
        square = np.zeros((side, side, 3), np.uint8)
        top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
        square[top:top + crop.shape[0], left:left + crop.shape[1]] = crop
        tensor = torch.from_numpy(square).permute(2, 0, 1)[None].float() / 255.0
        out[i] = torch.nn.functional.adaptive_avg_pool2d(tensor, FEATURE_SIZE).flatten().numpy()
    return out


def landmark_features(landmarks: np.ndarray, bones: Sequence[tuple[int, int]] = ()) -> np.ndarray:
    """Translation- and scale-invariant features of landmarks [N, K, C >= 2] (normalised x, y first). With
    ``bones`` (index pairs): the unit direction of each bone, flattened [N, 2B], which also ignores limb
    lengths (who the subject is); without: every landmark's x, y minus their centroid, divided by their RMS
    distance to it, flattened [N, 2K]. A landmark that was not detected (NaN) gives zeros where it enters,
    so one missing wrist does not make every distance NaN."""
    xy = np.asarray(landmarks, np.float32)[..., :2]
    if len(bones):
        pairs = np.asarray(bones)
        vectors = xy[:, pairs[:, 1]] - xy[:, pairs[:, 0]]
        units = vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-6)
        return np.nan_to_num(units.reshape(len(xy), -1))
    centred = xy - np.nanmean(xy, axis=1, keepdims=True)
    scale = np.sqrt(np.nanmean((centred ** 2).sum(axis=-1), axis=1))
    return np.nan_to_num((centred / np.maximum(scale, 1e-6)[:, None, None]).reshape(len(xy), -1))


FEATURES = ("pose_map", "landmarks")


def distinct_from_benign(unsafe_maps: np.ndarray, benign_maps: np.ndarray, quantile: float,
                         features: Callable[[np.ndarray], np.ndarray] = pose_map_features) -> np.ndarray:
    """Boolean mask over ``unsafe_maps``: True where the nearest benign frame is farther than the
    ``quantile`` of benign-to-nearest-other-benign distances (``quantile`` 0 keeps every frame). The inputs
    are whatever ``features`` reads: pose maps [N, H, W, 3] by default, landmarks for
    ``landmark_features``."""
    if quantile <= 0 or len(unsafe_maps) == 0 or len(benign_maps) < 2:
        return np.ones(len(unsafe_maps), bool)
    benign = torch.from_numpy(features(benign_maps))
    unsafe = torch.from_numpy(features(unsafe_maps))
    threshold = torch.quantile(nearest_distances(benign, benign, exclude_self=True), quantile)
    return (nearest_distances(unsafe, benign) > threshold).numpy()


def nearest_distances(points: torch.Tensor, others: torch.Tensor, exclude_self: bool = False,
                      chunk: int = 4096) -> torch.Tensor:
    """Euclidean distance from each row of ``points`` [N, D] to its nearest row of ``others`` [M, D].

    Computed ``chunk`` rows at a time: the full N x M matrix is 10 GB at 51 000 benign frames (600 subjects)
    and the filter then peaked at 22 GB. With ``exclude_self`` (``points`` is ``others``) a row's distance to
    itself does not count."""
    nearest = []
    for start in range(0, len(points), chunk):
        distances = torch.cdist(points[start:start + chunk], others)
        if exclude_self:
            rows = torch.arange(len(distances))
            distances[rows, rows + start] = float("inf")
        nearest.append(distances.min(dim=1).values)
    return torch.cat(nearest) if nearest else torch.zeros(0)


def distinct_frames(unsafe: "Triples | PoseFrames", benign: "Triples | PoseFrames", quantile: float,
                    features: str = "pose_map", bones: Sequence[tuple[int, int]] = ()) -> np.ndarray:
    """``distinct_from_benign`` on Triples or PoseFrames, measured on their pose maps (``features``
    "pose_map") or on the landmarks they were rendered from ("landmarks": the directions of ``bones``, see
    ``landmark_features``)."""
    if features not in FEATURES:
        raise ValueError(f"features: expected one of {sorted(FEATURES)}, received {features!r}")
    if features == "landmarks":
        if unsafe.landmarks is None or benign.landmarks is None:
            raise ValueError("features 'landmarks': these frames carry no landmarks (mixed layouts?)")
        features_of = partial(landmark_features, bones=tuple(bones))
        return distinct_from_benign(unsafe.landmarks, benign.landmarks, quantile, features_of)
    return distinct_from_benign(unsafe.pose, benign.pose, quantile)
