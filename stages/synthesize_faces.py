"""Stage synthesize_faces: the embedded face dataset (procedural faces performing expressions), issue 9.

Command:  python -m stages.synthesize_faces [--params params.yaml]
Inputs:   params project.seed, face.categories, face.resolution, face.synthesis.
Outputs:  data/interim/faces/clips/<clip_id>.npz (pose [T,140,4] face140 landmarks, neutral [T,140,4] the same
          head motion without expression, frames [T,H,W,3], reference [H,W,3] neutral frontal face),
          data/interim/faces/manifest.parquet (pose-contract columns + layout, stratum),
          metrics/face/synthesize_faces.json.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from safealign.atomic import atomic_dir, atomic_path, write_json
from safealign.paths import FACE_METRICS, stage_metrics
from safealign.paths import FACES_DIR as OUT_DIR
from safealign.stage import StageContext, run_stage

METRICS = stage_metrics("synthesize_faces", FACE_METRICS)


def _run(ctx: StageContext) -> dict:
    import pandas as pd
    from tqdm import tqdm

    from safealign.faces.dataset import manifest_row, synthesize
    from safealign.poses.manifest import visible_fraction

    face, seed = ctx.params.face, ctx.params.project.seed
    cfg, started = face.synthesis, time.perf_counter()
    rows = []
    with atomic_dir(ctx.root / OUT_DIR) as tmp:
        (tmp / "clips").mkdir()
        clips = synthesize(cfg, face.protected_identities, face.unsafe_expressions, face.resolution, seed)
        for clip in tqdm(clips, desc="synthesize faces", mininterval=2.0):
            rel = (OUT_DIR / "clips" / f"{clip.clip_id}.npz").as_posix()
            np.savez_compressed(tmp / "clips" / f"{clip.clip_id}.npz", pose=clip.pose, neutral=clip.neutral,
                                frames=clip.frames, reference=clip.reference)
            row = manifest_row(clip, rel, cfg.fps, face.resolution)
            row["visible_fraction"] = visible_fraction(clip.pose, 0.5)
            rows.append(row)
        manifest = pd.DataFrame(rows)
        with atomic_path(tmp / "manifest.parquet") as out:
            manifest.to_parquet(out, index=False)
    counts = {str(k): int(v) for k, v in manifest.groupby("category").size().items()}
    metrics = {"clips": len(manifest), "subjects": int(manifest["subject"].nunique()), "by_category": counts,
               "seconds": time.perf_counter() - started}
    write_json(ctx.root / METRICS, metrics)
    return {"clips": metrics["clips"], "subjects": metrics["subjects"],
            **{f"clips.{k}": v for k, v in counts.items()}}


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("synthesize_faces", argv, _run, section="face")


if __name__ == "__main__":
    sys.exit(main())
