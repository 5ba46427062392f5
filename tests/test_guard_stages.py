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

from tests.conftest import TINY_MODEL

TINY_GENERATOR = {
    "tracking.enabled": False,
    "guard.resolution": 32,
    "guard.categories": ["discriminatory", "sexual"],
    **TINY_MODEL,
    "pretrain_generator.steps": 4,
    "pretrain_generator.batch_size": 2,
    "pretrain_generator.warmup_steps": 1,
    "pretrain_generator.frames_per_clip": 2,
    "pretrain_generator.checkpoint_every": 2,
    "pretrain_generator.token_objective.warmup": 2,
    "pretrain_generator.token_objective.batch": 4,
    "pretrain_generator.preview_steps": 2,
    "pretrain_generator.torch_threads": 1,
    "guard_data.frames_per_clip": 2,
    "guard_data.active_frames_per_clip": 2,
    "guard_data.curve_clips": 2,
    "train_guard.steps": 3,
    "train_guard.batch_size": 4,
    "train_guard.curve_every": 2,
    "evaluate_guard.steps": 2,
    "evaluate_guard.frames_per_clip": 1,
    "fuse_guard.combination": "cat",  # checked exactly below; closed_form and distill are switched on after it
    "fuse_guard.closed_form.rows": 8,
    "fuse_guard.distill.steps": 2,
    "fuse_guard.distill.batch_size": 4,
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
    assert {f"pose_ratio.{k}" for k in ("both", "map", "tokens")} <= set(metrics["pose_check"])
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
        assert m["r"] == p.rank and m["targets"] == p.targets
        assert all(".attn2.to_" in t or t.startswith("pose_tokens.") for t in m["target_modules"])
        assert [pt["step"] for pt in m["curve"]] == [2, 3] and 0 <= m["curve"][-1]["block_rate"] <= 1
    from safealign.generation.data import load_groups, load_triples

    sets = load_triples("data/processed/guard/sexual.safetensors")
    assert sets["safety"].source is not None and (sets["safety"].target == 128).all()  # gray, from true frames
    assert set(load_groups("data/processed/guard/sexual.safetensors")) >= {"curve_benign", "curve_unsafe"}
    assert train_guard.main(["--item", "celebrity"]) == 1  # not prepared: one-line error, exit 1
    assert guard_data.main(["--item", "unknown"]) == 1

    assert fuse_guard.main([]) == 0
    assert (Path("models/guard/fused_adapter") / "adapter_model.safetensors").is_file()
    fused = load_generator("models/guard/fused", device="cpu")
    names = [lora.adapter_name(c) for c in ("discriminatory", "sexual")]
    both = lora.load_adapters(PoseGuidedGenerator.from_pretrained("models/generator/base"),
                              {n: Path("models/guard/adapters") / c for n, c in zip(names, ("discriminatory", "sexual"))})
    both.add_weighted_adapter(names, [1.0, 1.0], adapter_name="sum", combination_type="cat")
    both.set_adapter("sum")
    rows = sets["fidelity"].take(np.arange(2))
    from safealign.generation.sampling import generate

    with torch.no_grad():
        summed = generate(both, rows, seed=0, steps=2)
        assert np.abs(generate(fused, rows, seed=0, steps=2).astype(int) - summed).max() <= 1
        with both.disable_adapter():
            base_out = generate(both, rows, seed=0, steps=2)
    single = load_generator("models/generator/base", adapter="models/guard/adapters/sexual", device="cpu")
    assert single.resolution == 32

    raw = yaml.safe_load(Path("params.yaml").read_text())
    for combination in ("closed_form", "distill"):
        raw["fuse_guard"]["combination"] = combination
        Path("params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
        assert fuse_guard.main([]) == 0
        assert combination in json.loads(Path("metrics/fuse_guard.json").read_text())
        out = generate(load_generator("models/guard/fused", device="cpu"), rows, seed=0, steps=2)
        assert not np.array_equal(out, base_out)
    shutil.rmtree("data/processed/guard")
    assert fuse_guard.main([]) == 1  # without the guard rows: one-line error naming them
    assert (Path("models/guard/fused") / "generator_config.json").is_file()  # the last good fusion stays


def test_adopting_a_given_base_and_refusing_a_bad_one(make_project, tmp_path):
    import torch as _torch

    from safealign.generation.model import PoseGuidedGenerator
    from safealign.layouts import get_layout
    from tests.test_generation import TINY

    _torch.manual_seed(0)
    PoseGuidedGenerator.build(TINY, get_layout("mediapipe33").tokens, "mediapipe33").save_pretrained(
        tmp_path / "given")
    make_project({"tracking.enabled": False, "guard.resolution": 16,
                  "pretrain_generator.base": str(tmp_path / "given")})
    assert pretrain_generator_main() == 0
    assert Path("models/generator/base/generator_config.json").is_file()
    assert json.loads(Path("metrics/pretrain_generator.json").read_text())["trained"] == 0
    make_project({"tracking.enabled": False, "guard.resolution": 64,
                  "pretrain_generator.base": str(tmp_path / "given")}, subdir="p2")
    assert pretrain_generator_main() == 2  # resolution mismatch is a config error
    make_project({"tracking.enabled": False, "pretrain_generator.base": str(tmp_path / "nothing")},
                 subdir="p3")
    assert pretrain_generator_main() == 1


def pretrain_generator_main() -> int:
    from stages import pretrain_generator

    return pretrain_generator.main([])
