"""Stage ``synthesize_motions``: the embedded default dataset of procedural motions on synthetic characters.

Command: ``python -m stages.synthesize_motions [--params params.yaml]``
Reads:   params ``project.seed``, ``guard.categories``, ``guard.resolution`` and ``synthesize_motions``
         (subjects, clips_per_subject, frames, fps, speed/camera/body/style variation).
Writes:  data/interim/motions/clips/<clip_id>.npz  (pose float32 [T,33,4], frames uint8 [T,H,W,3],
                                                    reference uint8 [H,W,3], active bool [T]: the frames
                                                    that show the action itself, not its lead-in)
         data/interim/motions/manifest.parquet     (one row per clip, pose_contract.md columns + counterpart
                                                    + yaw (camera, degrees); split is empty until curate_poses)
         metrics/synthesize_motions.json           (clips per category/label, frames, seconds)
Every subject performs every benign, near-miss and unsafe action (of guard.categories) clips_per_subject times.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from tqdm import tqdm

from safealign.atomic import atomic_dir, atomic_path, write_json
from safealign.paths import MOTIONS_DIR as OUT_DIR
from safealign.paths import stage_metrics
from safealign.stage import StageContext, run_stage

METRICS = stage_metrics("synthesize_motions")


def _run(ctx: StageContext) -> dict:
    from safealign.poses.manifest import MANIFEST_COLUMNS, visible_fraction
    from safealign.poses.extract import VISIBLE
    from safealign.poses.motions.dataset import count_clips, iter_clips

    cfg, guard = ctx.section("synthesize_motions"), ctx.params.guard
    res, rows = guard.resolution, []
    started = time.perf_counter()
    out_dir = ctx.root / OUT_DIR
    with atomic_dir(out_dir) as tmp:
        (tmp / "clips").mkdir()
        clips = iter_clips(cfg, guard.categories, res, ctx.params.project.seed)
        for clip in tqdm(clips, total=count_clips(cfg, guard.categories), desc="synthesize motions",
                         mininterval=2.0):
            rel = OUT_DIR / "clips" / f"{clip.clip_id}.npz"
            np.savez_compressed(tmp / "clips" / rel.name, pose=clip.pose, frames=clip.frames,
                                reference=clip.reference, active=clip.active)
            rows.append({
                "clip_id": clip.clip_id, "source": "synthetic", "subject": clip.subject.subject_id,
                "category": clip.action.category, "label": clip.action.label, "action": clip.action.name,
                "path": rel.as_posix(), "parent_clip_id": "", "augmentation": "", "split": "",
                "fps": float(cfg.fps), "width": res, "height": res, "n_frames": len(clip.pose),
                "visible_fraction": visible_fraction(clip.pose, VISIBLE), "counterpart": clip.action.counterpart,
                "yaw": round(clip.yaw, 3),
            })
        manifest = pd.DataFrame(rows, columns=[*MANIFEST_COLUMNS, "counterpart"])
        with atomic_path(tmp / "manifest.parquet") as mp:
            manifest.to_parquet(mp, index=False)
    seconds = time.perf_counter() - started
    metrics = {
        "clips": len(manifest), "frames": int(manifest["n_frames"].sum()), "seconds": seconds,
        "frames_per_second": float(manifest["n_frames"].sum() / seconds) if seconds > 0 else 0.0,
        "by_category": {str(k): int(v) for k, v in manifest.groupby("category").size().items()},
        "by_action": {str(k): int(v) for k, v in manifest.groupby("action").size().items()},
    }
    write_json(ctx.root / METRICS, metrics)
    flat = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
    flat.update({f"clips.{k}": v for k, v in metrics["by_category"].items()})
    return flat


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("synthesize_motions", argv, _run)


if __name__ == "__main__":
    sys.exit(main())
