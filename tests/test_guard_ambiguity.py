"""Unsafe frames that look like benign poses are left out of the guard's safety set."""

import numpy as np

from safealign.generation.ambiguity import distinct_from_benign, pose_map_features


def _map(points: list[tuple[int, int, int, int]], size: int = 32) -> np.ndarray:
    image = np.zeros((size, size, 3), np.uint8)
    for x0, y0, x1, y1 in points:
        image[y0:y1, x0:x1] = 200
    return image


def test_features_ignore_position_and_scale():
    small = _map([(2, 2, 6, 12)])
    moved_bigger = _map([(10, 4, 18, 24)])
    assert np.allclose(pose_map_features(small[None]), pose_map_features(moved_bigger[None]), atol=0.05)


def test_benign_looking_unsafe_frames_are_dropped():
    rng = np.random.default_rng(0)
    benign = np.stack([_map([(8, 2, 12 + int(rng.integers(0, 2)), 30)]) for _ in range(10)])  # upright bars
    unsafe = np.stack([benign[0], _map([(2, 14, 30, 18)])])  # a benign frame, and a lying bar
    keep = distinct_from_benign(unsafe, benign, quantile=0.9)
    assert keep.tolist() == [False, True]
    assert distinct_from_benign(unsafe, benign, quantile=0.0).all()
