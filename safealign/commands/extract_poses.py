"""``safealign extract-poses INPUT... --out DIR``: MediaPipe landmarks of videos/images, one file per clip."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract-poses", help="extract MediaPipe pose (and face) landmarks from videos/images")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video/image files or directories (recursive)")
    p.add_argument("--out", required=True,
                   help="output directory (clips/, manifest.parquet, quarantine.json)")
    p.add_argument("--openpose-json", action="store_true",
                   help="also write OpenPose JSON per frame under OUT/openpose/<clip_id>/")
    p.add_argument("--face", action="store_true", help="also extract the 478 face-mesh landmarks")
    p.add_argument("--workers", type=int, default=1, help="spawned worker processes over clips (default 1)")
    p.add_argument("--dask-address", default="", help="run on this dask.distributed scheduler instead")
    p.add_argument("--max-frames", type=int, default=None, help="keep only the first N frames of each video")
    p.add_argument("--max-pixels", type=int, default=40_000_000, help="quarantine larger images/frames")
    p.add_argument("--category", default="benign", help="manifest category of the clips (default benign)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Extract, write the outputs, print one line per clip and per quarantined file.

    ``--out`` is built aside and swapped in whole (as the stage does); when no input gives a clip it is
    left as it was and the command exits 1.
    """
    from pathlib import Path

    from safealign.atomic import atomic_dir, check_writable_dir
    from safealign.errors import ConfigError, InputError
    from safealign.poses.extract import ExtractedClip, ExtractOptions, extract_batch, find_media
    from safealign.poses.extraction_outputs import write_extraction

    if args.workers < 1 or (args.max_frames is not None and args.max_frames < 1) or args.max_pixels < 1:
        raise ConfigError("--workers, --max-frames and --max-pixels must be positive integers")
    out = Path(args.out)
    check_writable_dir(out, "--out")  # before the extraction, not after it
    files, missing = find_media(args.inputs)
    options = ExtractOptions(face=args.face, max_frames=args.max_frames, max_pixels=args.max_pixels)
    results = extract_batch(files, options, workers=args.workers, dask_address=args.dask_address)
    if not any(isinstance(r, ExtractedClip) for r in results):
        refused = [*results, *missing]
        for q in refused:
            print(f"quarantined {q.file}: {q.reason}")
        raise InputError(f"no usable clip: all {len(refused)} input(s) quarantined; --out {out} left unchanged")
    with atomic_dir(out) as tmp:
        summary = write_extraction(tmp, files, results, missing, final_dir=out, category=args.category,
                                   openpose_json=args.openpose_json)
    for row in summary.manifest.itertuples():
        print(f"{row.clip_id}: {row.n_frames} frames, person in {row.detection_rate:.1%}, "
              f"visible landmarks {row.visible_fraction:.1%} -> {row.path}")
    for q in summary.quarantine:
        print(f"quarantined {q.file}: {q.reason}")
    print(f"{len(summary.manifest)} clips, {len(summary.quarantine)} quarantined -> {out}")
    return 0
