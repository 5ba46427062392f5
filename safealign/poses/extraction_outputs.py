"""Write a batch extraction to disk: clip files, manifest (parquet), quarantine report, OpenPose JSON.

Shared by the ``extract_poses`` stage and the ``safealign extract-poses`` command, so both produce the same
layout: ``<out>/clips/<clip_id>.npz``, ``<out>/manifest.parquet``, ``<out>/quarantine.json`` and, when asked,
``<out>/openpose/<clip_id>/<clip_id>_<frame>_keypoints.json``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from safealign.atomic import atomic_path
from safealign.poses.extract import ExtractedClip, clip_ids, manifest_row, save_clip
from safealign.poses.manifest import MANIFEST_COLUMNS
from safealign.poses.openpose_json import write_openpose_json
from safealign.poses.quarantine import QuarantineEntry, write_quarantine

# The shared manifest columns, then what only extraction knows.
EXTRACTED_COLUMNS = [*MANIFEST_COLUMNS, "source_path", "kind", "detection_rate", "has_face"]


@dataclass
class ExtractionSummary:
    """What a batch produced: the manifest and the refused files."""

    manifest: pd.DataFrame
    quarantine: list[QuarantineEntry]


def _relative(path: Path, root: Path | None) -> str:
    if root is None:
        return str(path)
    return os.path.relpath(path.resolve(), root.resolve())


def write_extraction(out_dir: str | Path, files: list[Path], results: list[ExtractedClip | QuarantineEntry],
                     quarantined: list[QuarantineEntry], final_dir: str | Path | None = None,
                     path_root: str | Path | None = None, category: str = "benign",
                     openpose_json: bool = False) -> ExtractionSummary:
    """Write clips, manifest and quarantine under ``out_dir``.

    ``final_dir`` is where ``out_dir`` will end up (when writing into a temporary directory that is renamed
    afterwards); manifest ``path`` values name ``final_dir/clips/<id>.npz`` relative to ``path_root``.
    """
    out_dir, final = Path(out_dir), Path(final_dir or out_dir)
    root = Path(path_root) if path_root is not None else None
    rows = []
    refused = list(quarantined)
    for clip_id, result in zip(clip_ids(files), results):
        if isinstance(result, QuarantineEntry):
            refused.append(result)
            continue
        save_clip(out_dir / "clips" / f"{clip_id}.npz", result)
        clip_path = _relative(final / "clips" / f"{clip_id}.npz", root)
        rows.append(manifest_row(result, clip_id, clip_path, category))
        if openpose_json:
            write_openpose_json(out_dir / "openpose" / clip_id, result.pose, result.width, result.height,
                                prefix=clip_id)
    manifest = pd.DataFrame(rows, columns=EXTRACTED_COLUMNS)
    with atomic_path(out_dir / "manifest.parquet") as tmp:
        manifest.to_parquet(tmp, index=False)
    write_quarantine(out_dir / "quarantine.json", refused)
    return ExtractionSummary(manifest, refused)


def detection_metrics(summary: ExtractionSummary) -> dict:
    """Per-clip detection rates and batch totals (the content of metrics/extract_poses.json)."""
    m = summary.manifest
    frames = int(m["n_frames"].sum()) if len(m) else 0
    detected = float((m["detection_rate"] * m["n_frames"]).sum()) if len(m) else 0.0
    return {
        "n_clips": int(len(m)),
        "n_quarantined": len(summary.quarantine),
        "n_frames": frames,
        "detection_rate": detected / frames if frames else 0.0,
        "clips": {r.clip_id: {"detection_rate": float(r.detection_rate), "n_frames": int(r.n_frames),
                              "visible_fraction": float(r.visible_fraction)} for r in m.itertuples()},
        "quarantine": {q.file: q.reason for q in summary.quarantine},
    }
