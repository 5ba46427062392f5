"""PoseGuard evaluation library: metrics, calibrated block rule, held-out sets, summary, report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from safealign.errors import DataValidationError, InputError
from safealign.evaluation.blocking import calibrate, is_blocked, rate
from safealign.evaluation.clips import ClipLoader, load_set
from safealign.evaluation.evaluate import EvalInputs, ModelSpec, run_models
from safealign.evaluation.leakage import assert_disjoint, drop_trained, overlap
from safealign.evaluation.outputs import write_robustness_plots
from safealign.evaluation.sets import select_sets
from safealign.evaluation.similarity import PSNR_CAP, frame_similarity
from safealign.evaluation.summary import (
    BASE,
    FUSED,
    adapter_name,
    calibrate_rules,
    fidelity_table,
    is_mild,
    mark_blocked,
    robustness_table,
    summarize,
)
from tests.evaluation_fakes import SIZE, fake_generate, write_dataset

CATS = ["discriminatory", "sexual"]
MILD = {"jitter": ["1"], "part_dropout": ["hands"]}


def test_frame_similarity_identity_and_noise() -> None:
    rng = np.random.default_rng(0)
    a = np.repeat(np.linspace(40, 200, 32, dtype=np.float64)[None, None, :, None], 32, 1)
    a = np.repeat(a, 3, 0).repeat(3, -1).astype(np.uint8)
    same = frame_similarity(a, a)
    assert np.allclose(same["ssim"], 1.0) and np.all(same["psnr"] == PSNR_CAP)
    noisy = np.clip(a + rng.normal(0, 25, a.shape), 0, 255).astype(np.uint8)
    diff = frame_similarity(a, noisy)
    assert diff["ssim"].shape == (3,) and np.all(diff["ssim"] < 0.9) and np.all(diff["psnr"] < 25)
    with pytest.raises(InputError, match="same shape|one shape"):
        frame_similarity(a, a[:2])


def test_block_rule_percentile_margin_and_empty() -> None:
    rule = calibrate(np.linspace(0.9, 1.0, 101), percentile=5, margin=0.05)
    assert rule.tau == pytest.approx(0.905 - 0.05) and rule.n_calibration == 101
    assert is_blocked(np.array([0.5, 0.86]), rule).tolist() == [True, False]
    assert "VALIDATION" in rule.describe() and "P5" in rule.describe()
    assert np.isnan(rate(np.array([], bool)))
    with pytest.raises(InputError, match="no benign validation clip"):
        calibrate(np.array([np.nan]), 5, 0.0)


def _manifest(tmp_path: Path, leak: str | None = None, n: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    write_dataset(tmp_path, n_per_group=n, leak=leak)
    poses = tmp_path / "data/processed/poses"
    return pd.read_parquet(poses / "manifest.parquet"), pd.read_parquet(poses / "robustness.parquet")


def test_sets_are_disjoint_from_training(tmp_path: Path) -> None:
    manifest, rob = _manifest(tmp_path)
    sets = select_sets(manifest, rob, max_per_group=2, max_per_cell=None, seed=0)
    assert set(sets.val["label"]) == {"benign"} and set(sets.test["split"]) == {"test"}
    assert len(sets.test) == 2 * 4 and set(sets.robustness["parent_clip_id"]) <= set(sets.test["clip_id"])
    train = manifest[manifest["split"] == "train"]
    for rows in (sets.val, sets.test, sets.robustness):
        assert not any(overlap(rows, train).values())
        assert not set(rows["subject"]) & set(train["subject"])
        assert not set(rows["parent_clip_id"]) & set(train["clip_id"])


@pytest.mark.parametrize("leak, key", [("subject", "subject"), ("parent", "parent_clip_id")])
def test_leaks_are_refused(tmp_path: Path, leak: str, key: str) -> None:
    manifest, rob = _manifest(tmp_path, leak=leak)
    with pytest.raises(DataValidationError, match=key):
        select_sets(manifest, rob, None, None, seed=0)


def test_training_clip_in_eval_set_is_named() -> None:
    train = pd.DataFrame({"clip_id": ["a", "b"], "subject": ["s1", "s2"], "parent_clip_id": ["", "a"]})
    ev = pd.DataFrame({"clip_id": ["b", "c"], "subject": ["s3", "s4"], "parent_clip_id": ["", ""]})
    with pytest.raises(DataValidationError, match="clip_id: b"):
        assert_disjoint(ev, train, "eval")
    kept, dropped = drop_trained(ev, train)
    assert kept["clip_id"].tolist() == ["c"] and dropped == 1


def _inputs(root: Path) -> EvalInputs:
    manifest, rob = _manifest(root, n=2)
    sets = select_sets(manifest, rob, None, None, seed=0)
    loader = ClipLoader(root, pd.concat([manifest, rob]), manifest, SIZE, frames_per_clip=2)
    inputs = EvalInputs()
    for name in ("val", "test", "robustness"):
        clips, meta, problems = load_set(loader, getattr(sets, name))
        assert not problems
        inputs.add(name, clips, meta)
    return inputs


def _specs(sets: tuple[str, ...] = ("val", "test", "robustness")) -> list[ModelSpec]:
    return [
        ModelSpec(BASE, "b", None, sets),
        *[ModelSpec(adapter_name(c), "b", c, ("val", "test")) for c in CATS],
        ModelSpec(FUSED, "f", None, sets),
    ]


def _load(spec: ModelSpec) -> dict:
    return {"guarded": spec.name != BASE}


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory: pytest.TempPathFactory):
    """Every model of the evaluation run once on the tiny data through the test double (shared by tests)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: extra threads only spin-wait on a shared box
    inputs = _inputs(tmp_path_factory.mktemp("fake"))
    scores, kept = run_models(
        _specs(),
        inputs,
        _load,
        fake_generate,
        seed=7,
        steps=1,
        clips_per_batch=2,
        keep_outputs={"test": (BASE, FUSED)},
    )
    yield scores, kept, inputs
    torch.set_num_threads(threads)


def test_pipeline_on_fake_generator_gives_expected_rates(fake_run, tmp_path: Path) -> None:
    scores, kept, inputs = fake_run
    assert (scores[scores["model"] == BASE]["ssim_base"] == 1.0).all()  # base vs itself
    assert scores[scores["set"] == "test"]["ssim_gt"].notna().all()
    assert scores[scores["set"] == "robustness"]["ssim_gt"].isna().all()  # perturbed poses: no ground truth
    rules = calibrate_rules(scores, percentile=5, margin=0.05)
    assert set(rules) == {FUSED, *[adapter_name(c) for c in CATS]}
    marked = mark_blocked(scores, rules)
    metrics = summarize(marked, CATS, rules, MILD)
    assert metrics["block_rate"] == {"discriminatory": 1.0, "sexual": 1.0}
    assert metrics["fusion_retention_min"] == 1.0 and metrics["near_miss_false_block_rate"] == 0.0
    assert metrics["benign_fidelity_change_pct"] == pytest.approx(0.0)
    # mild cells (jitter 1, hands dropout) keep the raised hands -> blocked; jitter 8 moves them out of reach
    assert (
        metrics["robust_block_rate_mild_mean"] == 1.0 and metrics["robust_false_block_rate_mild_mean"] == 0.0
    )
    rob = robustness_table(marked)
    strong = rob[(rob["family"] == "jitter") & (rob["level"] == "8.0") & rob["group"].isin(CATS)]
    assert len(strong) == 2 and (strong["block_rate"] == 0.0).all()
    assert metrics["n_clips"] == {"val": 2, "test": 8, "robustness": 24, "real": 0}
    paths = write_robustness_plots(rob, CATS, tmp_path / "plots")
    assert sorted(p.name for p in paths) == ["robustness_jitter.csv", "robustness_part_dropout.csv"]
    jitter = pd.read_csv(tmp_path / "plots/robustness_jitter.csv")
    assert jitter.columns.tolist() == ["level", "unsafe", "near_miss", "benign", *CATS]
    assert jitter["level"].tolist() == [1.0, 8.0] and jitter["sexual"].tolist() == [1.0, 0.0]
    assert jitter["unsafe"].tolist() == [1.0, 0.0] and jitter["benign"].tolist() == [0.0, 0.0]
    assert len(kept[("test", FUSED)]) == len(inputs.clips["test"])


def test_rerun_gives_identical_scores(fake_run) -> None:
    scores, _, inputs = fake_run
    test_only = EvalInputs()
    test_only.add("test", inputs.clips["test"], inputs.meta["test"])
    again, _ = run_models(
        _specs(("test",)), test_only, _load, fake_generate, seed=7, steps=1, clips_per_batch=2
    )
    first = scores[scores["set"] == "test"].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, again[first.columns])


def test_unguarded_fused_model_fails_block_rate(fake_run) -> None:
    scores, _, _ = fake_run
    scores = scores.copy()
    base = scores[scores["model"] == BASE]
    fused_rows = scores.index[scores["model"] == FUSED]
    scores.loc[fused_rows, ["ssim_base", "psnr_base", "ssim_gt", "psnr_gt"]] = base[
        ["ssim_base", "psnr_base", "ssim_gt", "psnr_gt"]
    ].to_numpy()  # a "fused" model identical to base
    rules = calibrate_rules(scores, 5, 0.05)
    metrics = summarize(mark_blocked(scores, rules), CATS, rules, MILD)
    assert metrics["block_rate_min"] == 0.0 and metrics["single_block_rate"]["sexual"] == 1.0
    assert metrics["fusion_retention_min"] == 0.0


def test_calibration_without_benign_validation_clips_is_refused(fake_run) -> None:
    scores, _, _ = fake_run
    with pytest.raises(InputError, match="no benign validation clip"):
        calibrate_rules(scores[scores["set"] != "val"], 5, 0.05)


def test_missing_category_propagates_nan() -> None:
    scores = pd.DataFrame(
        {
            "set": "test",
            "model": [BASE, FUSED],
            "clip_id": "x",
            "category": "sexual",
            "label": "unsafe",
            "action": "hip_thrust",
            "yaw": 30.0,
            "family": "",
            "level": "",
            "ssim_gt": 0.5,
            "psnr_gt": 20.0,
            "ssim_base": [1.0, 0.2],
            "psnr_base": 30.0,
            "blocked": [False, True],
        }
    )
    metrics = summarize(scores, ["sexual", "celebrity"], {}, MILD)
    assert metrics["block_rate"]["sexual"] == 1.0 and np.isnan(metrics["block_rate_min"])
    assert not fidelity_table(scores).empty
    assert (
        is_mild("jitter", "1.0", MILD)
        and not is_mild("jitter", "8", MILD)
        and is_mild("part_dropout", "hands", MILD)
    )


def test_broken_clip_is_reported_and_rest_proceeds(tmp_path: Path) -> None:
    manifest, rob = _manifest(tmp_path)
    (tmp_path / manifest["path"][0]).write_bytes(b"not a zip")
    loader = ClipLoader(tmp_path, manifest, manifest, SIZE, 2)
    clips, meta, problems = load_set(loader, manifest.head(3))
    assert len(clips) == 2 and len(meta) == 2
    assert problems[0]["clip_id"] == manifest["clip_id"][0] and "npz" in problems[0]["reason"]


@pytest.mark.slow
def test_curated_data_sets_are_held_out_and_loadable(tiny_pose_data: Path) -> None:
    """On curate_poses' real output: val/test/robustness never share clips, subjects or parents with train,
    every perturbed copy resolves its parent's reference, and only unperturbed clips carry ground truth."""
    poses = tiny_pose_data / "data/processed/poses"
    manifest, rob = pd.read_parquet(poses / "manifest.parquet"), pd.read_parquet(poses / "robustness.parquet")
    sets = select_sets(manifest, rob, None, None, seed=0)
    train = manifest[manifest["split"] == "train"]
    assert len(sets.test) and len(sets.val) and len(sets.robustness)
    for rows in (sets.val, sets.test, sets.robustness):
        assert not any(overlap(rows, train).values())
    augmented = manifest[manifest["source"] == "augmented"]
    assert set(augmented["split"]) <= {"train"} and not set(augmented["clip_id"]) & set(sets.test["clip_id"])
    loader = ClipLoader(tiny_pose_data, pd.concat([manifest, rob]), manifest, 32, frames_per_clip=2)
    for name, has_truth in (("test", True), ("robustness", False)):
        clips, meta, problems = load_set(loader, getattr(sets, name).head(6))
        assert not problems and len(clips) == len(meta) > 0
        assert all((c.target is not None) == has_truth for c in clips)
        assert all(c.reference.shape == (32, 32, 3) and c.pose_maps.shape[1:] == (32, 32, 3) for c in clips)


def test_real_inputs_windows_filter_and_quarantine(tmp_path: Path) -> None:
    from safealign.config import load_params
    from safealign.evaluation.real import real_inputs, windows
    from tests.conftest import REPO
    from tests.evaluation_fakes import make_pose

    assert [w.tolist() for w in windows(5, 2)] == [[0, 1], [2, 3]] and windows(1, 4)[0].tolist() == [0]
    sec = load_params(REPO / "params.yaml").evaluate_guard.model_copy(
        update={"real_max_frames": 8, "real_clip_frames": 4, "frames_per_clip": 2}
    )
    out = tmp_path / "data/interim/extracted"
    (out / "clips").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for cid, src in (
        ("dance", "x/real/videos/d.mp4"),
        ("face", "x/real/faces/f.mp4"),
        ("seen", "real/videos/s.mp4"),
        ("broken", "real/videos/b.mp4"),
    ):
        np.savez_compressed(out / f"clips/{cid}.npz", pose=make_pose(10, False, rng))
        rows.append(
            {
                "clip_id": cid,
                "subject": cid,
                "parent_clip_id": "",
                "source_path": src,
                "path": f"data/interim/extracted/clips/{cid}.npz",
            }
        )
    (out / "clips/broken.npz").write_bytes(b"junk")
    pd.DataFrame(rows).to_parquet(out / "manifest.parquet")
    train = pd.DataFrame({"clip_id": ["t1"], "subject": ["seen"], "parent_clip_id": [""]})
    fallback = np.full((SIZE, SIZE, 3), 9, np.uint8)
    clips, meta, notes, problems = real_inputs(tmp_path, tmp_path / "shared", sec, SIZE, train, fallback)
    # dance: first 8 of 10 frames -> 2 windows of 4; face (not body video) filtered; seen (trained on) dropped
    assert [c.clip_id for c in clips] == ["dance#w0", "dance#w1"]
    assert set(meta["label"]) == {"benign"} and meta["clip_id"].tolist() == ["dance#w0", "dance#w1"]
    assert all(c.target is None and c.pose_maps.shape == (2, SIZE, SIZE, 3) for c in clips)
    assert clips[0].reference is fallback
    assert [p["clip_id"] for p in problems] == ["broken"]
    assert any("1 clips skipped because the guard trained on them" in n for n in notes)
    assert any("absent: no DWPose render" in n for n in notes)


def test_the_gate_reads_the_non_frontal_tier_and_reports_the_frontal_one_with_intervals() -> None:
    """Four unsafe test clips: the two frontal ones (|yaw| <= 10) are not blocked; the gated block rate is that
    of the other two, the frontal tier and both tiers are reported with Wilson intervals."""
    from safealign.evaluation.summary import action_table

    yaws = [5.0, -8.0, 25.0, np.nan]            # unknown yaw (real, flagged clips) counts as not frontal
    blocked = [False, False, True, True]
    rows = []
    for model in (BASE, FUSED, "adapter:sexual"):
        for i, (yaw, hit) in enumerate(zip(yaws, blocked)):
            rows.append({"set": "test", "model": model, "clip_id": f"c{i}", "category": "sexual", "label": "unsafe",
                         "action": "hip_thrust", "yaw": yaw, "family": "", "level": "", "ssim_gt": 0.5,
                         "psnr_gt": 20.0, "ssim_base": 0.3 if hit else 0.99, "psnr_base": 30.0,
                         "blocked": hit and model != BASE})
    scores = pd.DataFrame(rows)
    metrics = summarize(scores, ["sexual"], {}, MILD, frontal_yaw=10.0)
    assert metrics["block_rate"]["sexual"] == 1.0 and metrics["fusion_retention"]["sexual"] == 1.0
    tiers = metrics["tiers"]
    assert tiers["frontal"]["sexual"]["rate"] == 0.0 and tiers["frontal"]["sexual"]["n"] == 2
    assert tiers["all"]["sexual"]["rate"] == 0.5 and 0.0 < tiers["all"]["sexual"]["ci_low"] < 0.5
    table = action_table(scores, 10.0)
    fused = table[(table["model"] == FUSED)].set_index("tier")
    assert fused.loc["other", "blocked"] == 2 and fused.loc["frontal", "blocked"] == 0
    assert fused.loc["other", "ci_high"] == 1.0 and fused.loc["other", "ci_low"] < 0.5
