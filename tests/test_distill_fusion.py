"""Fusion by multi-teacher distillation: the fused adapter learns each single adapter's effect on its own
category's frames and the base's on benign ones, and leaves the single adapters untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from safealign.generation.data import Triples
from safealign.generation.diffusion import LossConfig, noised_batch, predict, to_signed, to_uint8, to_unit, weighted_error
from safealign.generation.distill_fusion import (DistillConfig, appearance_rows, fuse_distill, state_batch,
                                                 trajectory_states)
from safealign.generation.sampling import generate, item_noise, sample_states
from tests.test_generation import S, images, one_thread, with_adapters  # noqa: F401


def frames(n: int, seed: int) -> Triples:
    return Triples(images(n, seed), images(n, seed + 1), images(n, seed + 2))


def two_adapters():
    return with_adapters(("guard_a", "guard_b"), pose_guider=True)


def gap_to_teachers(model, names, unsafe, benign, fused: str) -> float:
    """Weighted error of the fused prediction to each teacher on fixed noised frames (what distill lowers)."""
    gen, loss, total = torch.Generator().manual_seed(7), LossConfig(), 0.0
    with torch.no_grad():
        for name, part in [*zip(names, unsafe), (None, benign)]:
            batch = noised_batch(model, part.target, part.reference, part.pose, gen, loss)
            if name is None:
                with model.disable_adapter():
                    goal = predict(model, batch)
            else:
                model.set_adapter(name)
                goal = predict(model, batch)
            model.set_adapter(fused)
            total += float(weighted_error(batch, predict(model, batch), goal).mean())
    return total


def test_distillation_pulls_the_fused_adapter_to_its_teachers_and_keeps_the_singles():
    model, names = two_adapters(), ["guard_a", "guard_b"]
    unsafe, benign = [frames(8, 0), frames(8, 3)], frames(8, 6)
    singles = {k: v.clone() for k, v in model.state_dict().items() if "guard_" in k}
    model.add_weighted_adapter(names, [1.0, 1.0], adapter_name="ties_init", combination_type="ties", density=0.5)
    before = gap_to_teachers(model, names, unsafe, benign, "ties_init")
    cfg = DistillConfig(steps=40, lr=3e-3, batch_size=4, safety_t_min=500)
    name, result = fuse_distill(model, names, [1.0, 1.0], unsafe, benign, cfg, LossConfig(), 0.5)
    assert name == "fused" and model.active_adapter == "fused" and len(result.history) == 40
    model.eval()
    after = gap_to_teachers(model, names, unsafe, benign, "fused")
    assert after < 0.7 * before, (before, after)
    for k, v in model.state_dict().items():
        if k in singles:
            assert torch.equal(v, singles[k]), k  # the single adapters are teachers, never trained
    first, last = (np.mean([h["loss"] for h in part]) for part in (result.history[:10], result.history[-10:]))
    assert last < first


def test_distillation_refuses_missing_frames():
    model = two_adapters()
    with pytest.raises(ValueError, match="non-empty unsafe frames"):
        fuse_distill(model, ["guard_a", "guard_b"], [1.0, 1.0], [frames(4, 0), Triples.empty(16)], frames(4, 6),
                     DistillConfig(steps=2), LossConfig(), 0.5)
    with pytest.raises(ValueError, match="appearance_share 0.5 \\+ trajectory_share 1.0"):
        fuse_distill(model, ["guard_a", "guard_b"], [1.0, 1.0], [frames(4, 0), frames(4, 3)], frames(4, 6),
                     DistillConfig(steps=2, appearance_share=0.5, trajectory_share=1.0), LossConfig(), 0.5,
                     appearance=frames(4, 9))


def test_appearance_rows_pair_the_photos_with_benign_poses_and_take_the_base_sample_as_target():
    model = two_adapters()
    model.set_adapter("guard_a")
    photos, poses = list(images(2, 20)), images(5, 30)
    rows = appearance_rows(model, photos, poses, rows=6, seed=3, steps=2)
    assert len(rows) == 6 and np.array_equal(rows.reference[4], photos[0]) and np.array_equal(rows.reference[5], photos[1])
    assert all(any(np.array_equal(p, q) for q in poses) for p in rows.pose)
    with model.disable_adapter():
        assert np.array_equal(rows.target, generate(model, rows.reference, rows.pose, seed=3, steps=2))
    assert not np.array_equal(rows.target, generate(model, rows.reference, rows.pose, seed=3, steps=2))
    assert model.active_adapter == "guard_a"  # adapters back on afterwards
    with pytest.raises(ValueError, match="at least one reference"):
        appearance_rows(model, [], poses, rows=2, seed=0, steps=1)


def test_appearance_rows_teach_the_fused_adapter_the_base_on_those_appearances():
    """With a share of the benign rows on other appearances (bright frames; the benign ones are dark), the
    fused adapter ends closer to the base there than when it only saw the benign frames (same seed and steps)."""
    unsafe = [frames(8, 0), frames(8, 3)]
    benign = Triples(*(images(8, s) // 8 for s in (6, 7, 8)))
    other = Triples(*(255 - images(8, s) // 8 for s in (40, 41, 42)))
    gaps = []
    for share in (0.0, 0.5):
        model = two_adapters()
        cfg = DistillConfig(steps=40, lr=3e-3, batch_size=8, safety_t_min=500, appearance_share=share)
        fuse_distill(model, ["guard_a", "guard_b"], [1.0, 1.0], unsafe, benign, cfg, LossConfig(), 0.5,
                     appearance=other)
        gen = torch.Generator().manual_seed(11)
        with torch.no_grad():
            batch = noised_batch(model, other.target, other.reference, other.pose, gen, LossConfig())
            with model.disable_adapter():
                goal = predict(model, batch)
            gaps.append(float(weighted_error(batch, predict(model, batch), goal).mean()))
    assert gaps[1] < 0.8 * gaps[0], gaps


def test_unsafe_rows_with_true_frames_are_noised_from_them():
    """Guard data of ``safety_input: truth`` carries the true frames: distillation noises those, as the
    adapters were trained; the same rows without them give another first-step loss."""
    names, benign = ["guard_a", "guard_b"], frames(8, 6)
    plain = [frames(8, 0), frames(8, 3)]
    sourced = [p.with_target(np.full_like(p.target, 128), keep_source=True) for p in plain]
    stripped = [s.with_target(s.target) for s in sourced]
    cfg = DistillConfig(steps=1, lr=1e-3, batch_size=4)
    first = {}
    for label, unsafe in (("sourced", sourced), ("stripped", stripped)):
        _, result = fuse_distill(two_adapters(), names, [1.0, 1.0], unsafe, benign, cfg, LossConfig(), 0.5)
        first[label] = result.history[0]["unsafe"]
    assert first["sourced"] != first["stripped"]


def test_sample_states_are_the_inputs_generate_feeds_the_model():
    """Stepping the recorded states with the model's own predictions lands on generate's frames."""
    model = two_adapters()
    ref, pose = images(3, 50), images(3, 51)
    noisy, t = sample_states(model, ref, pose, seed=4, steps=3)
    assert noisy.shape == (9, 3, 16, 16) and t.shape == (9,)
    assert all(torch.equal(noisy[i], item_noise(4, i, (3, 16, 16))) for i in range(3))  # step 0: the noise
    scheduler = model.sample_scheduler()
    scheduler.set_timesteps(3)
    assert t.tolist() == [int(s) for s in scheduler.timesteps for _ in range(3)]
    with torch.no_grad():
        x = noisy[6:]
        pred = model(x, t[6:], to_signed(ref, 'cpu'), to_unit(pose, 'cpu'))
        last = scheduler.step(pred, scheduler.timesteps[-1], x, eta=0.0).prev_sample
    assert np.abs(to_uint8(last).astype(int) - generate(model, ref, pose, seed=4, steps=3)).max() <= 1
    with pytest.raises(ValueError, match="sample_states"):
        sample_states(model, ref[:0], pose[:0])


def test_trajectory_states_follow_the_named_adapter_and_restore_the_active_one():
    model = two_adapters()
    model.set_adapter("guard_b")
    rows = frames(5, 60)
    base = trajectory_states(model, None, rows, count=3, seed=1, steps=2)
    own = trajectory_states(model, "guard_a", rows, count=3, seed=1, steps=2)
    assert len(base) == len(own) == 6 and model.active_adapter == "guard_b"
    assert torch.equal(base.noisy[:3], own.noisy[:3])  # same starting noise
    assert not torch.allclose(base.noisy[3:], own.noisy[3:])  # the adapter moved the second step's input
    assert np.array_equal(base.reference[:3], base.reference[3:]) and np.array_equal(base.pose[:3], base.pose[3:])
    pool = images(4, 70)  # other references: each recorded pose is paired with one of them
    swapped = trajectory_states(model, "guard_a", rows, count=3, seed=1, steps=2, references=pool)
    assert all(any(np.array_equal(r, q) for q in pool) for r in swapped.reference)
    assert np.array_equal(swapped.pose, own.pose) and not torch.allclose(swapped.noisy[3:], own.noisy[3:])


def test_trajectory_rows_fit_the_fused_adapter_to_its_teachers_on_the_recorded_trajectories():
    """With every row on the recorded sampling inputs, distillation ends closer to each teacher there than the
    same number of steps on noised frames only (whose inputs, noised white frames, lie elsewhere)."""
    names = ["guard_a", "guard_b"]
    white = np.full((8, S, S, 3), 255, np.uint8)
    unsafe = [Triples(images(8, s), images(8, s + 1), white) for s in (0, 3)]
    benign = Triples(images(8, 6), images(8, 7), white)
    gaps = []
    for share in (0.0, 1.0):
        model = two_adapters()
        with torch.no_grad():  # teachers that differ clearly from the base
            for key, param in model.named_parameters():
                if "lora_B.guard_" in key:
                    param.mul_(10.0)
        cfg = DistillConfig(steps=40, lr=3e-3, batch_size=8, trajectory_share=share, trajectory_rows=8,
                            trajectory_steps=3)
        fuse_distill(model, names, [1.0, 1.0], unsafe, benign, cfg, LossConfig(), 0.5)
        scheduler, total = model.base_model.model.train_scheduler(), 0.0
        for i, name in enumerate(names):
            states = trajectory_states(model, name, unsafe[i], count=8, seed=cfg.seed + i, steps=3)
            batch = state_batch(model, states, np.arange(len(states)), LossConfig(), scheduler)
            with torch.no_grad():
                model.set_adapter(name)
                goal = predict(model, batch)
                model.set_adapter("fused")
                total += float(weighted_error(batch, predict(model, batch), goal).mean())
        gaps.append(total)
    assert gaps[1] < 0.8 * gaps[0], gaps
