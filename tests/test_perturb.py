"""Perturbation families change what they should and nothing else (poseguard.md 2.4)."""

from __future__ import annotations

import numpy as np
import pytest

from safealign.poses import topology as tp
from safealign.layouts import BODY_PARTS as PARTS, PERTURBATION_GRID
from safealign.poses.perturb import FAMILIES, REF_WIDTH, level_label, perturb

RNG = np.random.default_rng(0)
BONES = [(a, b) for a, b in tp.MP33_CONNECTIONS]


def _poses(n: int = 3, t: int = 10) -> np.ndarray:
    rng = np.random.default_rng(1)
    p = np.empty((n, t, 33, 4), np.float32)
    p[..., :2] = rng.uniform(0.2, 0.8, (n, t, 33, 2))
    p[..., 2] = rng.normal(0, 0.1, (n, t, 33))
    p[..., 3] = rng.uniform(0.5, 1.0, (n, t, 33))
    p[0, 0, tp.NOSE, :3] = np.nan          # one missing landmark must stay missing
    p[0, 0, tp.NOSE, 3] = 0.0
    return p


def _bone_lengths(p: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    xy = p[..., :2] * np.array([1.0, 1.0 / aspect], np.float32)   # width units
    return np.stack([np.linalg.norm(xy[..., a, :] - xy[..., b, :], axis=-1) for a, b in BONES], -1)


def test_grid_matches_the_specification():
    fams = {}
    for fam, level in PERTURBATION_GRID:
        fams.setdefault(fam, []).append(level)
    assert fams == {"jitter": [1, 2, 4, 8], "rotate": [-15, -10, -5, 5, 10, 15], "scale": [0.9, 1.1],
                    "translate_x": [-0.1, -0.05, 0.05, 0.1], "translate_y": [-0.1, -0.05, 0.05, 0.1],
                    "speed": [0.8, 1.25], "offset": [4, 8], "drop": [0.1, 0.25],
                    "part_dropout": ["hands", "face", "both"]}
    assert set(fams) <= set(FAMILIES)


@pytest.mark.parametrize("family,level", PERTURBATION_GRID)
def test_every_grid_entry_keeps_shape_missing_points_and_input(family, level):
    p = _poses()
    before = p.copy()
    out = perturb(p, family, level, np.random.default_rng(2))
    assert out.shape == p.shape and out.dtype == np.float32
    np.testing.assert_array_equal(p, before)                      # input untouched
    if family not in ("speed", "offset", "drop"):
        assert np.isnan(out[0, 0, tp.NOSE, 0])
    assert perturb(p[0], family, level, np.random.default_rng(2)).shape == p[0].shape


@pytest.mark.parametrize("aspect", [1.0, 0.5625])
def test_rotation_about_the_pelvis_preserves_bone_lengths(aspect):
    p = _poses()
    out = perturb(p, "rotate", 15.0, RNG, aspect=aspect)
    np.testing.assert_allclose(_bone_lengths(out, aspect), _bone_lengths(p, aspect), atol=1e-5, equal_nan=True)
    pelvis = lambda q: q[:, :, [tp.L_HIP, tp.R_HIP], :2].mean(2)  # noqa: E731
    np.testing.assert_allclose(pelvis(out), pelvis(p), atol=1e-6)
    assert np.abs(out[..., :2] - p[..., :2])[np.isfinite(p[..., :2])].max() > 0.01
    np.testing.assert_array_equal(out[..., 2:], p[..., 2:])          # depth and visibility untouched
    back = perturb(out, "rotate", -15.0, RNG, aspect=aspect)
    np.testing.assert_allclose(back, p, atol=1e-5)


def test_scale_and_translate():
    p = _poses()
    scaled = perturb(p, "scale", 1.1, RNG)
    np.testing.assert_allclose(_bone_lengths(scaled), 1.1 * _bone_lengths(p), rtol=1e-5)
    shifted = perturb(p, "translate", (0.05, -0.1), RNG, aspect=2.0)
    finite = np.isfinite(p[..., 0])
    np.testing.assert_allclose((shifted[..., 0] - p[..., 0])[finite], 0.05, atol=1e-6)
    np.testing.assert_allclose((shifted[..., 1] - p[..., 1])[finite], -0.2, atol=1e-6)   # y in height units
    np.testing.assert_allclose(perturb(p, "translate_x", 0.05, RNG), perturb(p, "translate", (0.05, 0), RNG))


def test_jitter_moves_only_xy_by_the_given_pixels():
    p = _poses(n=20, t=50)
    out = perturb(p, "jitter", 8.0, RNG)
    delta = (out - p)[..., :2][np.isfinite(p[..., :2])]
    assert abs(delta.std() * REF_WIDTH - 8.0) < 0.3
    np.testing.assert_array_equal(out[..., 2:], p[..., 2:])


def test_per_clip_levels():
    p = _poses(n=2)
    out = perturb(p, "rotate", np.array([0.0, 10.0]), RNG)
    np.testing.assert_allclose(out[0], p[0], atol=1e-6)
    assert not np.allclose(out[1], p[1])
    with pytest.raises(ValueError, match="one per clip"):
        perturb(p, "rotate", np.array([1.0, 2.0, 3.0]), RNG)


def test_drop_holds_the_previous_frame():
    p = _poses(n=4, t=20)
    out = perturb(p, "drop", 0.25, RNG)
    for clip, orig in zip(out, p):
        np.testing.assert_array_equal(clip[0], orig[0])
        changed = [t for t in range(20) if not np.array_equal(clip[t], orig[t], equal_nan=True)]
        assert len(changed) == 5                                       # 25 % of 20 frames
        for t in changed:
            assert np.array_equal(clip[t], clip[t - 1], equal_nan=True), "a dropped frame holds the previous"


def test_speed_and_offset_resample_time():
    p = _poses(t=12)
    np.testing.assert_array_equal(perturb(p, "speed", 1.0, RNG), p)
    fast = perturb(p, "speed", 2.0, RNG)
    np.testing.assert_array_equal(fast[:, 3], p[:, 6])
    np.testing.assert_array_equal(fast[:, -1], p[:, -1])               # past the end: the last frame is held
    late = perturb(p, "offset", 4, RNG)
    np.testing.assert_array_equal(late[:, :8], p[:, 4:])
    np.testing.assert_array_equal(late[:, 8:], np.repeat(p[:, -1:], 4, axis=1))
    slow = perturb(p, "speed", 0.5, RNG)
    np.testing.assert_allclose(slow[1:, 1, 5:], (p[1:, 0, 5:] + p[1:, 1, 5:]) / 2, rtol=1e-6)


@pytest.mark.parametrize("part", list(PARTS))
def test_part_dropout_removes_only_that_part(part):
    p = _poses()
    out = perturb(p, "part_dropout", part, RNG)
    idx = list(PARTS[part])
    others = [i for i in range(33) if i not in idx]
    assert np.isnan(out[:, :, idx, :3]).all() and (out[:, :, idx, 3] == 0).all()
    np.testing.assert_array_equal(out[:, :, others], p[:, :, others])
    assert tp.L_WRIST in others and tp.R_WRIST in others             # wrists are body joints, not hand points


def test_bad_requests_are_named():
    with pytest.raises(ValueError, match="unknown family 'spin'.*jitter"):
        perturb(_poses(), "spin", 1.0, RNG)
    with pytest.raises(ValueError, match="unknown part 'feet'"):
        perturb(_poses(), "part_dropout", "feet", RNG)
    with pytest.raises(ValueError, match=r"\[N, T, 33, 4\]"):
        perturb(np.zeros((5, 17, 3)), "jitter", 1.0, RNG)
    assert level_label("rotate", -5) == "rotate:-5.0" and level_label("part_dropout", "hands") == "part_dropout:hands"


def test_composed_time_maps_equal_the_families_applied_in_turn():
    from safealign.poses.perturb import compose_time_maps, resample, time_map

    p = _poses(n=4, t=16)
    speed = np.array([0.8, 1.25, 1.0, 1.1])
    sequential = perturb(perturb(perturb(p, "speed", speed, np.random.default_rng(5)), "offset", 3,
                                 np.random.default_rng(5)), "drop", 0.25, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    timing = time_map("speed", speed, 4, 16, rng)
    timing = compose_time_maps(timing, time_map("offset", 3.0, 4, 16, rng))
    timing = compose_time_maps(timing, time_map("drop", 0.25, 4, 16, rng))
    np.testing.assert_allclose(resample(p, timing), sequential, rtol=1e-6, atol=1e-7)
