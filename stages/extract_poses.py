"""Stage ``extract_poses``: MediaPipe pose (+ face-mesh) landmarks of the real media in project.shared_data.

Command: ``python -m stages.extract_poses [--params params.yaml]``
Reads:   params ``project.shared_data`` and ``extract_poses`` (inputs: files/dirs under shared_data, face,
         category, max_frames, max_pixels, workers | dask_address | dask_workers, confidences).
Writes:  data/interim/extracted/clips/<clip_id>.npz   (pose [T,33,4], detected [T], face [T,478,3] if asked)
         data/interim/extracted/manifest.parquet      (one row per clip, pose_contract.md columns)
         data/interim/extracted/quarantine.json       (files that could not be used, with the reason)
         metrics/extract_poses.json                   (detection rate per clip and overall)
When the shared folder is absent the stage still succeeds with an empty manifest and says so. The shared
folder is not a DVC dependency (DVC refuses a missing one); its files are hashed into the MLflow run instead.
"""

from __future__ import annotations

import sys
import time

from safealign.atomic import atomic_dir, write_json
from safealign.paths import EXTRACTED_DIR as OUT_DIR
from safealign.paths import stage_metrics
from safealign.stage import StageContext, run_stage

METRICS = stage_metrics("extract_poses")


def _run(ctx: StageContext) -> dict:
    from safealign.poses.extract import ExtractOptions, extract_batch, find_shared_media
    from safealign.poses.extraction_outputs import detection_metrics, write_extraction

    p = ctx.section("extract_poses")
    files, missing, hashed, note = find_shared_media(ctx.root, ctx.params.project.shared_data, p.inputs,
                                                     "extract_poses")
    if hashed:
        ctx.tracker.log_inputs(hashed)
    options = ExtractOptions(face=p.face, max_frames=p.max_frames, max_pixels=p.max_pixels,
                             min_detection_confidence=p.min_detection_confidence,
                             min_tracking_confidence=p.min_tracking_confidence)
    started = time.perf_counter()
    results = extract_batch(files, options, workers=p.workers, dask_address=p.dask_address,
                            dask_workers=p.dask_workers)
    seconds = time.perf_counter() - started
    out_dir = ctx.root / OUT_DIR
    with atomic_dir(out_dir) as tmp:
        summary = write_extraction(tmp, files, results, missing, final_dir=out_dir, path_root=ctx.root,
                                   category=p.category)
    metrics = detection_metrics(summary)
    metrics.update(note=note, extract_seconds=seconds,
                   frames_per_second=metrics["n_frames"] / seconds if seconds > 0 else 0.0)
    write_json(ctx.root / METRICS, metrics)
    for q in summary.quarantine:
        print(f"extract_poses: quarantined {q.file}: {q.reason}", file=sys.stderr)
    flat = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
    flat.update({f"detection_rate.{cid}": c["detection_rate"] for cid, c in metrics["clips"].items()})
    return flat


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("extract_poses", argv, _run)


if __name__ == "__main__":
    sys.exit(main())
