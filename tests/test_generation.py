"""Generator library: the three pose paths, save/load, determinism, posture-token features, degrade kinds,
resumable loop, LoRA placement and round trip, the dual objective, and the three fusions."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from safealign.errors import ConfigError, InputError
from safealign.generation import lora
from safealign.generation.data import Triples, frame_indices, load_triples, pad_frames, resize_square, save_triples
from safealign.generation.degrade import degrade
from safealign.generation.diffusion import (LossConfig, noised_batch, predict, redirected_goal, to_signed,
                                            weighted_error)
from safealign.generation.guard import GuardConfig, train_guard
from safealign.generation.loading import load_generator
from safealign.generation.model import Condition, GeneratorConfig, PoseGuidedGenerator
from safealign.generation.pose_tokens import TokenJoints, keypoint_features
from safealign.generation.sampling import generate
from safealign.generation.training import LoopConfig, run_training, step_generators
from safealign.layouts import get_layout

TINY = GeneratorConfig(resolution=16, patch_size=2, block_out_channels=(8, 16), layers_per_block=1,
                       cross_attention_levels=(False, True), attention_head_dim=8, pose_guider_channels=(8, 8),
                       token_dim=16, token_layers=1, token_heads=2, reference_patch=8, max_frames=8,
                       prediction_type="v_prediction", train_timesteps=1000)
S, T = TINY.resolution, 4
TOKENS = get_layout("mediapipe33").tokens
J = len(TOKENS.joints)
LOSS = LossConfig(min_snr_gamma=5.0, ref_drop_prob=0.1, noise_offset=0.05)


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_model(seed: int = 0, config: GeneratorConfig = TINY) -> PoseGuidedGenerator:
    torch.manual_seed(seed)
    model = PoseGuidedGenerator.build(config, TOKENS, "mediapipe33")
    torch.nn.init.normal_(model.pose_guider.conv_out.weight, std=0.05)  # untrained zero-init hides the pose
    return model.eval()


def images(n: int = 3, seed: int = 0, size: int = S) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def keypoints(n: int, seed: int = 0, frames: int = T) -> np.ndarray:
    rng = np.random.default_rng(seed)
    kp = rng.uniform(0.2, 0.8, (n, frames, J, 3)).astype(np.float32)
    kp[..., 2] = 1.0
    return kp


def rows(n: int = 3, seed: int = 0, target: np.ndarray | None = None) -> Triples:
    return Triples(images(n, seed), images(n, seed + 1), images(n, seed + 2) if target is None else target,
                   keypoints(n, seed + 3), np.arange(n) % T)


def randomize_adapter(model, name: str, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for key, param in model.named_parameters():
        if f".{name}." in key and "lora_" in key:
            param.data = torch.randn(param.shape, generator=gen) * 0.1


def with_adapters(names: tuple[str, ...], groups: tuple[str, ...] = ("cross_kv", "pose_tokens"), rank: int = 4):
    """A tiny generator wrapped with random LoRA adapters ``names`` (seeds 1, 2, ...), the first one active."""
    base = tiny_model()
    config = lora.lora_config(base, rank, rank, groups)
    model = lora.attach_lora(base, config, names[0])
    for name in names[1:]:
        model.add_adapter(name, config)
    for seed, name in enumerate(names, start=1):
        randomize_adapter(model, name, seed)
    return model


def test_save_load_round_trip_gives_identical_outputs(tmp_path):
    model, r = tiny_model(), rows()
    model.save_pretrained(tmp_path / "gen")
    assert {p.name for p in (tmp_path / "gen").iterdir()} >= {"unet", "pose_guider", "pose_tokens",
                                                              "reference_tokens", "scheduler"}
    again = PoseGuidedGenerator.from_pretrained(tmp_path / "gen")
    assert again.layout == "mediapipe33"
    assert np.array_equal(generate(model, r, seed=1, steps=2), generate(again, r, seed=1, steps=2))


def test_not_a_generator_directory_or_an_old_format_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="not a generator directory"):
        PoseGuidedGenerator.from_pretrained(tmp_path)
    tiny_model().save_pretrained(tmp_path / "gen")
    meta = tmp_path / "gen" / "generator_config.json"
    meta.write_text(meta.read_text().replace('"format_version": 2', '"format_version": 1'))
    with pytest.raises(InputError, match="format_version 1, expected 2"):
        PoseGuidedGenerator.from_pretrained(tmp_path / "gen")


def test_generate_is_deterministic_and_batch_independent():
    model, r = tiny_model(), rows(4)
    whole = generate(model, r, seed=3, steps=2, batch_size=4)
    assert np.array_equal(whole, generate(model, r, seed=3, steps=2, batch_size=4))
    # other batch sizes may pick other float kernels: equal up to the last 8-bit step
    assert np.abs(whole.astype(int) - generate(model, r, seed=3, steps=2, batch_size=1)).max() <= 1
    assert not np.array_equal(whole, generate(model, r, seed=4, steps=2))


def test_the_map_and_the_posture_tokens_both_steer_and_each_can_be_switched_off():
    model, r = tiny_model(), rows(2)
    other_map = Triples(r.reference, images(2, 9), r.target, r.keypoints, r.frame)
    other_tokens = Triples(r.reference, r.pose, r.target, keypoints(2, 9), r.frame)
    out = generate(model, r, seed=0, steps=2)
    assert not np.array_equal(out, generate(model, other_map, seed=0, steps=2))
    assert not np.array_equal(out, generate(model, other_tokens, seed=0, steps=2))
    # map off: another map changes nothing; tokens off: other keypoints change nothing
    assert np.array_equal(generate(model, r, seed=0, steps=2, use_map=0.0),
                          generate(model, other_map, seed=0, steps=2, use_map=0.0))
    assert np.array_equal(generate(model, r, seed=0, steps=2, use_tokens=0.0),
                          generate(model, other_tokens, seed=0, steps=2, use_tokens=0.0))


def test_the_generated_frame_is_marked_among_the_clip_tokens():
    model, r = tiny_model(), rows(2)
    moved = Triples(r.reference, r.pose, r.target, r.keypoints, (r.frame + 1) % T)
    assert not np.array_equal(generate(model, r, seed=0, steps=2), generate(model, moved, seed=0, steps=2))


def test_keypoint_features_are_clip_normalised_and_ignore_invisible_joints():
    kp = torch.from_numpy(keypoints(2, 1))
    args = (list(TOKENS.bones), list(TOKENS.centre), [list(g) for g in TOKENS.scale])
    base = keypoint_features(kp, *args)
    shifted = kp.clone()
    shifted[..., :2] = (kp[..., :2] - 0.5) * 0.5 + 0.55          # scaled and moved in the frame
    moved = keypoint_features(shifted, *args)
    rel = 2 * J                                                  # the clip-normalised coordinates come first
    torch.testing.assert_close(moved[..., :rel], base[..., :rel], rtol=1e-4, atol=1e-4)
    assert not torch.allclose(moved[..., -2 * len(TOKENS.bones) - 2 * J:], base[..., -2 * len(TOKENS.bones) - 2 * J:])
    hidden = kp.clone()
    hidden[:, :, 5, 2] = 0.0
    hidden[:, :, 5, :2] = 99.0                                   # an invisible joint's coordinates are ignored
    feats = keypoint_features(hidden, *args)
    assert torch.isfinite(feats).all() and feats.abs().max() < 50


def test_token_joints_select_the_layouts_points_and_zero_missing_ones():
    pose = np.random.default_rng(0).uniform(0, 1, (5, 33, 4)).astype(np.float32)
    pose[2, 11] = np.nan
    kp = TOKENS.select(pose)
    assert kp.shape == (5, J, 3) and np.isfinite(kp).all()
    assert (kp[2, TOKENS.joints.index(11)] == 0).all()
    assert np.allclose(kp[0, 0], pose[0, TOKENS.joints[0], [0, 1, 3]])
    face = get_layout("face140").tokens
    assert isinstance(face, TokenJoints) and len(face.joints) > 20


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


def test_rows_of_clips_of_different_lengths_concatenate_and_survive_the_cache(tmp_path):
    short = Triples(images(2), images(2, 1), images(2, 2), keypoints(2, 3, frames=2), np.array([0, 1]))
    joined = Triples.concat([short, rows(3)])
    assert joined.keypoints.shape == (5, T, J, 3) and (joined.keypoints[:2, 2:] == 0).all()
    assert pad_frames(short.keypoints, 2) is short.keypoints
    safety = joined.with_target(degrade(joined.target, "gray"), keep_source=True)
    save_triples(tmp_path / "g.safetensors", {"safety": safety, "fidelity": joined})
    loaded = load_triples(tmp_path / "g.safetensors")
    assert np.array_equal(loaded["safety"].source, joined.target) and loaded["fidelity"].source is None
    assert np.array_equal(loaded["fidelity"].keypoints, joined.keypoints)
    assert np.array_equal(loaded["fidelity"].frame, joined.frame)


def test_frame_indices_pick_evenly_among_the_allowed_frames():
    assert list(frame_indices(8, 3)) == [0, 4, 7]
    allowed = np.array([0, 0, 1, 1, 1, 1, 0, 0], bool)
    assert list(frame_indices(8, 2, allowed)) == [2, 5]
    assert list(frame_indices(8, 9, allowed)) == [2, 3, 4, 5]


def _loop(tmp_path, steps: int, callback=None, seed: int = 0):
    model, data = tiny_model(), rows(8)
    sched = model.train_scheduler()

    def step(_s, rng, gen):
        batch = noised_batch(model, data.take(rng.integers(0, len(data), 2)), gen, LOSS, sched)
        return {"loss": weighted_error(batch, predict(model, batch)).mean()}

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


def test_noised_batch_drops_each_path_at_its_rate_and_parts_agree():
    model, data = tiny_model(), rows(64)
    batch = noised_batch(model, data, torch.Generator().manual_seed(0), LOSS, map_drop=0.5, token_drop=0.25)
    assert 0.3 < 1 - float(batch.cond.use_map.mean()) < 0.7
    assert 0.1 < 1 - float(batch.cond.use_tokens.mean()) < 0.4
    assert noised_batch(model, data, torch.Generator(), LOSS).cond.use_map is None
    part = batch.part(2, 5)
    assert part.noisy.shape[0] == 3 and torch.equal(part.cond.frame, batch.cond.frame[2:5])
    t = noised_batch(model, data, torch.Generator().manual_seed(1), LOSS, t_min=900).t
    assert int(t.min()) >= 900 and int(t.max()) <= 999


def test_guard_targets_name_the_cross_attention_kv_and_the_token_encoder_only():
    model = tiny_model()
    kv = lora.guard_targets(model, ["cross_kv"])
    assert kv and all(".attn2." in n and n.endswith(("to_k", "to_v")) for n in kv)
    enc = lora.guard_targets(model, ["pose_tokens"])
    assert enc and all(n.startswith("pose_tokens.") for n in enc)
    assert not set(kv) & set(lora.guard_targets(model, ["self_attention"]))
    with pytest.raises(ConfigError, match="train_guard.targets"):
        lora.guard_targets(model, ["everything"])


def test_lora_adapter_round_trip_through_peft_and_load_generator(tmp_path):
    base = tiny_model()
    base.save_pretrained(tmp_path / "base")
    r = rows(2)
    peft_model = lora.attach_lora(base, lora.lora_config(base, 4, 4, ["cross_kv", "pose_tokens"]), "guard_x",
                                  tmp_path / "base")
    trainable = [k for k, p in peft_model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in k for k in trainable)
    assert any("attn2.to_k" in k for k in trainable) and any("pose_tokens.blocks" in k for k in trainable)
    randomize_adapter(peft_model, "guard_x", 1)
    expected = generate(peft_model, r, seed=2, steps=2)
    lora.save_adapter(peft_model, "guard_x", tmp_path / "adapter")
    assert lora.adapter_summary(tmp_path / "adapter")["r"] == 4
    reloaded = lora.load_adapters(PoseGuidedGenerator.from_pretrained(tmp_path / "base"),
                                  {"guard_x": tmp_path / "adapter"})
    assert np.array_equal(generate(reloaded, r, seed=2, steps=2), expected)
    merged = load_generator(tmp_path / "base", adapter=tmp_path / "adapter", device="cpu")
    via_adapter_dir = load_generator(tmp_path / "adapter", device="cpu")  # base read from the adapter config
    for model in (merged, via_adapter_dir):
        assert np.abs(generate(model, r, seed=2, steps=2).astype(int) - expected).max() <= 1
    with pytest.raises(InputError, match="not a peft adapter"):
        lora.load_adapters(tiny_model(), {"guard_y": tmp_path / "base"})


def _guard(groups=("cross_kv", "pose_tokens"), preserve: float = 0.0, safety_input: str = "truth",
           decision: float = 0.0) -> GuardConfig:
    return GuardConfig(rank=4, alpha=4.0, targets=tuple(groups), batch_size=4, lam=1.0, preserve=preserve,
                       safety_t_min=0, safety_input=safety_input, decision=decision)


def test_decision_term_teaches_the_token_adapter_to_tell_unsafe_from_benign_clips():
    """Weight 0: no term. Weight > 0: its cross-entropy starts at ~log 2 (untrained read-out) and falls as the
    posture-token adapter and the read-out separate the two sets of clips."""
    benign, unsafe = rows(8, 1), rows(8, 4)
    safety = unsafe.with_target(degrade(unsafe.target, "gray"), keep_source=True)
    _, off = train_guard(tiny_model(), benign, safety, "g", _guard(), LOSS, LoopConfig(1, 1e-3, 0))
    assert "decision" not in off.history[0]
    _, on = train_guard(tiny_model(), benign, safety, "g", _guard(decision=5.0), LOSS, LoopConfig(40, 2e-2, 0))
    first = np.mean([h["decision"] for h in on.history[:5]])
    last = np.mean([h["decision"] for h in on.history[-5:]])
    assert 0.4 < first < 1.2 and last < 0.5 * first


def test_preserve_term_is_zero_at_start_and_holds_benign_closer():
    benign, unsafe = rows(6, 1), rows(6, 4)
    safety = unsafe.with_target(degrade(unsafe.target, "gray"), keep_source=True)
    drift = {}
    for weight in (0.0, 50.0):
        guarded, result = train_guard(tiny_model(), benign, safety, "g", _guard(preserve=weight), LOSS,
                                      LoopConfig(12, 2e-2, 0))
        if weight:
            assert result.history[0]["preserve"] < 1e-9 and result.history[-1]["preserve"] > 1e-9
        else:
            assert "preserve" not in result.history[0]
        _, gen = step_generators(7, 0)
        batch = noised_batch(guarded, benign, gen, LOSS)
        with torch.no_grad():
            with guarded.disable_adapter():
                frozen = predict(guarded, batch)
            drift[weight] = float(((predict(guarded, batch) - frozen) ** 2).mean())
    assert drift[50.0] < drift[0.0]


def test_truth_input_needs_the_true_frames_and_differs_from_degraded_input():
    benign, unsafe = rows(6, 1), rows(6, 4)
    safety = unsafe.with_target(degrade(unsafe.target, "gray"), keep_source=True)
    with pytest.raises(ValueError, match="true frames"):
        train_guard(tiny_model(), benign, safety.with_target(safety.target), "g", _guard(), LOSS,
                    LoopConfig(1, 1e-3, 0))
    first = {kind: train_guard(tiny_model(), benign, safety, "g", _guard(safety_input=kind), LOSS,
                               LoopConfig(1, 1e-3, 0))[1].history[0]["safety"] for kind in ("degraded", "truth")}
    assert first["truth"] != first["degraded"]


@pytest.mark.parametrize("prediction", ["v_prediction", "epsilon"])
def test_redirected_goal_implies_the_goal_frame(prediction):
    """Aimed at the frame the batch was noised from, the redirected goal is the ordinary diffusion goal; aimed
    at another frame, the clean frame the goal implies (DDIM's x0 estimate) is that frame."""
    model = tiny_model(config=replace(TINY, prediction_type=prediction))
    d = rows(6, 1)
    batch = noised_batch(model, d, torch.Generator().manual_seed(1), replace(LOSS, noise_offset=0.0))
    scheduler = model.train_scheduler()
    same = redirected_goal(scheduler, batch, to_signed(d.target, "cpu"), prediction)
    torch.testing.assert_close(same, batch.goal, rtol=1e-4, atol=1e-3)
    other = to_signed(images(6, 9), "cpu")
    goal = redirected_goal(scheduler, batch, other, prediction)
    alphas = scheduler.alphas_cumprod[batch.t].view(-1, 1, 1, 1)
    a, s = alphas.sqrt(), (1 - alphas).sqrt()
    implied = a * batch.noisy - s * goal if prediction == "v_prediction" else (batch.noisy - s * goal) / a
    torch.testing.assert_close(implied, other, rtol=1e-4, atol=1e-3)


def test_condition_rows_and_device_move_keep_every_field():
    cond = Condition(torch.zeros(3, 3, S, S), torch.zeros(3, 3, S, S), torch.zeros(3, T, J, 3),
                     torch.arange(3), torch.ones(3), None)
    part = cond.rows(slice(1, 3)).to(torch.device("cpu"))
    assert part.frame.tolist() == [1, 2] and part.use_map.shape == (2,) and part.use_tokens is None
    assert part.keypoints.shape == (2, T, J, 3)


def test_masked_keypoint_modelling_learns_to_fill_in_hidden_frames():
    """The encoder's own objective falls when trained: hidden frames of smooth clips are recoverable."""
    from safealign.generation.pose_tokens import PoseTokenEncoder, masked_keypoint_loss

    torch.manual_seed(0)
    enc = PoseTokenEncoder(J, TOKENS.bones, TOKENS.centre, TOKENS.scale, 16, 1, 2, 8)
    t = torch.linspace(0, 1, T)[None, :, None, None]
    kp = torch.from_numpy(keypoints(32, 5))
    kp[..., :2] = kp[:, :1, :, :2] + 0.1 * t                    # every joint drifts linearly over the clip
    opt = torch.optim.Adam(enc.parameters(), 1e-2)
    losses = []
    for k in range(60):
        loss = masked_keypoint_loss(enc, kp, torch.Generator().manual_seed(k))
        losses.append(float(loss.detach()))
        loss.backward()
        opt.step()
        opt.zero_grad()
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])
