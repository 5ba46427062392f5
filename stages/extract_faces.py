"""Stage extract_faces: MediaPipe FaceMesh landmarks (face140 layout) of the real face media, issue 9.

Command:  python -m stages.extract_faces [--params params.yaml]
Inputs:   params project.shared_data, face.extract (inputs under shared_data, max_frames, confidences).
Outputs:  data/interim/faces_extracted/clips/<clip_id>.npz (pose [T,140,4] in the square face framing,
          raw [T,140,4] normalised to the source frame, detected [T]),
          data/interim/faces_extracted/manifest.parquet (benign real clips, test only, layout face140),
          data/interim/faces_extracted/quarantine.json (unusable files with the reason),
          metrics/face/extract_faces.json.
Absent shared data: an empty manifest and a note (the shared folder is optional, so not a DVC dep).
"""

from __future__ import annotations

import sys

from safealign.atomic import atomic_dir, atomic_path, write_json
from safealign.paths import FACE_METRICS, stage_metrics
from safealign.paths import FACES_EXTRACTED_DIR as OUT_DIR
from safealign.stage import StageContext, run_stage

METRICS = stage_metrics("extract_faces", FACE_METRICS)


def _run(ctx: StageContext) -> dict:
    import numpy as np
    import pandas as pd

    from safealign.faces.extract import EXTRACTED_COLUMNS, extract_faces, manifest_row
    from safealign.poses.extract import clip_ids, find_shared_media
    from safealign.poses.quarantine import write_quarantine

    p = ctx.params.face.extract
    files, missing, hashed, note = find_shared_media(ctx.root, ctx.params.project.shared_data, p.inputs,
                                                     "extract_faces")
    if hashed:
        ctx.tracker.log_inputs(hashed)
    clips, refused = extract_faces(files, p.max_frames, p.min_detection_confidence, p.min_detected_fraction)
    quarantine = missing + refused
    by_source = dict(zip((str(f) for f in files), clip_ids(files)))
    rows = []
    with atomic_dir(ctx.root / OUT_DIR) as tmp:
        (tmp / "clips").mkdir()
        for clip in clips:
            cid = by_source[clip.source]
            np.savez_compressed(tmp / "clips" / f"{cid}.npz", pose=clip.pose, raw=clip.raw,
                                detected=clip.detected)
            rows.append(manifest_row(clip, cid, (OUT_DIR / "clips" / f"{cid}.npz").as_posix()))
        with atomic_path(tmp / "manifest.parquet") as out:
            pd.DataFrame(rows, columns=EXTRACTED_COLUMNS).to_parquet(out, index=False)
        write_quarantine(tmp / "quarantine.json", quarantine)
    for q in quarantine:
        print(f"extract_faces: quarantined {q.file}: {q.reason}", file=sys.stderr)
    metrics = {"clips": len(clips), "quarantined": len(quarantine), "note": note,
               "detection_rate": {r["clip_id"]: r["detection_rate"] for r in rows},
               "frames": int(sum(r["n_frames"] for r in rows))}
    write_json(ctx.root / METRICS, metrics)
    return {"clips": len(clips), "quarantined": len(quarantine), "frames": metrics["frames"]}


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("extract_faces", argv, _run, section="face")


if __name__ == "__main__":
    sys.exit(main())
