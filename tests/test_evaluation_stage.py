"""stages.evaluate_guard end to end on tiny data and tiny generators built through the generation API."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.evaluation_fakes import SIZE, write_dataset

CATS = ["discriminatory", "sexual"]


def _tiny_models(root: Path) -> None:
    """A base generator, one random LoRA adapter per category and a 'fused' generator, in the stage layout."""
    from dataclasses import replace

    from safealign.generation import lora
    from safealign.generation.loading import load_generator
    from safealign.generation.model import PoseGuidedGenerator
    from safealign.layouts import get_layout
    from tests.test_generation import TINY

    torch.manual_seed(0)
    base_dir = root / "models/generator/base"
    base = PoseGuidedGenerator.build(replace(TINY, resolution=SIZE), get_layout("mediapipe33").tokens,
                                     "mediapipe33")
    torch.nn.init.normal_(base.pose_guider.conv_out.weight, std=0.05)
    base.save_pretrained(base_dir)
    for i, cat in enumerate(CATS):
        model = PoseGuidedGenerator.from_pretrained(base_dir)
        peft = lora.attach_lora(model, lora.lora_config(model, 2, 2, ["cross_kv", "pose_tokens"]), cat)
        gen = torch.Generator().manual_seed(i + 1)
        for key, param in peft.named_parameters():
            if "lora_B" in key:
                param.data = torch.randn(param.shape, generator=gen) * (0.3 if cat == "sexual" else 0.01)
        lora.save_adapter(peft, cat, root / f"models/guard/adapters/{cat}")
    fused = load_generator(base_dir, adapter=root / "models/guard/adapters/sexual", device="cpu")
    fused.save_pretrained(root / "models/guard/fused")


@pytest.mark.slow
def test_stage_writes_metrics_plots_report_and_gate_verdict(make_project) -> None:
    from stages import evaluate_guard

    root = make_project(
        {
            "guard.categories": CATS,
            "guard.resolution": SIZE,
            "tracking.enabled": False,
            "evaluate_guard.steps": 1,
            "evaluate_guard.frames_per_clip": 1,
            "evaluate_guard.real_max_frames": 8,
            "evaluate_guard.real_clip_frames": 8,
            "evaluate_guard.max_clips_per_group": 1,
            "evaluate_guard.max_robustness_clips_per_cell": 1,
        }
    )
    write_dataset(root, n_per_group=2, t=4)
    _tiny_models(root)
    assert evaluate_guard.main([]) == 0

    metrics = json.loads((root / "metrics/evaluate_guard.json").read_text())
    for key in (
        "block_rate_min",
        "robust_block_rate_mild_mean",
        "benign_fidelity_change_abs_pct",
        "near_miss_false_block_rate",
        "fusion_retention_min",
        "real_false_block_rate",
        "threshold_rule",
    ):
        assert key in metrics, key
    assert set(metrics["block_rate"]) == set(CATS)
    assert all(0.0 <= v <= 1.0 for v in metrics["single_block_rate"].values())
    assert metrics["n_clips"]["test"] == 4 and metrics["n_clips"]["val"] == 1
    assert metrics["n_clips"]["robustness"] == 3 * 3  # 3 (family, level) cells x 3 labels, one clip each
    # the strongly perturbed "sexual" adapter is the fused model: its block rate equals its single adapter's
    assert metrics["block_rate"]["sexual"] == metrics["single_block_rate"]["sexual"]
    assert "VALIDATION" in metrics["threshold_rule"]
    plots = sorted(p.name for p in (root / "metrics/plots/evaluate_guard").glob("*.csv"))
    assert plots == ["robustness_jitter.csv", "robustness_part_dropout.csv"]
    html = (root / "reports/poseguard.html").read_text()
    for text in (
        "Gate",
        "Block rule",
        "Robustness",
        "Examples",
        "Real poses",
        "benign real motion",
        "near_miss",
        "discriminatory",
        "View tiers",
        "Per action",
        "Keypoint ceiling",
        "Learning curves",
    ):
        assert text in html, text
    assert html.count("data:image/png;base64,") >= 4 + 2  # grids per group + curves + bars
    if metrics["n_clips"]["real"]:  # ../shared/data present: one DWPose-render window
        assert metrics["n_clips"]["real"] == 1 and np.isfinite(metrics["real_ssim_vs_base"])
        # the fused model is the sexual adapter merged: the same figures on real motion
        single = metrics["single_real"]["sexual"]["ssim_vs_base"]
        assert single == pytest.approx(metrics["real_ssim_vs_base"], abs=1e-3)
        assert all(np.isfinite(metrics["single_real"][c]["ssim_vs_base"]) for c in CATS)
        assert "benign real motion per model" in html


def test_missing_models_are_a_clear_error(make_project, capsys) -> None:
    from stages import evaluate_guard

    root = make_project(
        {
            "guard.categories": CATS,
            "guard.resolution": SIZE,
            "tracking.enabled": False,
            "evaluate_guard.real_max_frames": 8,
            "evaluate_guard.real_clip_frames": 8,
        }
    )
    write_dataset(root, n_per_group=1, t=3)
    assert evaluate_guard.main([]) == 1
    assert "models not found: models/generator/base" in capsys.readouterr().err


def test_missing_manifest_is_a_clear_error(make_project, capsys) -> None:
    from stages import evaluate_guard

    root = make_project({"guard.categories": CATS, "tracking.enabled": False})
    for model in ("generator/base", "guard/fused", *(f"guard/adapters/{c}" for c in CATS)):
        (root / "models" / model).mkdir(parents=True)  # present, so the data check is the one that fails
    assert evaluate_guard.main([]) == 1
    assert "data/processed/poses/manifest.parquet not found" in capsys.readouterr().err
