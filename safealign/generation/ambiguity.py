"""Which frames of an unsafe clip actually show the unsafe pose.

An unsafe clip starts and ends in ordinary poses (standing before a kneel, arms down between salutes).
Training those frames toward the degraded target teaches the guard to block benign poses too, and the
fidelity term pulls the other way: the adapter then learns a uniform change instead of a decision. So the
safety set keeps only frames whose pose map is farther from every benign / near-miss training frame than
benign frames typically are from each other.
"""

from __future__ import annotations

import numpy as np
import torch

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


def distinct_from_benign(unsafe_maps: np.ndarray, benign_maps: np.ndarray, quantile: float) -> np.ndarray:
    """Boolean mask over ``unsafe_maps``: True where the nearest benign frame is farther than the
    ``quantile`` of benign-to-nearest-other-benign distances (``quantile`` 0 keeps every frame)."""
    if quantile <= 0 or len(unsafe_maps) == 0 or len(benign_maps) < 2:
        return np.ones(len(unsafe_maps), bool)
    benign = torch.from_numpy(pose_map_features(benign_maps))
    unsafe = torch.from_numpy(pose_map_features(unsafe_maps))
    among = torch.cdist(benign, benign)
    among.fill_diagonal_(float("inf"))
    threshold = torch.quantile(among.min(dim=1).values, quantile)
    return (torch.cdist(unsafe, benign).min(dim=1).values > threshold).numpy()
