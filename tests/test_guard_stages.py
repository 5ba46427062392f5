"""Stages pretrain_generator (kill + resume, adopt), guard_data, train_guard, fuse_guard on a tiny project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

TINY_GENERATOR = {
    "tracking.enabled": False,
    "guard.resolution": 32,
    "guard.categories": ["discriminatory", "sexual"],
    "pretrain_generator.model.block_out_channels": [8, 16],
    "pretrain_generator.model.attention_levels": [False, True],
    "pretrain_generator.model.pose_guider_channels": [8, 8],
    "pretrain_generator.steps": 4,
    "pretrain_generator.batch_size": 2,
    "pretrain_generator.warmup_steps": 1,
    "pretrain_generator.frames_per_clip": 2,
    "pretrain_generator.checkpoint_every": 2,
    "pretrain_generator.preview_steps": 2,
    "train_guard.steps": 3,
    "train_guard.batch_size": 4,
    "train_guard.cross_reference": 1,
    "train_guard.frames_per_clip": 2,
    "train_guard.check_steps": 2,
    "train_guard.check_clips": 2,
    "fuse_guard.combination": "ties",  # checked exactly below; closed_form and distill are switched on after it
    "fuse_guard.distill.steps": 2,
}


@pytest.fixture
def guard_project(make_project, tiny_pose_data):
    """A tiny project holding P2's curated pose data and tiny generator params."""
    root = make_project(TINY_GENERATOR)
    for part in ("processed/poses", "interim/motions"):  # the manifest points into both
        shutil.copytree(tiny_pose_data / "data" / part, root / "data" / part)
    shutil.copy(tiny_pose_data / "data/processed/generator_split.parquet", root / "data/processed")
    return root


@pytest.mark.slow
def test_guard_pipeline_end_to_end(guard_project, monkeypatch, capsys):
    from safealign.generation import lora, training
    from safealign.generation.loading import load_generator
    from safealign.generation.model import PoseGuidedGenerator
    from safealign.config import load_params
    from stages import fuse_guard, guard_data, pretrain_generator, train_guard

    class Killed(Exception):
        pass

    real = training.run_training

    def killed_after_3(*args, **kwargs):
        def kill(step, _values):
            if step == 3:
                raise Killed

        return real(*args[:6], callback=kill)

    monkeypatch.setattr(training, "run_training", killed_after_3)
    with pytest.raises(Killed):
        pretrain_generator.main([])
    assert not (guard_project / "models/generator/base").exists()
    monkeypatch.setattr(training, "run_training", real)
    assert pretrain_generator.main([]) == 0
    metrics = json.loads(Path("metrics/pretrain_generator.json").read_text())
    assert metrics["resumed_from"] == 2 and metrics["train_triples"] > 0
    assert set(metrics["pose_check"]) >= {"mse_true_pose", "mse_swapped_pose"}
    assert Path("reports/figures/pretrain_preview.png").is_file()

    for cat in ("discriminatory", "sexual"):
        assert guard_data.main(["--item", cat]) == 0
        assert train_guard.main(["--item", cat]) == 0
        adapter = Path("models/guard/adapters") / cat
        files = sorted(p.name for p in adapter.iterdir())
        assert files == ["adapter_config.json", "adapter_model.safetensors"]
        m = json.loads((Path("metrics/train_guard") / f"{cat}.json").read_text())
        assert np.isfinite(m["final"]["fidelity"]) and np.isfinite(m["final"]["safety"])
        p = load_params().train_guard
        assert m["r"] == p.rank and set(p.target_modules) <= set(m["target_modules"])
        assert m["ambiguous_unsafe_frames_dropped"] >= 0 if "ambiguous_unsafe_frames_dropped" in m else True
    from safealign.generation.data import load_triples

    assert load_triples("data/processed/guard/sexual.safetensors")["safety"].source is None  # default: degraded
    assert train_guard.main(["--item", "celebrity"]) == 1  # not prepared: one-line error, exit 1
    assert guard_data.main(["--item", "unknown"]) == 1

    assert fuse_guard.main([]) == 0
    assert (Path("models/guard/fused_adapter") / "adapter_model.safetensors").is_file()
    fused = load_generator("models/guard/fused", device="cpu")
    both = lora.load_adapters(PoseGuidedGenerator.from_pretrained("models/generator/base"),
                              {lora.adapter_name(c): Path("models/guard/adapters") / c
                               for c in ("discriminatory", "sexual")})
    p = load_params("params.yaml").fuse_guard  # TIES here; cat's exact sum: test_generation.py
    lora.fuse_adapters(both, [lora.adapter_name(c) for c in ("discriminatory", "sexual")], [1.0, 1.0],
                       p.combination, p.density)
    x, t = torch.randn(2, 3, 32, 32), torch.tensor([3, 700])
    ref, pose = torch.randn(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(fused(x, t, ref, pose), both(x, t, ref, pose), atol=1e-4)
        with both.disable_adapter():
            assert (fused(x, t, ref, pose) - both(x, t, ref, pose)).abs().max() > 1e-4  # not the base
    single = load_generator("models/generator/base", adapter="models/guard/adapters/sexual", device="cpu")
    assert single.resolution == 32

    raw = yaml.safe_load(Path("params.yaml").read_text())
    raw["fuse_guard"].update(combination="closed_form", closed_form={"rows": 4, "keep": 1.0, "ridge": 1e-3})
    Path("params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    assert fuse_guard.main([]) == 0
    assert json.loads(Path("metrics/fuse_guard.json").read_text())["closed_form"]["rows"] == 4
    closed = load_generator("models/guard/fused", device="cpu")
    with torch.no_grad():
        out = closed(x, t, ref, pose)
        assert (out - both(x, t, ref, pose)).abs().max() > 1e-4  # not the TIES merge
        with both.disable_adapter():
            assert (out - both(x, t, ref, pose)).abs().max() > 1e-4  # not the base
    photos = guard_project / "photos"  # the distillation's real photos: one good, one corrupt, one absent
    photos.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 24, 3), dtype=np.uint8)).save(photos / "a.png")
    (photos / "bad.jpg").write_bytes(b"not a jpeg")
    raw["project"]["shared_data"] = str(photos)
    raw["fuse_guard"].update(combination="distill", distill={
        "steps": 3, "lr": 1e-3, "batch_size": 4, "real_references": ["a.png", "bad.jpg", "none.png"],
        "real_share": 0.5, "real_rows": 4, "real_sample_steps": 2,
        "trajectory_share": 0.5, "trajectory_rows": 2, "trajectory_steps": 2,
        "trajectory_any_reference": True})
    Path("params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    assert fuse_guard.main([]) == 0
    distill = json.loads(Path("metrics/fuse_guard.json").read_text())["distill"]
    assert distill["steps"] == 3 and np.isfinite(distill["final"]["unsafe"])
    assert distill["real_references_used"] == ["a.png"]
    assert [(s["path"], s["path"] in s["error"]) for s in distill["real_references_skipped"]] == [
        ("bad.jpg", True), ("none.png", True)]
    with torch.no_grad():
        assert (load_generator("models/guard/fused", device="cpu")(x, t, ref, pose) - out).abs().max() > 1e-5
    raw["fuse_guard"]["distill"]["real_references"] = ["a.png", raw["evaluate_guard"]["real_reference"]]
    Path("params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    capsys.readouterr()
    assert fuse_guard.main([]) == 2  # a params error: the evaluation's real photo would score a trained input
    assert "fuse_guard.distill.real_references" in capsys.readouterr().err
    raw["fuse_guard"]["distill"].update(real_references=["a.png"], trajectory_share=0.75)
    Path("params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    assert fuse_guard.main([]) == 2  # real photo rows and trajectory rows would need more than the benign half
    assert "fuse_guard.distill.real_share + trajectory_share: expected <= 1" in capsys.readouterr().err
    raw["fuse_guard"]["distill"]["trajectory_share"] = 0.5
    raw["train_guard"]["safety_input"] = "truth"  # the true frames are kept, noised in training and distillation
    Path("params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    assert guard_data.main(["--item", "sexual"]) == 0
    sets = load_triples("data/processed/guard/sexual.safetensors")
    assert sets["safety"].source is not None and not np.array_equal(sets["safety"].source, sets["safety"].target)
    assert train_guard.main(["--item", "sexual"]) == 0 and fuse_guard.main([]) == 0
    _landmark_filter_selects_the_safety_rows(raw)
    shutil.rmtree("data/processed/guard")
    assert fuse_guard.main([]) == 1  # distill without its frames: one-line error naming them
    assert (Path("models/guard/fused") / "generator_config.json").is_file()  # the last good fusion stays


def test_adopting_a_given_base_and_refusing_a_bad_one(make_project, tmp_path):
    import torch as _torch

    from safealign.generation.model import GeneratorConfig, PoseGuidedGenerator
    from stages import pretrain_generator

    _torch.manual_seed(0)
    PoseGuidedGenerator.build(GeneratorConfig(32, 2, (8, 16), 1, (False, True), (8, 8))).save_pretrained(
        tmp_path / "given")
    make_project({"tracking.enabled": False, "guard.resolution": 32,
                  "pretrain_generator.base": str(tmp_path / "given")})
    assert pretrain_generator.main([]) == 0
    assert Path("models/generator/base/generator_config.json").is_file()
    assert json.loads(Path("metrics/pretrain_generator.json").read_text())["trained"] == 0
    make_project({"tracking.enabled": False, "guard.resolution": 64,
                  "pretrain_generator.base": str(tmp_path / "given")}, subdir="p2")
    assert pretrain_generator.main([]) == 2  # resolution mismatch is a config error
    make_project({"tracking.enabled": False, "pretrain_generator.base": str(tmp_path / "nothing")},
                 subdir="p3")
    assert pretrain_generator.main([]) == 1


def _landmark_filter_selects_the_safety_rows(raw: dict) -> None:
    """ambiguity_features landmarks: guard_data keeps exactly the unsafe frames the landmark rule keeps."""
    from safealign.generation import data
    from safealign.generation.ambiguity import distinct_frames
    from safealign.layouts import BODY, get_layout
    from stages import guard_data

    raw["train_guard"].update(ambiguity_features="landmarks", ambiguity_quantile=0.5)
    Path("params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    assert guard_data.main(["--item", "sexual"]) == 0
    rows = data.read_manifest("data/processed/poses/manifest.parquet")
    res, frames = raw["guard"]["resolution"], raw["train_guard"]["frames_per_clip"]
    fidelity = data.load_clip_triples(data.select(rows, "train", data.FIDELITY_LABELS), ".", res, frames)
    selected = data.select(rows, "train", [data.UNSAFE_LABEL], "sexual")
    unsafe = data.load_clip_triples(selected, ".", res, frames)
    keep = distinct_frames(unsafe, fidelity, 0.5, "landmarks", get_layout(BODY).bones)
    assert fidelity.landmarks is not None and keep.any()
    safety = data.load_triples("data/processed/guard/sexual.safetensors")["safety"]
    assert np.array_equal(safety.pose, unsafe.pose[keep])

    raw["train_guard"]["balance_actions"] = True  # each action as many rows as the largest, after the filter
    Path("params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    assert guard_data.main(["--item", "sexual"]) == 0
    grouped, action, names = data.load_by_action(selected, ".", res, frames)
    assert len(grouped) == len(unsafe) and len(names) >= 2
    keep = distinct_frames(grouped, fidelity, 0.5, "landmarks", get_layout(BODY).bones)
    counts = np.bincount(action[keep], minlength=len(names))
    safety = data.load_triples("data/processed/guard/sexual.safetensors")["safety"]
    assert len(safety) == counts.max() * np.count_nonzero(counts)
    assert {m.tobytes() for m in safety.pose} == {m.tobytes() for m in grouped.pose[keep]}
