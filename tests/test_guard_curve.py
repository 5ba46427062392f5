"""The guard learning curve (safealign.evaluation.learning_curve, `safealign guard-curve`): val-only sets, the
evaluation's block rule, and a probe that leaves training untouched (step N of the curve = an N-step run)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from safetensors.numpy import load_file

from safealign.errors import DataValidationError, InputError
from safealign.evaluation.learning_curve import (FIT_GROUP, blocks_by_action, curve_point, curve_rows,
                                                 window_means)
from tests.test_guard_stages import guard_project  # noqa: F401  (fixture)


def _manifest() -> pd.DataFrame:
    rows = []
    for split, subject in (("train", "s1"), ("val", "s2"), ("test", "s3")):
        for label, category in (("benign", "benign"), ("near_miss", "near_miss"), ("unsafe", "sexual"),
                                ("unsafe", "celebrity")):
            for k in range(3):
                rows.append({"clip_id": f"{split}-{category}-{k}", "subject": subject, "split": split,
                             "label": label, "category": category, "parent_clip_id": "", "path": "x.npz"})
    rows.append({"clip_id": "val-sexual-aug", "subject": "s2", "split": "val", "label": "unsafe",
                 "category": "sexual", "parent_clip_id": "val-sexual-0", "path": "y.npz"})
    return pd.DataFrame(rows)


def test_curve_rows_take_original_val_clips_of_the_category_only():
    sets = curve_rows(_manifest(), "sexual", 2, seed=0)
    assert {g: len(r) for g, r in sets.items()} == {"benign": 2, "near_miss": 2, "unsafe": 2}
    for rows in sets.values():
        assert set(rows["split"]) == {"val"} and set(rows["parent_clip_id"]) == {""}
    assert set(sets["unsafe"]["category"]) == {"sexual"}
    assert curve_rows(_manifest(), "sexual", 2, seed=0)["unsafe"].equals(sets["unsafe"])  # seeded cap
    with pytest.raises(InputError, match="no val unsafe clip.*discriminatory"):
        curve_rows(_manifest(), "discriminatory", None, seed=0)
    leaky = _manifest()
    leaky.loc[leaky["clip_id"] == "train-benign-0", "subject"] = "s2"  # a val subject in training
    with pytest.raises(DataValidationError, match="val benign set shares data"):
        curve_rows(leaky, "sexual", None, seed=0)


def test_fit_check_adds_original_train_clips_of_the_category():
    sets = curve_rows(_manifest(), "sexual", 2, seed=0, fit_check=True)
    fit = sets[FIT_GROUP]
    assert len(fit) == 2 and set(fit["split"]) == {"train"} and set(fit["category"]) == {"sexual"}
    assert set(fit["parent_clip_id"]) == {""}
    assert "unsafe" in sets and set(sets["unsafe"]["split"]) == {"val"}  # the val groups are unchanged
    assert FIT_GROUP not in curve_rows(_manifest(), "sexual", 2, seed=0)
    val = {"benign": np.linspace(0.9, 1.0, 21), "unsafe": np.array([0.99, 0.99])}
    point = curve_point(val | {FIT_GROUP: np.array([0.5, 0.99, 0.6, 0.7])}, 5.0, 0.05)
    assert point["train_block_rate"] == 0.75 and point["block_rate"] == 0.0
    assert point["auc"] == curve_point(val, 5.0, 0.05)["auc"]  # the train clips stay out of the val AUC
    assert "train_block_rate" not in curve_point(val, 5.0, 0.05)
    # three train clips below every val negative; 0.99 is below 2 of the 21 and ties one
    assert point["train_auc"] == pytest.approx((3 + 2.5 / 21) / 4)
    no_train = _manifest()
    no_train = no_train[~((no_train["split"] == "train") & (no_train["category"] == "sexual"))]
    with pytest.raises(InputError, match="--fit-check found no original train unsafe clip"):
        curve_rows(no_train, "sexual", 2, seed=0, fit_check=True)


def test_window_means_average_each_loss_over_the_steps_that_logged_it():
    means = window_means([{"loss": 1.0, "safety": 2.0}, {"loss": 3.0}, {"loss": 2.0, "safety": 4.0}])
    assert means == {"loss": 2.0, "safety": 3.0}
    assert window_means([]) == {}


def test_curve_point_applies_the_evaluation_rule():
    benign = np.linspace(0.90, 1.0, 21)  # P5 = 0.905 -> tau 0.855 with margin 0.05
    scores = {"benign": benign, "near_miss": np.array([0.85, 0.95, 0.97, 0.99]),
              "unsafe": np.array([0.5, 0.8, 0.86, 0.99])}
    point = curve_point(scores, 5.0, 0.05)
    assert point["tau"] == pytest.approx(0.855)
    assert point["block_rate"] == 0.5 and point["near_miss_false_block"] == 0.25
    assert point["benign_false_block"] == 0.0
    assert point["unsafe_ssim_mean"] == pytest.approx(0.7875)
    # AUC = P(unsafe SSIM < negative SSIM), ties half: the pairwise count over the 25 negatives
    negatives = np.r_[benign, scores["near_miss"]]
    pairs = [(u < n) + 0.5 * (u == n) for u in scores["unsafe"] for n in negatives]
    assert point["auc"] == pytest.approx(np.mean(pairs)) and point["auc"] == pytest.approx(0.77)
    separated = curve_point({"benign": benign, "unsafe": np.array([0.1, 0.2])}, 5.0, 0.05)
    assert separated["auc"] == 1.0 and separated["block_rate"] == 1.0
    assert math.isnan(separated["near_miss_false_block"])  # no near-miss clip: undefined, not 0


def test_blocks_by_action_counts_each_action_under_tau():
    counts = blocks_by_action(np.array([0.5, 0.9, 0.6, 0.95, 0.7]),
                              ["salute", "kneel", "kneel", "salute", "kneel"], tau=0.8)
    assert counts == {"kneel": [2, 3], "salute": [1, 2]} and list(counts) == ["kneel", "salute"]
    with pytest.raises(ValueError, match="2 scores for 1 actions"):
        blocks_by_action(np.array([0.5, 0.6]), ["kneel"], tau=0.8)


@pytest.mark.slow
def test_guard_curve_command_matches_a_plain_run(guard_project, tmp_path, capsys):  # noqa: F811
    from safealign.cli import main
    from stages import guard_data, pretrain_generator, train_guard

    assert pretrain_generator.main([]) == 0
    assert guard_data.main(["--item", "discriminatory"]) == 0
    out, saved = tmp_path / "curve.json", tmp_path / "adapters"
    assert main(["guard-curve", "--category", "discriminatory", "--steps", "4", "--every", "2",
                 "--clips", "3", "--set", "train_guard.lam=1.5", "--out", str(out),
                 "--save-adapters", str(saved), "--fit-check"]) == 0
    curve = json.loads(out.read_text())
    assert curve["train_guard"]["lam"] == 1.5 and curve["overrides"] == ["train_guard.lam=1.5"]
    assert [p["step"] for p in curve["points"]] == [2, 4]
    for point in curve["points"]:
        assert 0.0 <= point["block_rate"] <= 1.0 and np.isfinite(point["tau"]) and point["train_seconds"] >= 0
        assert {"loss", "fidelity", "safety"} <= set(point["losses_window"])
        per_clip = point["ssim_per_clip"]
        sizes = {g: len(v) for g, v in curve["val_clips"].items() if v}
        fit = per_clip.pop(FIT_GROUP)
        assert {g: len(v) for g, v in per_clip.items()} == sizes
        assert len(fit) == len(curve["train_clips_fit_check"]) > 0
        assert point["train_block_rate"] == pytest.approx(np.mean(np.asarray(fit) < point["tau"]))
        assert 0.0 <= point["train_auc"] <= 1.0
        assert point["unsafe_ssim_mean"] == pytest.approx(np.mean(per_clip["unsafe"]), abs=1e-4)
        by_action = point["blocks_by_action"]["unsafe"]
        assert sum(n for _, n in by_action.values()) == sizes["unsafe"]
        assert sum(k for k, _ in by_action.values()) == round(point["block_rate"] * sizes["unsafe"])
    manifest = pd.read_parquet("data/processed/poses/manifest.parquet").set_index("clip_id")
    actions = set(manifest.loc[curve["val_clips"]["unsafe"], "action"])
    assert set(curve["points"][0]["blocks_by_action"]["unsafe"]) == actions
    judged = [c for ids in curve["val_clips"].values() for c in ids]
    assert judged and set(manifest.loc[judged, "split"]) == {"val"}
    assert set(manifest.loc[curve["val_clips"]["unsafe"], "category"]) == {"discriminatory"}
    fit_rows = manifest.loc[curve["train_clips_fit_check"]]
    assert set(fit_rows["split"]) == {"train"} and set(fit_rows["category"]) == {"discriminatory"}
    assert sorted(p.name for p in saved.iterdir()) == ["step_2", "step_4"]
    assert "losses_first_steps" in curve["points"][0] and "losses_first_steps" not in curve["points"][1]

    # The probe generates between steps; the adapter at step 2 must still be the one a 2-step run gives.
    raw = yaml.safe_load(Path("params.yaml").read_text())
    raw["train_guard"].update(steps=2, lam=1.5)
    Path("params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    assert train_guard.main(["--item", "discriminatory"]) == 0
    plain = load_file("models/guard/adapters/discriminatory/adapter_model.safetensors")
    probed = load_file(str(saved / "step_2" / "adapter_model.safetensors"))
    assert plain.keys() == probed.keys()
    for key in plain:
        # equal up to float rounding (CPU kernels may differ by call site); more steps move them far more
        np.testing.assert_allclose(plain[key], probed[key], rtol=1e-5, atol=1e-7, err_msg=key)
    later = load_file(str(saved / "step_4" / "adapter_model.safetensors"))
    assert any(not np.array_equal(later[k], plain[k]) for k in plain)  # it kept training

    # --train-seed moves the training draws only: the same clips are judged, the adapter differs.
    other_seed, other_out = raw["project"]["seed"] + 1, tmp_path / "curve_other_seed.json"
    assert main(["guard-curve", "--category", "discriminatory", "--steps", "2", "--every", "2",
                 "--clips", "3", "--set", "train_guard.lam=1.5", "--fit-check",
                 "--train-seed", str(other_seed),
                 "--out", str(other_out), "--save-adapters", str(tmp_path / "other")]) == 0
    other = json.loads(other_out.read_text())
    assert (other["seed"], other["train_seed"]) == (curve["seed"], other_seed)
    assert curve["train_seed"] == curve["seed"]
    assert other["val_clips"] == curve["val_clips"]
    assert other["train_clips_fit_check"] == curve["train_clips_fit_check"]
    moved = load_file(str(tmp_path / "other" / "step_2" / "adapter_model.safetensors"))
    assert any(not np.allclose(moved[k], plain[k]) for k in plain)

    assert main(["guard-curve", "--category", "discriminatory", "--set", "train_guard.lam=high"]) == 2
    assert "key 'train_guard.lam'" in capsys.readouterr().err
    assert main(["guard-curve", "--category", "discriminatory", "--set", "lam"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert main(["guard-curve", "--category", "discriminatory", "--train-seed", "-1"]) == 1
    assert "--train-seed: expected an int >= 0, received -1" in capsys.readouterr().err
    assert main(["guard-curve", "--category", "unknown"]) == 1
    assert "--category unknown: not a body category" in capsys.readouterr().err
    assert main(["guard-curve", "--category", "sexual"]) == 1  # its guard data was not prepared
    assert "guard_data@sexual" in capsys.readouterr().err
