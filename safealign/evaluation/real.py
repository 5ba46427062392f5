"""Real driving poses (no ground truth): extracted real-video poses and the DWPose render video, driven with
one reference image, cut into fixed-length windows so the false-block rate has a usable denominator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from safealign.errors import InputError
from safealign.evaluation.clips import ClipInputs, clip_inputs
from safealign.evaluation.params import EvaluateGuardParams
from safealign.generation.data import resize_square


def windows(n_frames: int, length: int) -> list[np.ndarray]:
    """Consecutive non-overlapping windows of ``length`` frames (a short tail is dropped unless it is all)."""
    starts = range(0, max(n_frames - length + 1, 1), length)
    return [np.arange(s, min(s + length, n_frames)) for s in starts]


def reference_image(path: Path, resolution: int) -> np.ndarray:
    """The real reference image, letterboxed to the working resolution."""
    from safealign.video.io import read_image

    return resize_square(read_image(path)[None], resolution)[0]


def pose_render_clips(
    video: Path,
    reference: np.ndarray,
    resolution: int,
    max_frames: int,
    clip_frames: int,
    frames_per_clip: int,
) -> list[ClipInputs]:
    """Windows of a rendered DWPose / OpenPose video: keypoints decoded from the render's colours
    (``safealign.poses.dwpose_decode``), re-rendered at the working size like every other pose."""
    from safealign.poses.dwpose_decode import read_pose_render

    poses, _fps = read_pose_render(video, max_frames=max_frames)
    return [clip_inputs(f"{video.stem}#w{i}", reference, poses[win], "mediapipe33", resolution, frames_per_clip)
            for i, win in enumerate(windows(len(poses), clip_frames))]


def extracted_clips(
    root: Path,
    manifest: pd.DataFrame,
    reference: np.ndarray,
    resolution: int,
    max_frames: int,
    clip_frames: int,
    frames_per_clip: int,
    layout: str = "mediapipe33",
) -> tuple[list[ClipInputs], list[dict]]:
    """Windows of the first ``max_frames`` extracted poses of each clip; unreadable clips come back as
    {clip_id, file, reason}."""
    clips, problems = [], []
    for row in manifest.itertuples(index=False):
        path = root / str(row.path)
        try:
            with np.load(path, allow_pickle=False) as data:
                pose = data["pose"][:max_frames]
        except (OSError, KeyError, ValueError) as exc:
            problems.append({"clip_id": str(row.clip_id), "file": str(row.path), "reason": str(exc)})
            continue
        for i, win in enumerate(windows(len(pose), clip_frames)):
            clips.append(clip_inputs(f"{row.clip_id}#w{i}", reference, pose[win], layout, resolution,
                                     frames_per_clip))
    if not clips and not problems and len(manifest):
        raise InputError("extracted real poses: no window could be cut from the manifest's clips")
    return clips, problems


def real_meta(clips: list[ClipInputs], source: str) -> pd.DataFrame:
    """Metadata rows of real clips: labelled benign real motion (category ``real``), no perturbation."""
    return pd.DataFrame(
        {
            "clip_id": [c.clip_id for c in clips],
            "category": "real",
            "label": "benign",
            "action": f"real:{source}",
            "yaw": np.nan,
            "family": source,
            "level": "",
        }
    )


def from_sources(manifest: pd.DataFrame, sources: list[str]) -> pd.DataFrame:
    """Extracted clips whose ``source_path`` contains one of ``sources`` (all rows without that column)."""
    if "source_path" not in manifest.columns:
        return manifest
    # astype(bool): on an empty manifest map() yields an object Series, which pandas reads as columns
    keep = manifest["source_path"].astype(str).map(lambda p: any(s in p for s in sources)).astype(bool)
    return manifest[keep].reset_index(drop=True)


def real_inputs(
    root: Path,
    shared: Path,
    sec: EvaluateGuardParams,
    resolution: int,
    train_rows: pd.DataFrame,
    fallback_reference: np.ndarray | None,
    layout: str = "mediapipe33",
) -> tuple[list[ClipInputs], pd.DataFrame, list[str], list[dict]]:
    """Every available real-pose clip (landmarks of ``layout``), its metadata, notes for the report and
    unreadable inputs."""
    from safealign.evaluation.leakage import drop_trained

    notes: list[str] = []
    ref_path = shared / sec.real_reference
    if ref_path.is_file():
        ref = reference_image(ref_path, resolution)
        notes.append(f"reference image: {sec.real_reference} (letterboxed to {resolution} px)")
    elif fallback_reference is not None:
        ref = fallback_reference
        notes.append(f"reference image {ref_path} absent: a synthetic TEST reference is used instead")
    else:
        return [], real_meta([], ""), [f"no reference image ({ref_path} absent)"], []
    clips: list[ClipInputs] = []
    metas: list[pd.DataFrame] = []
    problems: list[dict] = []
    manifest_path = root / sec.extracted_manifest
    if manifest_path.is_file():
        manifest = from_sources(pd.read_parquet(manifest_path), sec.real_extracted_sources)
        manifest, dropped = drop_trained(manifest, train_rows)
        got, problems = extracted_clips(
            root, manifest, ref, resolution, sec.real_max_frames, sec.real_clip_frames, sec.frames_per_clip,
            layout,
        )
        clips += got
        metas.append(real_meta(got, "extracted"))
        notes.append(
            f"extracted real poses: {len(manifest)} clips -> {len(got)} windows "
            f"of {sec.real_clip_frames} frames"
            + (f"; {dropped} clips skipped because the guard trained on them" if dropped else "")
        )
    else:
        notes.append(f"{sec.extracted_manifest} absent: no extracted real poses")
    video = shared / sec.real_pose_video
    got = []
    if video.is_file():
        try:
            got = pose_render_clips(
                video, ref, resolution, sec.real_max_frames, sec.real_clip_frames, sec.frames_per_clip
            )
        except InputError as exc:
            problems.append({"clip_id": video.stem, "file": str(video), "reason": str(exc)})
        clips += got
        metas.append(real_meta(got, "dwpose_render"))
        notes.append(
            f"DWPose render {sec.real_pose_video}: first {sec.real_max_frames} frames -> {len(got)} windows"
        )
    elif sec.real_pose_video:
        notes.append(f"{video} absent: no DWPose render")
    meta = pd.concat(metas, ignore_index=True) if metas else real_meta([], "")
    return clips, meta, notes, problems
