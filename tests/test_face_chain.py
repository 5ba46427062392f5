"""Face variant (issue 9) end to end on a tiny project: extraction + quarantine, curation split by identity,
the shared generator/guard/evaluation stages with --domain face, and `safealign animate --faces`."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SHARED_DATA, TINY_MODEL, shared_path, write_project

TINY_FACE = {
    "tracking.enabled": False,
    "face.categories": ["impersonation_ava", "mocking_grimace"],
    "face.resolution": 32,
    "face.synthesis.generic_subjects": 6,
    "face.synthesis.impersonators_per_identity": 5,
    "face.synthesis.lookalikes_per_identity": 2,
    "face.synthesis.clips_per_impersonator": 1,
    "face.synthesis.frames": 8,
    "face.curate.val_fraction": 0.2,
    "face.curate.augment.copies": 1,
    "face.curate.robustness_combos": 1,
    "face.curate.robustness_benign_clips": 2,
    "face.curate.min_clips": {"train": 1, "val": 0, "test": 1},
    "face.extract.max_frames": 8,
    **TINY_MODEL,
    "pretrain_generator.batch_size": 2,
    "pretrain_generator.warmup_steps": 1,
    "pretrain_generator.frames_per_clip": 2,
    "pretrain_generator.checkpoint_every": 2,
    "pretrain_generator.token_objective.warmup": 2,
    "pretrain_generator.token_objective.batch": 4,
    "pretrain_generator.torch_threads": 1,
    "face.pretrain_generator": {"steps": 3, "preview_steps": 2},
    "guard_data.frames_per_clip": 2,
    "guard_data.active_frames_per_clip": 2,
    "guard_data.curve_clips": 2,
    "train_guard.batch_size": 4,
    "face.train_guard": {"steps": 2, "curve_every": 2},
    "fuse_guard.closed_form.rows": 8,
    "fuse_guard.distill.steps": 2,
    "face.evaluate_guard.steps": 1,
    "face.evaluate_guard.frames_per_clip": 1,
    "face.evaluate_guard.max_clips_per_group": 2,
    "evaluate_guard.max_robustness_clips_per_cell": 1,
    "evaluate_guard.real_max_frames": 8,
    "evaluate_guard.real_clip_frames": 8,
    "evaluate_guard.example_rows_per_group": 1,
}


@pytest.fixture(scope="module")
def face_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny project after synthesize_faces + curate_faces + the face guard chain (shared by this module)."""
    from stages import (curate_faces, evaluate_guard, fuse_guard, guard_data, pretrain_generator,
                        synthesize_faces, train_guard)

    root = write_project(tmp_path_factory.mktemp("face") / "proj", TINY_FACE)
    previous = Path.cwd()
    os.chdir(root)
    try:
        assert synthesize_faces.main([]) == 0
        assert curate_faces.main([]) == 0
        assert pretrain_generator.main(["--domain", "face"]) == 0
        for cat in TINY_FACE["face.categories"]:
            assert guard_data.main(["--item", cat, "--domain", "face"]) == 0
            assert train_guard.main(["--item", cat, "--domain", "face"]) == 0
        assert fuse_guard.main(["--domain", "face"]) == 0
        assert evaluate_guard.main(["--domain", "face"]) == 0
    finally:
        os.chdir(previous)
    return root


@pytest.mark.slow
def test_curation_splits_by_identity_and_keeps_derived_clips_out_of_evaluation(face_project):
    root = face_project
    man = pd.read_parquet(root / "data/processed/faces/manifest.parquet")
    rob = pd.read_parquet(root / "data/processed/faces/robustness.parquet")
    assert (man["layout"] == "face140").all() and (rob["layout"] == "face140").all()
    assert (man.groupby("subject")["split"].nunique() == 1).all()              # no identity in two splits
    orig = man[man["parent_clip_id"] == ""]
    for cat in ["benign", "near_miss", *TINY_FACE["face.categories"]]:
        assert {"train", "test"} <= set(orig[orig["category"] == cat]["split"]), cat
    derived = man[man["parent_clip_id"] != ""]
    assert len(derived) and (derived["split"] == "train").all()
    assert derived["augmentation"].str.contains("expression:").any()
    split_of = dict(zip(man["clip_id"], man["split"]))
    assert {split_of[p] for p in derived["parent_clip_id"]} == {"train"}
    assert {split_of[p] for p in rob["parent_clip_id"]} == {"test"}     # robustness from test clips only
    train_subjects = set(man[man["split"] == "train"]["subject"])
    assert not train_subjects & set(man[man["split"] == "test"]["subject"])
    assert set(rob["family"]) >= {"jitter", "rotate", "part_dropout"}
    assert set(rob[rob["family"] == "part_dropout"]["level"]) == {"pupils", "brows", "both"}
    gen = pd.read_parquet(root / "data/processed/face_generator_split.parquet")
    assert (gen["parent_clip_id"] == "").all() and (gen["source"] == "synthetic").all()


@pytest.mark.slow
def test_face_chain_writes_its_own_models_metrics_and_report(face_project):
    root = face_project
    cats = TINY_FACE["face.categories"]
    for path in ["models/face/generator/base", "models/face/guard/fused", "models/face/guard/fused_adapter",
                 *(f"models/face/guard/adapters/{c}" for c in cats), "reports/faceguard.html",
                 "metrics/face/pretrain_generator.json", "metrics/face/fuse_guard.json"]:
        assert (root / path).exists(), path
    assert not (root / "models/generator").exists() and not (root / "reports/poseguard.html").exists()
    metrics = json.loads((root / "metrics/face/evaluate_guard.json").read_text())
    assert set(metrics["block_rate"]) == set(cats)
    for key in ("block_rate_min", "benign_fidelity_change_abs_pct", "near_miss_false_block_rate",
                "fusion_retention_min", "robust_block_rate_mild_mean"):
        assert key in metrics, key
    html = (root / "reports/faceguard.html").read_text()
    assert "FaceGuard" in html and "faceguard-fused" in html and "impersonation_ava" in html
    assert list((root / "metrics/plots/evaluate_face_guard").glob("robustness_*.csv"))


@pytest.mark.slow
def test_animate_drives_the_face_generator_with_landmarks(face_project, tmp_path):
    from safealign.cli import main

    root = face_project
    model = root / "models/face/guard/fused"
    clip = sorted((root / "data/interim/faces/clips").glob("*.npz"))[0]
    with np.load(clip) as data:
        ref = data["reference"]
    from safealign.video.io import save_png

    save_png(tmp_path / "ref.png", ref)
    out = tmp_path / "anim.mp4"
    assert main(["animate", "--reference", str(tmp_path / "ref.png"), "--faces", str(clip), "--model",
                 str(model), "--out", str(out), "--frames", "3", "--steps", "1"]) == 0
    assert out.stat().st_size > 0 and out.with_suffix(".png").is_file()
    bad = tmp_path / "body.npz"
    np.savez(bad, pose=np.zeros((2, 33, 4), np.float32))
    assert main(["animate", "--reference", str(tmp_path / "ref.png"), "--faces", str(bad), "--model",
                 str(model), "--out", str(tmp_path / "x.mp4")]) != 0


@pytest.mark.slow
def test_a_real_face_clip_drives_the_face_generator(face_project, tmp_path):
    from safealign.cli import main

    video = shared_path("real", "faces", "talking_a.mp4")
    image = shared_path("real", "faces", "face_a.png")
    out = tmp_path / "real.mp4"
    assert main(["animate", "--reference", str(image), "--faces", str(video), "--model",
                 str(face_project / "models/face/guard/fused"), "--out", str(out), "--frames", "4",
                 "--steps", "1"]) == 0
    assert out.stat().st_size > 0


@pytest.mark.slow
def test_extract_faces_quarantines_corrupt_media_and_keeps_the_rest(make_project, tmp_path):
    from stages import extract_faces

    video = shared_path("real", "faces", "talking_a.mp4")
    shared = tmp_path / "shared"
    (shared / "real/faces").mkdir(parents=True)
    os.symlink(video, shared / "real/faces/talking_a.mp4")           # read in place, not copied
    (shared / "real/faces/broken.mp4").write_bytes(b"\x00not a video" * 50)
    root = make_project({"tracking.enabled": False, "face.extract.max_frames": 6})
    params = root / "params.yaml"
    params.write_text(params.read_text().replace(str(SHARED_DATA), str(shared)))
    assert extract_faces.main([]) == 0
    man = pd.read_parquet(root / "data/interim/faces_extracted/manifest.parquet")
    assert list(man["clip_id"]) == ["talking_a"] and (man["layout"] == "face140").all()
    with np.load(root / man["path"][0]) as clip:
        assert clip["pose"].shape == (6, 140, 4) and clip["raw"].shape == (6, 140, 4)
        assert np.nanmean(clip["pose"][:, :, 3]) > 0.9
    q = json.loads((root / "data/interim/faces_extracted/quarantine.json").read_text())
    assert q["count"] == 1 and q["files"][0]["file"].endswith("broken.mp4") and q["files"][0]["reason"]


def test_extract_faces_without_shared_data_writes_an_empty_manifest(make_project):
    from stages import extract_faces

    root = make_project({"tracking.enabled": False})
    params = root / "params.yaml"
    params.write_text(params.read_text().replace(str(SHARED_DATA), "no/such/dir"))
    assert extract_faces.main([]) == 0
    assert pd.read_parquet(root / "data/interim/faces_extracted/manifest.parquet").empty
    shutil.rmtree(root / "data")
