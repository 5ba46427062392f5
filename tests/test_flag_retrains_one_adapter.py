"""A flagged pose retrains one adapter, not the base: on a finished tiny project (the real dvc.yaml and stages),
flagging a discriminatory clip reruns curate_poses, that category's guard_data / train_guard, fuse_guard and
evaluate_guard; pretrain_generator and the other category's adapter stay cached because the files they read
come out byte-identical."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from tests.conftest import TINY_POSE_OVERRIDES
from tests.test_guard_stages import TINY_GENERATOR
from tests.tiny_dvc import dvc

pytestmark = pytest.mark.slow

TARGET = "evaluate_guard"


def _ran(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def test_a_flag_reruns_only_its_category(make_project):
    from safealign.ops.flagging import flag_inputs

    overrides = {**TINY_POSE_OVERRIDES, **TINY_GENERATOR, "gates": [],
                 "extract_poses.inputs": [], "evaluate_guard.real_pose_video": "",
                 "evaluate_guard.max_clips_per_group": 1, "evaluate_guard.max_robustness_clips_per_cell": 1,
                 "train_guard.curve_every": 0}
    root = make_project(overrides)
    for name in ("stages", "safealign"):
        shutil.copytree(__import__("tests.conftest", fromlist=["REPO"]).REPO / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (root / "data/flagged").mkdir(parents=True, exist_ok=True)
    dvc(root, "init", "--no-scm", "-q")
    first = dvc(root, "repro", TARGET).stdout
    assert {"pretrain_generator", "train_guard@discriminatory", "train_guard@sexual", TARGET} <= _ran(first)

    clip = root.parent / "flagged_clip.npz"
    rng = np.random.default_rng(3)
    pose = np.zeros((8, 33, 4), np.float32)
    pose[..., 0] = rng.uniform(0.3, 0.7, (8, 33))
    pose[..., 1] = rng.uniform(0.1, 0.9, (8, 33))
    pose[..., 3] = 1.0
    np.savez_compressed(clip, pose=pose)
    flag_inputs(root, "discriminatory", [clip], who="test")
    second = dvc(root, "repro", TARGET).stdout
    assert _ran(second) == {"curate_poses", "guard_data@discriminatory", "guard_data@sexual",
                            "train_guard@discriminatory", "fuse_guard", TARGET}, second
