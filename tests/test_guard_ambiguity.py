"""Unsafe frames that look like benign poses are left out of the guard's safety set."""

import numpy as np
import pytest
import torch

from safealign.generation.ambiguity import (distinct_frames, distinct_from_benign, landmark_features,
                                            nearest_distances, pose_map_features)
from safealign.generation.data import Triples, balanced_index


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


def test_nearest_distances_in_chunks_match_the_full_distance_matrix():
    generator = torch.Generator().manual_seed(0)
    benign = torch.randn(23, 5, generator=generator)
    unsafe = torch.randn(11, 5, generator=generator)
    among = torch.cdist(benign, benign).fill_diagonal_(float("inf")).min(dim=1).values
    across = torch.cdist(unsafe, benign).min(dim=1).values
    for chunk in (1, 4, 7, 100):  # chunks that divide, do not divide and exceed the rows
        assert torch.allclose(nearest_distances(benign, benign, exclude_self=True, chunk=chunk), among)
        assert torch.allclose(nearest_distances(unsafe, benign, chunk=chunk), across)
    assert (nearest_distances(benign, benign, chunk=4) == 0).all()  # without exclude_self a row finds itself
    assert nearest_distances(benign[:0], benign).shape == (0,)


def _skeleton(angle: float, shift: tuple[float, float] = (0.0, 0.0), scale: float = 1.0) -> np.ndarray:
    """Landmarks [5, 4]: hips, neck, head, one elbow and wrist at ``angle`` degrees from pointing down."""
    a = np.deg2rad(angle)
    points = np.array([[0, 0], [0, -0.3], [0, -0.4], [0.1 * np.sin(a), -0.3 + 0.1 * np.cos(a)],
                       [0.2 * np.sin(a), -0.3 + 0.2 * np.cos(a)]], np.float32)
    xy = points * scale + np.asarray(shift, np.float32)
    return np.concatenate([xy, np.zeros((5, 1)), np.ones((5, 1))], axis=1).astype(np.float32)


def test_landmark_features_ignore_position_and_scale_but_see_the_arm():
    base = landmark_features(_skeleton(135)[None])
    assert np.allclose(base, landmark_features(_skeleton(135, (0.3, 0.1), 2.5)[None]), atol=1e-5)
    assert np.abs(base - landmark_features(_skeleton(165)[None])).max() > 0.1


def test_bone_directions_ignore_limb_lengths_but_see_the_arm():
    bones = [(0, 1), (1, 3), (3, 4)]  # torso, upper arm, forearm
    long_arm = _skeleton(135)
    long_arm[3:, :2] = long_arm[1, :2] + 1.7 * (long_arm[3:, :2] - long_arm[1, :2])  # same angle, longer arm
    same = landmark_features(np.stack([_skeleton(135), long_arm]), bones)
    assert same.shape == (2, 6) and np.allclose(same[0], same[1], atol=1e-5)
    assert np.abs(same[0] - landmark_features(_skeleton(165)[None], bones)[0]).max() > 0.3
    missing = _skeleton(135)
    missing[4, :2] = np.nan  # an undetected wrist
    for b in (bones, ()):
        features = landmark_features(np.stack([missing, _skeleton(135)]), b)
        assert np.isfinite(features).all()
    raised = np.stack([_skeleton(165), _skeleton(170), _skeleton(160)])
    keep = distinct_from_benign(missing[None], raised, 0.5, lambda x: landmark_features(x, bones))
    assert keep.tolist() == [True]


def test_landmark_filter_keeps_a_salute_among_raised_hands_and_drops_one_that_is_one():
    rng = np.random.default_rng(1)
    benign = np.stack([_skeleton(165 + rng.normal(0, 2), tuple(rng.uniform(-0.2, 0.2, 2)),
                                 rng.uniform(0.8, 1.2)) for _ in range(20)])  # raised hands
    unsafe = np.stack([_skeleton(135), _skeleton(165)])  # a salute angle, and a frame that is a raised hand
    assert distinct_from_benign(unsafe, benign, 0.9, landmark_features).tolist() == [True, False]


def test_distinct_frames_reads_the_asked_features_and_needs_landmarks_for_them():
    maps = np.stack([_map([(8, 2, 12, 30)]) for _ in range(4)])
    lms = np.stack([_skeleton(165 + i) for i in range(4)])
    benign = Triples(maps, maps, maps, landmarks=lms)
    unsafe = Triples(maps[:2], maps[:2], maps[:2], landmarks=np.stack([_skeleton(100), _skeleton(165)]))
    assert distinct_frames(unsafe, benign, 0.5, "landmarks").tolist() == [True, False]
    assert not distinct_frames(unsafe, benign, 0.5, "pose_map").any()  # same maps: nothing is distinct
    with pytest.raises(ValueError, match="landmarks"):
        distinct_frames(Triples(maps, maps, maps), benign, 0.5, "landmarks")
    with pytest.raises(ValueError, match="expected one of"):
        distinct_frames(unsafe, benign, 0.5, "angles")


def test_triples_carry_landmarks_through_take_concat_and_with_target():
    maps = np.zeros((3, 8, 8, 3), np.uint8)
    t = Triples(maps, maps, maps, landmarks=np.arange(3 * 5 * 4, dtype=np.float32).reshape(3, 5, 4))
    assert np.array_equal(t.take(np.array([2, 0])).landmarks, t.landmarks[[2, 0]])
    assert np.array_equal(t.with_target(maps, keep_source=True).landmarks, t.landmarks)
    both = Triples.concat([t, Triples.empty(8), t])
    assert both.landmarks.shape == (6, 5, 4)
    face = Triples(maps, maps, maps, landmarks=np.zeros((3, 7, 4), np.float32))
    assert Triples.concat([t, face]).landmarks is None  # two layouts: no common landmark array


def test_balanced_index_repeats_the_smaller_groups_to_the_largest():
    groups = np.array([0, 0, 0, 0, 1, 2, 2])
    index = balanced_index(groups)
    assert np.bincount(groups[index]).tolist() == [4, 4, 4]
    assert sorted(index[groups[index] == 2].tolist()) == [5, 5, 6, 6]
    assert set(index.tolist()) == set(range(7))  # every row stays
    assert balanced_index(np.zeros(0, int)).size == 0
