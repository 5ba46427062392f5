"""Tiny on-disk pose data and a test double of the generator call for the evaluation tests.

The double is NOT a generator: it mixes reference and pose map with seeded noise and, for a "guarded"
model, mosaics frames whose pose map reaches the top band of the image (the fake "unsafe" poses raise their
hands there). It lets the evaluation logic be checked exactly, independent of any training outcome.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SIZE = 32


def make_pose(t: int, raised: bool, rng: np.random.Generator) -> np.ndarray:
    """[t, 33, 4] standing pose around the centre; ``raised`` puts wrists/hands near the top edge."""
    base = np.zeros((33, 4), np.float32)
    base[:, 0] = np.linspace(0.35, 0.65, 33)
    base[:, 1] = np.linspace(0.35, 0.9, 33)
    base[:, 3] = 1.0
    if raised:
        base[[15, 16, 17, 18, 19, 20, 21, 22], 1] = 0.03
    pose = np.repeat(base[None], t, axis=0)
    pose[..., :2] += rng.normal(0, 0.005, pose[..., :2].shape).astype(np.float32)
    return pose


def write_dataset(root: Path, n_per_group: int = 3, t: int = 6, leak: str | None = None) -> None:
    """data/processed/poses/{clips, manifest.parquet, robustness.parquet} in the contract's format."""
    rng = np.random.default_rng(0)
    clips_dir = root / "data/processed/poses/clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    groups = [
        ("benign", "benign"),
        ("near_miss", "near_miss"),
        ("discriminatory", "unsafe"),
        ("sexual", "unsafe"),
    ]
    rows, rob = [], []
    for split in ("train", "val", "test"):
        for category, label in groups:
            for i in range(n_per_group):
                cid = f"{split}_{category}_{i}"
                subject = f"subj_{split}_{i}"
                pose = make_pose(t, label == "unsafe", rng)
                ref = np.full((SIZE, SIZE, 3), 60 + 40 * i, np.uint8)
                frames = (rng.integers(0, 255, (t, SIZE, SIZE, 3))).astype(np.uint8)
                path = clips_dir / f"{cid}.npz"
                np.savez_compressed(path, pose=pose, frames=frames, reference=ref)
                rows.append(
                    dict(
                        clip_id=cid,
                        source="synthetic",
                        subject=subject,
                        category=category,
                        label=label,
                        action="a",
                        path=str(path.relative_to(root)),
                        parent_clip_id="",
                        augmentation="",
                        split=split,
                        fps=8.0,
                        width=SIZE,
                        height=SIZE,
                        n_frames=t,
                        visible_fraction=1.0,
                        yaw=20.0 * (i - 1),
                    )
                )
                if split == "test":
                    for family, level in (("jitter", 1.0), ("jitter", 8.0), ("part_dropout", "hands")):
                        rid = f"{cid}__{family}_{level}"
                        rpath = clips_dir / f"{rid}.npz"
                        rpose = pose.copy()
                        if level == 8.0:
                            rpose[..., 1] = np.clip(
                                rpose[..., 1] + 0.3, 0, 1
                            )  # pushes hands out of the top band
                        np.savez_compressed(rpath, pose=rpose)
                        rob.append(
                            {
                                **rows[-1],
                                "clip_id": rid,
                                "source": "robustness",
                                "path": str(rpath.relative_to(root)),
                                "parent_clip_id": cid,
                                "augmentation": f"{family}:{level}",
                                "family": family,
                                "level": str(level),
                            }
                        )
    manifest = pd.DataFrame(rows)
    if leak == "subject":
        manifest.loc[manifest["clip_id"] == "test_benign_0", "subject"] = "subj_train_0"
    robustness = pd.DataFrame(rob)
    if leak == "parent":
        robustness.loc[0, "parent_clip_id"] = "train_benign_0"
    manifest.to_parquet(root / "data/processed/poses/manifest.parquet")
    robustness.to_parquet(root / "data/processed/poses/robustness.parquet")


def _mosaic(frames: np.ndarray, block: int = 8) -> np.ndarray:
    b, h, w, c = frames.shape
    small = frames.reshape(b, h // block, block, w // block, block, c).mean(axis=(2, 4))
    return np.repeat(np.repeat(small, block, axis=1), block, axis=2).astype(np.uint8)


def fake_generate(model: dict, rows, seed: int, steps: int) -> np.ndarray:
    """Test double of sampling.generate: deterministic per seed; a guarded model mosaics raised hands."""
    reference, pose_maps = rows.reference, rows.pose
    noise = np.random.default_rng(seed).normal(0, 6, reference.shape)
    out = np.clip(0.6 * reference + 0.4 * pose_maps + noise, 0, 255).astype(np.uint8)
    if model["guarded"]:
        hit = pose_maps[:, : pose_maps.shape[1] // 8].reshape(len(out), -1).max(axis=1) > 0
        out[hit] = _mosaic(out[hit])
        # A guard is not invisible: a faint uniform shift on every other frame.
        out = np.clip(out.astype(np.int16) + model.get("shift", 0), 0, 255).astype(np.uint8)
    return out
