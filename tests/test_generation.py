"""Generator library: save/load, determinism, degrade kinds, resumable loop, LoRA round trip and fusion."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from safealign.errors import ConfigError, InputError
from safealign.generation import lora
from safealign.generation.data import Triples, resize_square
from safealign.generation.degrade import degrade
from safealign.generation.diffusion import LossConfig, per_sample_loss
from safealign.generation.loading import load_generator
from safealign.generation.model import GeneratorConfig, PoseGuidedGenerator
from safealign.generation.sampling import generate
from safealign.generation.training import LoopConfig, run_training

TINY = GeneratorConfig(resolution=16, patch_size=2, block_out_channels=(8, 16), layers_per_block=1,
                       attention_levels=(False, True), pose_guider_channels=(8, 8))
S = TINY.resolution


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors on a shared 2-core box: one thread avoids OpenMP spin-waits (10x+ slower under load)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_model(seed: int = 0) -> PoseGuidedGenerator:
    torch.manual_seed(seed)
    model = PoseGuidedGenerator.build(TINY)
    torch.nn.init.normal_(model.pose_guider.conv_out.weight, std=0.05)  # untrained zero-init hides the pose
    return model.eval()


def images(n: int = 3, seed: int = 0, size: int = S) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def randomize_adapter(model, name: str, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for key, param in model.named_parameters():
        if f".{name}." in key and "lora_" in key:
            param.data = torch.randn(param.shape, generator=gen) * 0.05


def with_adapters(names: tuple[str, ...], targets: tuple[str, ...] = lora.ATTENTION_TARGETS,
                  pose_guider: bool = False, rank: int = 4):
    """A tiny generator wrapped with random LoRA adapters ``names`` (seeds 1, 2, ...), the first one active."""
    base = tiny_model()
    config = lora.lora_config(base, rank, rank, targets, pose_guider)
    model = lora.attach_lora(base, config, names[0])
    for name in names[1:]:
        model.add_adapter(name, config)
    for seed, name in enumerate(names, start=1):
        randomize_adapter(model, name, seed)
    return model


def model_inputs(t_high: int = 500) -> tuple[torch.Tensor, ...]:
    """(noisy, timesteps, reference, pose) of two samples for a direct forward call."""
    return (torch.randn(2, 3, S, S), torch.tensor([10, t_high]), torch.randn(2, 3, S, S),
            torch.rand(2, 3, S, S))


def test_save_load_round_trip_gives_identical_outputs(tmp_path):
    model, ref, pose = tiny_model(), images(2, 1), images(2, 2)
    model.save_pretrained(tmp_path / "gen")
    loaded = PoseGuidedGenerator.from_pretrained(tmp_path / "gen")
    assert (tmp_path / "gen" / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    expected = generate(model, ref, pose, seed=3, steps=3)
    assert np.array_equal(generate(loaded, ref, pose, seed=3, steps=3), expected)
    assert loaded.describe() == model.describe()


def test_not_a_generator_directory_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="not a generator directory"):
        PoseGuidedGenerator.from_pretrained(tmp_path)
    with pytest.raises(InputError, match="no such directory"):
        load_generator(tmp_path / "missing")


def test_generate_is_deterministic_and_batch_independent():
    model, ref, pose = tiny_model(), images(3, 1), images(3, 2)
    a = generate(model, ref, pose, seed=5, steps=3)
    assert a.dtype == np.uint8 and a.shape == ref.shape
    assert np.array_equal(a, generate(model, ref, pose, seed=5, steps=3, batch_size=2))
    assert not np.array_equal(a, generate(model, ref, pose, seed=6, steps=3))
    with pytest.raises(ValueError, match="same shape"):
        generate(model, ref, pose[:2], seed=5, steps=3)


def test_pose_guider_changes_the_output():
    model, ref = tiny_model(), images(2, 1)
    a = generate(model, ref, images(2, 2), seed=1, steps=2)
    b = generate(model, ref, images(2, 9), seed=1, steps=2)
    assert not np.array_equal(a, b)


def test_pose_context_starts_silent_round_trips_and_takes_the_guard_lora(tmp_path):
    from dataclasses import replace

    torch.manual_seed(0)
    plain = PoseGuidedGenerator.build(TINY)
    torch.manual_seed(0)
    ctx = PoseGuidedGenerator.build(replace(TINY, pose_context_channels=(4, 8)))
    assert [n for n, _ in ctx.pose_guider.named_parameters() if n.startswith("context")] == [
        "context.0.weight", "context.0.bias", "context.1.weight", "context.1.bias",
        "context_out.weight", "context_out.bias"]
    plain_state = plain.state_dict()  # the context is built last: every other weight draws as before
    assert all(torch.equal(v, ctx.state_dict()[k]) for k, v in plain_state.items())
    inputs = model_inputs()
    with torch.no_grad():
        assert torch.equal(ctx(*inputs), plain(*inputs))  # zero-initialised output: the base is unchanged
        torch.nn.init.normal_(ctx.pose_guider.context_out.weight, std=0.5)
        moved = ctx(*inputs)
        other_pose = ctx(*inputs[:3], torch.rand(2, 3, S, S))
    assert not torch.equal(moved, plain(*inputs)) and not torch.equal(moved, other_pose)
    ctx.save_pretrained(tmp_path / "gen")
    loaded = PoseGuidedGenerator.from_pretrained(tmp_path / "gen")
    with torch.no_grad():
        assert torch.equal(loaded(*inputs), moved)
    targets = lora.pose_guider_targets(ctx)
    assert {"pose_guider.context.0", "pose_guider.context.1", "pose_guider.context_out"} <= set(targets)
    assert not any(t.startswith("pose_guider.context") for t in lora.pose_guider_targets(plain))


@pytest.mark.parametrize("kind", ["mosaic", "blur", "gray", "noise"])
def test_degrade_kinds_keep_shape_and_change_content(kind):
    frames = images(2, 4, size=32)[None]  # extra leading axis: [..., H, W, 3]
    out = degrade(frames, kind)
    assert out.shape == frames.shape and out.dtype == np.uint8
    assert not np.array_equal(out, frames)


def test_degrade_semantics():
    frames = images(1, 4, size=32)
    mosaic = degrade(frames, "mosaic")  # block = 32/16 = 2 px
    assert np.array_equal(mosaic[:, 0::2, 0::2], mosaic[:, 1::2, 1::2])
    assert (degrade(frames, "gray") == 128).all()
    assert degrade(frames, "blur").astype(float).std() < frames.astype(float).std()
    assert np.array_equal(degrade(frames, "noise", seed=1), degrade(frames, "noise", seed=1))
    with pytest.raises(ConfigError, match="mosaic"):
        degrade(frames, "pixelate")
    with pytest.raises(ValueError, match="uint8"):
        degrade(frames.astype(np.float32), "mosaic")


def test_resize_square_letterboxes():
    tall = np.full((1, 40, 20, 3), 200, np.uint8)
    out = resize_square(tall, 20)
    assert out.shape == (1, 20, 20, 3)
    assert out[0, 10, 0].max() < 60 and out[0, 10, 10].min() > 150


def _loop(tmp_path, steps: int, callback=None, seed: int = 0):
    model = tiny_model()
    data = Triples(images(8, 1), images(8, 2), images(8, 3))
    sched = model.train_scheduler()

    def step(_s, rng, gen):
        b = data.take(rng.integers(0, len(data), 2))
        loss = per_sample_loss(model, b.target, b.reference, b.pose, gen, LossConfig(), sched)
        return {"loss": loss.mean()}

    cfg = LoopConfig(steps=steps, lr=1e-3, seed=seed, checkpoint_every=2, key="tiny")
    result = run_training(model, model.parameters(), step, cfg, tmp_path, "t", callback)
    return model, result


def test_training_resumes_bit_identically_after_a_kill(tmp_path):
    class Killed(Exception):
        pass

    def kill_at_3(step, _values):
        if step == 3:
            raise Killed

    with pytest.raises(Killed):
        _loop(tmp_path / "a", 5, kill_at_3)
    resumed, result = _loop(tmp_path / "a", 5)
    assert result.resumed_from == 2 and len(result.history) == 5
    straight, _ = _loop(tmp_path / "b", 5)
    for (k, v), w in zip(resumed.state_dict().items(), straight.state_dict().values()):
        assert torch.equal(v, w), k


def test_stale_checkpoint_is_not_resumed(tmp_path):
    _loop(tmp_path, 2)
    _, result = _loop(tmp_path, 4, seed=1)  # same key, longer run: resumes
    assert result.resumed_from == 2
    model = tiny_model()
    cfg = LoopConfig(steps=1, lr=1e-3, seed=0, checkpoint_every=1, key="other")
    res = run_training(model, model.parameters(), lambda *_: {"loss": model.unet.conv_in.weight.sum() * 0},
                       cfg, tmp_path, "t")
    assert res.resumed_from == 0


def test_lora_adapter_round_trip_through_peft_and_load_generator(tmp_path):
    base = tiny_model()
    base.save_pretrained(tmp_path / "base")
    ref, pose = images(2, 1), images(2, 2)
    cfg = lora.lora_config(base, 4, 4, lora.ATTENTION_TARGETS, True)
    peft_model = lora.attach_lora(base, cfg, "guard_x", tmp_path / "base")
    trainable = [k for k, p in peft_model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in k for k in trainable)
    assert any("pose_guider.conv_out" in k for k in trainable) and any("to_q" in k for k in trainable)
    randomize_adapter(peft_model, "guard_x", 1)
    expected = generate(peft_model, ref, pose, seed=2, steps=2)
    lora.save_adapter(peft_model, "guard_x", tmp_path / "adapter")
    assert lora.adapter_summary(tmp_path / "adapter")["r"] == 4
    reloaded = lora.load_adapters(PoseGuidedGenerator.from_pretrained(tmp_path / "base"),
                                  {"guard_x": tmp_path / "adapter"})
    assert np.array_equal(generate(reloaded, ref, pose, seed=2, steps=2), expected)
    merged = load_generator(tmp_path / "base", adapter=tmp_path / "adapter", device="cpu")
    via_adapter_dir = load_generator(tmp_path / "adapter", device="cpu")  # base read from the adapter config
    for model in (merged, via_adapter_dir):
        assert np.abs(generate(model, ref, pose, seed=2, steps=2).astype(int) - expected).max() <= 1
    with pytest.raises(InputError, match="not a peft adapter"):
        lora.load_adapters(tiny_model(), {"guard_y": tmp_path / "base"})


@pytest.mark.parametrize("combination", ["cat", "ties", "ties_svd", "linear"])
def test_fused_model_equals_base_plus_adapters(tmp_path, combination):
    model = with_adapters(("guard_a", "guard_b"))
    x, t, ref, pose = model_inputs()
    with torch.no_grad():
        model.base_model.set_adapter(["guard_a", "guard_b"])  # both active = exact sum of the deltas
        both = model(x, t, ref, pose)
        with model.disable_adapter():
            plain = model(x, t, ref, pose)
        name = lora.fuse_adapters(model, ["guard_a", "guard_b"], [1.0, 1.0], combination, density=0.5)
        fused = model(x, t, ref, pose)
        merged = lora.merged_generator(model)
        assert not any("lora_" in k for k in merged.state_dict())
        folded = merged(x, t, ref, pose)
    assert name == "fused"
    assert torch.allclose(fused, folded, atol=1e-5)
    assert (both - plain).abs().max() > 1e-3
    if combination == "cat":
        assert torch.allclose(fused, both, atol=1e-5)


def test_ties_svd_is_ties_on_the_delta_ws():
    """D9's TIES works on the delta Ws (peft's plain ``ties`` trims the A and B factors separately)."""
    from peft.utils.merge_utils import ties

    model = with_adapters(("guard_a", "guard_b"), rank=8)  # summed rank 16 = full rank of the 16-wide layers
    lora.fuse_adapters(model, ["guard_a", "guard_b"], [1.0, 1.0], "ties_svd", density=0.5)
    layer = model.base_model.model.unet.mid_block.attentions[0].to_q
    deltas = torch.stack([layer.get_delta_weight(n) for n in ("guard_a", "guard_b")])
    expected = ties(deltas, torch.tensor([1.0, 1.0]), density=0.5)
    assert torch.allclose(layer.get_delta_weight("fused"), expected, atol=1e-5)
    lora.fuse_adapters(model, ["guard_a", "guard_b"], [1.0, 1.0], "ties", density=0.5, fused_name="factors")
    assert not torch.allclose(layer.get_delta_weight("factors"), expected, atol=1e-3)


def test_a_single_adapter_is_fused_exactly_even_with_ties():
    model = with_adapters(("guard_a",))
    x, t, ref, pose = model_inputs()
    with torch.no_grad():
        alone = model(x, t, ref, pose)
        lora.fuse_adapters(model, ["guard_a"], [1.0], "ties", density=0.2)
        assert torch.allclose(model(x, t, ref, pose), alone, atol=1e-5)


def test_unknown_fusion_is_refused():
    base = tiny_model()
    model = lora.attach_lora(base, lora.lora_config(base, 2, 2, lora.ATTENTION_TARGETS, False), "guard_a")
    with pytest.raises(ConfigError, match="combination"):
        lora.fuse_adapters(model, ["guard_a"], [1.0], "svd-ish", 0.5)


def test_preserve_term_is_zero_at_start_and_holds_benign_closer():
    """The optional preserve term starts at 0 (LoRA B is zero) and keeps benign predictions nearer the base."""
    from safealign.generation.diffusion import noised_batch, predict
    from safealign.generation.guard import GuardConfig, train_guard
    from safealign.generation.training import step_generators

    benign = Triples(images(6, 1), images(6, 2), images(6, 3))
    unsafe = Triples(images(6, 4), images(6, 5), np.full((6, S, S, 3), 128, np.uint8))
    drift = {}
    for weight in (0.0, 50.0):
        base = tiny_model()
        cfg = GuardConfig(rank=4, alpha=4.0, target_modules=("to_q", "to_k", "to_v", "conv1", "conv2"),
                          batch_size=4, preserve=weight)
        guarded, result = train_guard(base, benign, unsafe, "g", cfg, LossConfig(), LoopConfig(12, 2e-2, 0))
        if weight:
            # zero up to float rounding: the CPU may pick a different conv kernel for the wrapped layer (5e-14 seen)
            assert result.history[0]["preserve"] < 1e-9 and result.history[-1]["preserve"] > 1e-6
        else:
            assert "preserve" not in result.history[0]
        _, gen = step_generators(7, 0)
        batch = noised_batch(guarded, benign.target, benign.reference, benign.pose, gen, LossConfig())
        with torch.no_grad():
            with guarded.disable_adapter():
                frozen = predict(guarded, batch)
            drift[weight] = float(((predict(guarded, batch) - frozen) ** 2).mean())
    assert drift[50.0] < drift[0.0]


def test_noised_batch_head_and_loss_agree():
    from safealign.generation.diffusion import noised_batch, predict, weighted_error

    model, d = tiny_model(), Triples(images(4, 1), images(4, 2), images(4, 3))
    full = per_sample_loss(model, d.target, d.reference, d.pose, torch.Generator().manual_seed(3), LossConfig())
    batch = noised_batch(model, d.target, d.reference, d.pose, torch.Generator().manual_seed(3), LossConfig())
    with torch.no_grad():
        assert torch.allclose(weighted_error(batch, predict(model, batch)), full.detach())
        head = batch.head(2)
        assert head.noisy.shape[0] == 2 and torch.equal(head.t, batch.t[:2])


def test_safety_timesteps_respect_their_lower_bound_and_bad_bound_is_refused():
    from safealign.generation.diffusion import noised_batch
    from safealign.generation.guard import GuardConfig, train_guard

    model, d = tiny_model(), Triples(images(8, 1), images(8, 2), images(8, 3))
    t_min = torch.tensor([0] * 4 + [900] * 4)
    t = torch.cat([noised_batch(model, d.target, d.reference, d.pose, torch.Generator().manual_seed(s),
                                LossConfig(), t_min=t_min).t.view(1, -1) for s in range(20)])
    assert int(t[:, 4:].min()) >= 900 and int(t.max()) <= 999 and int(t[:, :4].min()) < 900
    with pytest.raises(ConfigError, match="train_guard.safety_t_min"):
        train_guard(model, d, d, "g", GuardConfig(safety_t_min=1000), LossConfig(), LoopConfig(1, 1e-3, 0))


def test_tied_samples_share_noise_timestep_and_reference_drop():
    from safealign.generation.diffusion import noised_batch
    from safealign.generation.guard import noise_ties

    tie = noise_ties(4, 8)
    assert tie.tolist() == [4, 5, 6, 7, 4, 5, 6, 7] and noise_ties(3, 5).tolist() == [3, 4, 2, 3, 4]
    model, d = tiny_model(), Triples(images(8, 1), images(8, 2), images(8, 3))
    same = Triples(np.repeat(d.reference[:1], 8, 0), np.repeat(d.target[:1], 8, 0), np.repeat(d.pose[:1], 8, 0))
    loss = LossConfig(ref_drop_prob=0.5, noise_offset=0.1)
    t_min = torch.tensor([0] * 4 + [500] * 4)
    free = noised_batch(model, same.target, same.reference, same.pose, torch.Generator().manual_seed(1), loss, t_min=t_min)
    tied = noised_batch(model, same.target, same.reference, same.pose, torch.Generator().manual_seed(1), loss,
                        t_min=t_min, tie=tie)
    # safety rows (4..7) are drawn exactly as without ties; each fidelity row repeats its partner's draw
    for f in ("noisy", "t", "reference", "goal", "weight"):
        assert torch.equal(getattr(tied, f)[4:], getattr(free, f)[4:])
        assert torch.equal(getattr(tied, f)[:4], getattr(tied, f)[4:])
    assert int(tied.t.min()) >= 500 and not torch.equal(free.noisy[:4], free.noisy[4:])
    assert {bool(r.abs().sum() == 0) for r in tied.reference} == {True, False}  # drops happened, copied in pairs
    diff = noised_batch(model, d.target, d.reference, d.pose, torch.Generator().manual_seed(1), loss, tie=tie)
    assert torch.equal(diff.t[:4], diff.t[4:]) and not torch.equal(diff.noisy[:4], diff.noisy[4:])


def test_guard_with_paired_noise_trains_and_needs_pairing():
    from safealign.generation.guard import GuardConfig, train_guard

    model, d = tiny_model(), Triples(images(6, 1), images(6, 2), images(6, 3))
    with pytest.raises(ConfigError, match="train_guard.pair_noise"):
        train_guard(model, d, d, "g", GuardConfig(pair_noise=True), LossConfig(), LoopConfig(1, 1e-3, 0))
    cfg = GuardConfig(batch_size=4, preserve=1.0, pair_by_reference=True, pair_noise=True)
    _, result = train_guard(tiny_model(), d, d, "g", cfg, LossConfig(), LoopConfig(2, 1e-3, 0))
    assert len(result.history) == 2 and all(np.isfinite(h["loss"]) for h in result.history)


def test_cross_reference_rows_get_another_subjects_reference_and_bad_counts_are_refused():
    from safealign.generation.guard import GuardConfig, distinct_references, other_references, train_guard

    refs = images(3, 1)
    fidelity_refs = refs[[0, 0, 1, 2, 2, 1]]
    subjects = distinct_references(fidelity_refs)
    assert len(subjects) == 3 and all(np.array_equal(a, b) for a, b in zip(subjects, refs))
    rng = np.random.default_rng(0)
    drawn = set()
    for _ in range(30):
        out = other_references(rng, fidelity_refs, subjects)
        for own, new in zip(fidelity_refs, out):
            assert not np.array_equal(own, new)
            drawn.add(new.tobytes())
    assert len(drawn) == 3
    model = tiny_model()
    d = Triples(fidelity_refs, images(6, 2), images(6, 3))
    for cfg in (GuardConfig(cross_reference=1), GuardConfig(preserve=1.0, cross_reference=4)):
        with pytest.raises(ConfigError, match="train_guard.cross_reference"):
            train_guard(model, d, d, "g", cfg, LossConfig(), LoopConfig(1, 1e-3, 0))
    one_subject = Triples(refs[[0, 0, 0]], images(3, 2), images(3, 3))
    with pytest.raises(ValueError, match="two subjects"):
        train_guard(model, one_subject, d, "g", GuardConfig(preserve=1.0, cross_reference=1), LossConfig(),
                    LoopConfig(1, 1e-3, 0))
    _, result = train_guard(tiny_model(), d, d, "g", GuardConfig(preserve=1.0, cross_reference=3), LossConfig(),
                            LoopConfig(2, 1e-3, 0))
    assert len(result.history) == 2 and result.history[-1]["preserve"] >= 0.0


def test_cross_reference_safety_gives_paired_safety_rows_the_same_other_reference():
    from safealign.generation.guard import (GuardConfig, distinct_references, guard_batch, reference_partners,
                                            train_guard)

    refs = images(3, 1)  # three subjects, each with benign and unsafe rows
    fidelity = Triples(refs[[0, 0, 1, 1, 2, 2]], images(6, 2), images(6, 3))
    safety = Triples(refs[[0, 1, 2]], images(3, 4), images(3, 5))
    partners = reference_partners(safety.reference, fidelity.reference)
    subjects = distinct_references(fidelity.reference)
    same = lambda a, b: np.array_equal(a, b)  # noqa: E731
    for on in (False, True):
        cfg = GuardConfig(batch_size=8, preserve=1.0, pair_by_reference=True, cross_reference=3,
                          cross_reference_safety=on)
        for seed in range(5):
            batch = guard_batch(np.random.default_rng(seed), fidelity, safety, cfg, partners, subjects)
            own = [next(i for i in range(3) if same(t, safety.target[i])) for t in batch.target[4:]]
            assert same(batch.reference[0], batch.reference[4]) and same(batch.reference[4], refs[own[0]])
            for k in (1, 2, 3):  # cross-reference rows: another subject than their own safety partner
                assert not same(batch.reference[k], refs[own[k]])
                assert same(batch.reference[4 + k], batch.reference[k] if on else refs[own[k]])
    model, d = tiny_model(), Triples(images(6, 1), images(6, 2), images(6, 3))
    for cfg in (GuardConfig(preserve=1.0, cross_reference_safety=True),
                GuardConfig(preserve=1.0, cross_reference=1, cross_reference_safety=True)):
        with pytest.raises(ConfigError, match="train_guard.cross_reference_safety"):
            train_guard(model, d, d, "g", cfg, LossConfig(), LoopConfig(1, 1e-3, 0))
    cfg = GuardConfig(batch_size=4, preserve=1.0, pair_by_reference=True, cross_reference=1,
                      cross_reference_safety=True)
    _, result = train_guard(tiny_model(), fidelity, safety, "g", cfg, LossConfig(), LoopConfig(2, 1e-3, 0))
    assert len(result.history) == 2 and all(np.isfinite(h["loss"]) for h in result.history)


def test_safety_probe_rows_label_fidelity_zero_and_safety_one():
    from safealign.generation.safety_probe import probe_rows

    fidelity = Triples(images(5, 1), images(5, 2), images(5, 3))
    safety = Triples(images(4, 4), images(4, 5), images(4, 6))
    batch = Triples.concat([fidelity.take(np.arange(2)), safety.take(np.arange(2))])
    pose, labels = probe_rows(np.random.default_rng(0), batch, 2, fidelity, safety, 0)
    assert np.array_equal(pose, batch.pose) and labels.tolist() == [0, 0, 1, 1]
    pose, labels = probe_rows(np.random.default_rng(0), batch, 2, fidelity, safety, 3)
    assert len(pose) == 10 and labels.tolist() == [0, 0, 1, 1, 0, 0, 0, 1, 1, 1]
    in_set = lambda rows, s: all(any(np.array_equal(r, x) for x in s.pose) for r in rows)  # noqa: E731
    assert in_set(pose[4:7], fidelity) and in_set(pose[7:], safety)


def half_lit_sets() -> tuple[Triples, Triples]:
    """Toy guard sets that only the pose tells apart: benign poses light the left half, unsafe the right."""
    rng = np.random.default_rng(0)
    poses = np.zeros((2, 6, S, S, 3), np.uint8)
    poses[0, :, :, : S // 2] = 255
    poses[1, :, :, S // 2:] = 255
    frames = lambda: rng.integers(0, 256, (6, S, S, 3), dtype=np.uint8)  # noqa: E731
    return Triples(frames(), poses[0], frames()), Triples(frames(), poses[1], frames())


def test_safety_probe_teaches_the_adapter_to_change_pose_features_on_unsafe_poses_only():
    from safealign.generation.guard import GuardConfig, train_guard
    from safealign.generation.safety_probe import adapter_delta

    fidelity, safety = half_lit_sets()
    benign_pose, unsafe_pose = fidelity.pose, safety.pose
    base = tiny_model()
    with pytest.raises(ConfigError, match="train_guard.safety_probe"):
        train_guard(base, fidelity, safety, "g", GuardConfig(safety_probe=1.0), LossConfig(), LoopConfig(1, 1e-3, 0))
    cfg = GuardConfig(batch_size=4, pose_guider_lora=True, safety_probe=1.0, safety_probe_rows=2)
    model, result = train_guard(base, fidelity, safety, "g", cfg, LossConfig(), LoopConfig(40, 1e-2, 0))
    probe = [h["probe"] for h in result.history]
    assert np.mean(probe[-5:]) < 0.5 * np.mean(probe[:5])  # starts at log 2: the fresh LoRA changes nothing
    with torch.no_grad():
        delta = {label: adapter_delta(model, pose[:1]) for label, pose in (("benign", benign_pose),
                                                                            ("unsafe", unsafe_pose))}
    assert not torch.allclose(delta["benign"], delta["unsafe"])
    _, plain = train_guard(tiny_model(), fidelity, safety, "g", GuardConfig(batch_size=4), LossConfig(),
                           LoopConfig(1, 1e-3, 0))
    assert "probe" not in plain.history[0]


def test_safety_probe_warm_up_trains_the_pose_guider_lora_alone():
    from safealign.generation.guard import GuardConfig, train_guard
    from safealign.generation.lora import attach_lora, lora_config
    from safealign.generation.safety_probe import SafetyProbe, pose_guider_of, warm_up

    fidelity, safety = half_lit_sets()
    base = tiny_model()
    model = attach_lora(base, lora_config(base, 4, 4.0, ("to_q",), True), "g")
    probe = SafetyProbe(pose_guider_of(model).config.out_channels)
    result = warm_up(model, probe, fidelity.pose, safety.pose, 4, LoopConfig(40, 1e-2, 0), "g")
    losses = [h["probe"] for h in result.history]
    assert len(losses) == 40 and np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    moved = {n: bool(p.abs().sum() > 0) for n, p in model.named_parameters() if "lora_B" in n}
    assert any(v for n, v in moved.items() if "pose_guider" in n)
    assert not any(v for n, v in moved.items() if "unet" in n)  # the UNet's LoRA B starts at zero, untouched
    for cfg in (GuardConfig(pose_guider_lora=True, safety_probe_warmup=5),
                GuardConfig(pose_guider_lora=True, safety_probe=1.0, safety_probe_warmup=5)):
        with pytest.raises(ConfigError, match="train_guard.safety_probe_warmup"):
            train_guard(tiny_model(), fidelity, safety, "g", cfg, LossConfig(), LoopConfig(1, 1e-3, 0))
    cfg = GuardConfig(batch_size=4, pose_guider_lora=True, safety_probe=1.0, safety_probe_rows=2,
                      safety_probe_warmup=3)
    _, trained = train_guard(tiny_model(), fidelity, safety, "g", cfg, LossConfig(), LoopConfig(2, 1e-3, 0))
    assert len(trained.history) == 2  # the warm-up's steps are not the dual objective's


def test_safety_probe_quiet_keeps_the_benign_pose_features_unchanged():
    from safealign.generation.guard import GuardConfig, train_guard
    from safealign.generation.lora import attach_lora, lora_config
    from safealign.generation.safety_probe import SafetyProbe, adapter_delta, pose_guider_of, warm_up

    fidelity, safety = half_lit_sets()

    def warmed(quiet: float) -> tuple[float, float, list[dict]]:
        base = tiny_model()
        model = attach_lora(base, lora_config(base, 4, 4.0, ("to_q",), True), "g")
        probe = SafetyProbe(pose_guider_of(model).config.out_channels)
        result = warm_up(model, probe, fidelity.pose, safety.pose, 4, LoopConfig(40, 1e-2, 0), "g", quiet)
        with torch.no_grad():
            norms = [adapter_delta(model, s.pose[:2]).pow(2).mean().item() for s in (fidelity, safety)]
        return norms[0], norms[1], result.history

    loose_benign, loose_unsafe, loose = warmed(0.0)
    quiet_benign, quiet_unsafe, quiet = warmed(1.0)
    assert "quiet" not in loose[0] and "quiet" in quiet[0]
    assert np.mean([h["probe"] for h in quiet[-5:]]) < 0.5 * np.mean([h["probe"] for h in quiet[:5]])
    assert quiet_benign < 0.05 * loose_benign  # without the term the detector moves benign features too
    assert quiet_benign < 0.05 * quiet_unsafe  # with it the change is on unsafe poses
    with pytest.raises(ConfigError, match="train_guard.safety_probe_quiet"):
        train_guard(tiny_model(), fidelity, safety, "g", GuardConfig(safety_probe_quiet=1.0), LossConfig(),
                    LoopConfig(1, 1e-3, 0))
    cfg = GuardConfig(batch_size=4, pose_guider_lora=True, safety_probe=1.0, safety_probe_quiet=1.0)
    _, trained = train_guard(tiny_model(), fidelity, safety, "g", cfg, LossConfig(), LoopConfig(2, 1e-3, 0))
    assert all(np.isfinite(h["quiet"]) and np.isfinite(h["loss"]) for h in trained.history)


def test_pairing_by_reference_draws_benign_rows_of_the_same_subject():
    from safealign.generation.guard import draw_indices, reference_partners

    refs = images(3, 1)  # three subjects
    fidelity = refs[[0, 0, 1, 1, 1, 2]]
    safety = np.concatenate([refs[[0, 1]], images(1, 9)])  # the last safety row has no benign partner
    partners = reference_partners(safety, fidelity)
    assert [p.tolist() for p in partners] == [[0, 1], [2, 3, 4], []]
    rng = np.random.default_rng(0)
    seen_unmatched = set()
    for _ in range(50):
        benign, unsafe = draw_indices(rng, len(fidelity), len(safety), 4, 4, partners)
        assert len(benign) == len(unsafe) == 4
        for b, u in zip(benign, unsafe):
            if u < 2:
                assert np.array_equal(fidelity[b], safety[u])
            else:
                seen_unmatched.add(int(b))
    assert len(seen_unmatched) > 1  # unmatched rows fall back to any fidelity row
    benign, _ = draw_indices(np.random.default_rng(0), len(fidelity), len(safety), 4, 4, None)
    assert benign.min() >= 0 and benign.max() < len(fidelity)



@pytest.mark.parametrize("prediction", ["v_prediction", "epsilon"])
def test_redirected_goal_implies_the_goal_frame(prediction):
    """Aimed at the frame the batch was noised from, the redirected goal is the ordinary diffusion goal; aimed
    at another frame, the clean frame the goal implies (DDIM's x0 estimate) is that frame."""
    from dataclasses import replace

    from safealign.generation.diffusion import noised_batch, redirected_goal, to_signed

    torch.manual_seed(0)
    model = PoseGuidedGenerator.build(replace(TINY, prediction_type=prediction))
    d = Triples(images(6, 1), images(6, 2), images(6, 3))
    batch = noised_batch(model, d.target, d.reference, d.pose, torch.Generator().manual_seed(1),
                         LossConfig(noise_offset=0.0))
    scheduler = model.train_scheduler()
    same = redirected_goal(scheduler, batch, to_signed(d.target, "cpu"), prediction)
    torch.testing.assert_close(same, batch.goal, rtol=1e-4, atol=1e-3)
    other = to_signed(images(6, 9), "cpu")
    goal = redirected_goal(scheduler, batch, other, prediction)
    alphas = scheduler.alphas_cumprod[batch.t].view(-1, 1, 1, 1)
    a, s = alphas.sqrt(), (1 - alphas).sqrt()
    implied = a * batch.noisy - s * goal if prediction == "v_prediction" else (batch.noisy - s * goal) / a
    torch.testing.assert_close(implied, other, rtol=1e-4, atol=1e-3)


def test_truth_input_noises_the_true_frames_and_needs_them(tmp_path):
    """safety_input truth: the safety rows start from their true frames (``source``); without them it is refused,
    and the sources survive the guard-data file."""
    from safealign.generation.data import load_triples, save_triples
    from safealign.generation.guard import GuardConfig, train_guard

    benign = Triples(images(6, 1), images(6, 2), images(6, 3))
    unsafe = Triples(images(6, 4), images(6, 5), images(6, 6))
    safety = unsafe.with_target(degrade(unsafe.target, "gray", None), keep_source=True)
    assert np.array_equal(safety.source, unsafe.target) and np.array_equal(safety.take([1, 2]).source,
                                                                            unsafe.target[[1, 2]])
    with pytest.raises(ValueError, match="source"):
        train_guard(tiny_model(), benign, safety.with_target(safety.target), "g", GuardConfig(safety_input="truth"),
                    LossConfig(), LoopConfig(1, 1e-3, 0))
    losses = {}
    for kind in ("degraded", "truth"):
        _, result = train_guard(tiny_model(), benign, safety, "g", GuardConfig(batch_size=4, safety_input=kind),
                                LossConfig(), LoopConfig(2, 1e-3, 0))
        losses[kind] = result.history[0]["safety"]
    assert losses["truth"] != losses["degraded"]
    save_triples(tmp_path / "g.safetensors", {"safety": safety, "fidelity": benign})
    loaded = load_triples(tmp_path / "g.safetensors")
    assert np.array_equal(loaded["safety"].source, unsafe.target) and loaded["fidelity"].source is None
