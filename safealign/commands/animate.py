"""``safealign animate``: drive a generator with a reference image and a pose sequence; write mp4 + PNG grid.

Poses: a directory of OpenPose JSON files (one per frame), a pose clip ``.npz`` (key ``pose`` [T, 33, 4],
normalised), or a DWPose/OpenPose render video or image, whose keypoints are decoded from the render's colours
(``safealign.poses.dwpose_decode``). The generator reads the keypoints twice: as pose maps and as posture
tokens of the surrounding window of ``--window`` frames.
Faces (``--faces``, instead of ``--poses``; for a face generator): a face clip ``.npz`` (``pose``
[T, 140, 4] face140 landmarks) or a real face video / image, landmark-extracted with MediaPipe FaceMesh.
Model: a generator directory (base or fused), an adapter directory (its base is read from its config),
or ``models:/name@alias``; ``--adapter`` adds a peft adapter on top.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from safealign.errors import InputError, shorten, user_input


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("animate", help="animate a reference image with a pose sequence (mp4 + PNG grid)")
    p.add_argument("--reference", required=True, help="reference image of the subject")
    drive = p.add_mutually_exclusive_group(required=True)
    drive.add_argument("--poses", help="OpenPose JSON dir | pose .npz | DWPose render video or image")
    drive.add_argument("--faces", help="face landmark clip .npz (face140) | face video | face image")
    p.add_argument("--model", required=True, help="generator dir | adapter dir | models:/name@alias")
    p.add_argument("--adapter", default=None, help="peft adapter dir (or models:/ URI) applied on top")
    p.add_argument("--out", required=True, help="output .mp4 (the grid goes next to it as .png)")
    p.add_argument("--frames", type=int, default=None, help="use at most N pose frames")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=20, help="DDIM steps")
    p.add_argument("--window", type=int, default=16,
                   help="frames whose keypoints form one clip of posture tokens (the training clip length)")
    p.add_argument("--fps", type=float, default=None, help="output fps (default: the pose video's, else 8)")
    p.add_argument("--pose-canvas", default=None, metavar="WxH",
                   help="pixel canvas of OpenPose JSON coordinates (default: the reference image's size)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--params", default="params.yaml", help="where models:/ URIs find the MLflow tracking URI")
    p.set_defaults(func=run)


def load_poses(source: str | Path, max_frames: int | None, canvas: tuple[int, int]
               ) -> tuple[np.ndarray, float | None]:
    """MediaPipe-33 landmarks float32 [T, 33, 4] of a pose source and its fps (None when it has none)."""
    from safealign.poses.dwpose_decode import read_pose_render
    from safealign.poses.pose_file import drawable_pose_warnings, load_pose_npz
    from safealign.video.io import IMAGE_SUFFIXES, VIDEO_SUFFIXES

    source = Path(source)
    where = f"--poses {source}"
    if not source.exists():
        raise InputError(f"{where}: no such file or directory")
    fps: float | None = None
    if source.is_dir() or source.suffix.lower() == ".json":
        from safealign.poses.openpose_json import read_openpose_json

        poses = read_openpose_json(source, *canvas)
    elif source.suffix.lower() == ".npz":
        poses = load_pose_npz(source, where)["pose"]
    elif source.suffix.lower() in VIDEO_SUFFIXES | IMAGE_SUFFIXES:
        poses, rate = read_pose_render(source, max_frames)
        fps = rate or None
    else:
        raise InputError(f"{where}: expected an OpenPose JSON directory, a .npz pose file or a pose render "
                         "video / image")
    poses = poses[:max_frames] if max_frames else poses
    if len(poses) == 0:
        raise InputError(f"{where}: no frames")
    for warning in drawable_pose_warnings(poses, where):
        print(f"warning: {warning}", file=sys.stderr)
    return poses, fps


def animation_rows(reference: np.ndarray, poses: np.ndarray, layout: str, resolution: int, window: int):
    """One generator row per pose frame: the reference, the frame's pose map, and as posture tokens the
    keypoints of the ``window``-frame clip around it (consecutive windows, the last one ending at the end)."""
    from safealign.evaluation.clips import clip_inputs
    from safealign.generation.data import Triples, resize_square

    ref = resize_square(reference[None], resolution)[0]
    n, parts = len(poses), []
    for start in range(0, n, window):
        lo = max(0, min(start, n - window))
        clip = clip_inputs("animate", ref, poses[lo:lo + window], layout, resolution, 0)
        keep = clip.frames >= start - lo
        rows = clip.rows()
        parts.append(rows.take(np.nonzero(keep)[0]))
    return Triples.concat(parts)


def run(args: argparse.Namespace) -> int:
    from safealign.generation.loading import load_generator
    from safealign.generation.sampling import generate
    from safealign.video.grid import image_grid
    from safealign.video.io import read_image, save_png, write_video

    for option, value in (("--frames", args.frames), ("--steps", args.steps), ("--window", args.window)):
        if value is not None and value < 1:
            raise InputError(f"{option} must be >= 1, received {value}")
    if args.fps is not None and not (math.isfinite(args.fps) and args.fps > 0):
        raise InputError(f"--fps must be a positive number, received {args.fps}")
    reference = read_image(args.reference)
    canvas = _canvas(args.pose_canvas, reference)
    if any(str(m).startswith("models:/") for m in (args.model, args.adapter)):
        _use_project_registry(Path(args.params))
    with user_input(f"--model {args.model}" + (f" --adapter {args.adapter}" if args.adapter else "")):
        model = load_generator(args.model, args.adapter, args.device)
    if args.faces:
        from safealign.faces.drive import face_landmarks

        poses, fps = face_landmarks(args.faces, args.frames)
    else:
        poses, fps = load_poses(args.poses, args.frames, canvas)
    if model.layout != ("face140" if args.faces else "mediapipe33"):
        raise InputError(f"--model {args.model}: a {model.layout} generator cannot be driven by "
                         f"{'--faces' if args.faces else '--poses'}")
    rows = animation_rows(reference, poses, model.layout, model.resolution, min(args.window,
                                                                                 model.pose_tokens.config.max_frames))
    frames = generate(model, rows, seed=args.seed, steps=args.steps, shared_noise=True)
    ref, pose_maps = rows.reference, rows.pose
    out = Path(args.out)
    write_video(out, frames, fps or 8.0)
    pick = np.linspace(0, len(frames) - 1, min(8, len(frames))).round().astype(int)
    grid = image_grid([[ref[0]] + list(pose_maps[pick]), [ref[0]] + list(frames[pick])],
                      labels=["poses", "generated"])
    save_png(out.with_suffix(".png"), grid)
    print(f"wrote {out} ({len(frames)} frames at {model.resolution} px) and {out.with_suffix('.png')}")
    return 0


def _canvas(text: str | None, reference: np.ndarray) -> tuple[int, int]:
    if text is None:
        return reference.shape[1], reference.shape[0]
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        w = h = 0
    if w < 1 or h < 1:
        raise InputError(f"--pose-canvas {shorten(text)}: expected WxH of positive pixels, e.g. 512x768")
    return w, h


def _use_project_registry(params_path: Path) -> None:
    """Point MLflow at the project's registry (params.yaml tracking_uri), as ``safealign gate`` does."""
    import mlflow

    from safealign.config import load_params
    from safealign.tracking.runs import default_tracking_uri

    if params_path.is_file():
        uri = load_params(params_path).tracking.tracking_uri
        mlflow.set_tracking_uri(default_tracking_uri(uri, params_path.resolve().parent))
