"""Pose augmentation throughput: the vectorised perturbations vs a naive per-frame Python loop, same run.

Workload: unsafe clips of the motion library (16 frames, 64 px) tiled to a batch, augmented with the
params.yaml ``curate_poses.augment`` settings (every family drawn per clip, as curate_poses does), and the
whole robustness grid (PERTURBATION_GRID, one factor at a time). Baseline: the same operations written as a
loop over clips and frames (numpy per frame), the way per-frame augmentation code usually looks. A pose is one
frame of 33 landmarks. Wall-clock and CPU-time rates are both given: the machine is shared, and CPU time
shows the code's own cost when other processes compete for the cores. Goal (issue 3): >= 1e6 poses/s.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from safealign.poses import topology as tp
from safealign.layouts import BODY_PARTS as PARTS, PERTURBATION_GRID
from safealign.poses.perturb import REF_WIDTH, perturb

N_CLIPS, N_FRAMES, BASELINE_CLIPS, REPEATS = 1024, 16, 48, 3


def _clips() -> np.ndarray:
    from safealign.poses.motions.actions import load_actions
    from safealign.poses.motions.camera import random_camera
    from safealign.poses.motions.clip import Timing, synthesize_pose
    from safealign.poses.motions.skeleton import random_body

    rng = np.random.default_rng(0)
    unsafe = [a for a in load_actions().values() if a.label == "unsafe"]
    base = [synthesize_pose(a, random_body(rng), random_camera(rng, 30.0, (0.7, 0.9)), Timing(N_FRAMES, 8.0, 1.0, 0.2),
                            rng, 64, 64) for a in unsafe for _ in range(8)]
    return np.stack([base[i % len(base)] for i in range(N_CLIPS)])


def _naive_frame_op(clip: np.ndarray, family: str, level, rng: np.random.Generator) -> np.ndarray:
    """One perturbation, frame by frame (the baseline)."""
    out = clip.copy()
    t_max = len(clip)
    for t in range(t_max):
        frame = out[t]
        pelvis = frame[[tp.L_HIP, tp.R_HIP], :2].mean(0)
        if family == "jitter":
            frame[:, :2] += rng.standard_normal((33, 2)) * (level / REF_WIDTH)
        elif family == "rotate":
            a = np.radians(level)
            rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
            frame[:, :2] = pelvis + (frame[:, :2] - pelvis) @ rot.T
        elif family == "scale":
            frame[:, :2] = pelvis + (frame[:, :2] - pelvis) * level
            frame[:, 2] *= level
        elif family in ("translate_x", "translate_y"):
            frame[:, 0 if family == "translate_x" else 1] += level
        elif family in ("speed", "offset"):
            src = min(t * level if family == "speed" else t + level, t_max - 1)
            lo = int(src)
            hi, w = min(lo + 1, t_max - 1), src - lo
            out[t] = clip[lo] * (1 - w) + clip[hi] * w if w else clip[lo]
        elif family == "drop":
            if t > 0 and rng.random() < level:
                out[t] = out[t - 1]
        elif family == "part_dropout":
            frame[list(PARTS[level]), :3] = np.nan
            frame[list(PARTS[level]), 3] = 0.0
    return out


def _naive_augment(clips: np.ndarray, cfg, rng: np.random.Generator) -> np.ndarray:
    out = np.empty_like(clips)
    for i, clip in enumerate(clips):
        for family, level in _draw(cfg, rng):
            clip = _naive_frame_op(clip, family, level, rng)
        out[i] = clip
    return out


def _draw(cfg, rng: np.random.Generator) -> list[tuple[str, object]]:
    """The families the vectorised path would draw for one clip (same probabilities and ranges)."""
    u = lambda lim: float(rng.uniform(-lim, lim))  # noqa: E731
    candidates = [("jitter", float(rng.uniform(0, cfg.jitter_px))), ("rotate", u(cfg.rotate_deg)),
                  ("scale", 1 + u(cfg.scale_delta)), ("translate_x", u(cfg.translate)),
                  ("translate_y", u(cfg.translate)), ("speed", 1 + u(cfg.speed_delta)),
                  ("offset", int(rng.integers(0, cfg.offset_frames + 1))), ("drop", float(rng.uniform(0, cfg.drop_fraction)))]
    chosen = [c for c in candidates if rng.random() < cfg.p_family]
    if rng.random() < cfg.part_dropout_p:
        chosen.append(("part_dropout", str(rng.choice(list(PARTS)))))
    return chosen


def _rate(fn, n_poses: int) -> tuple[float, float]:
    """(poses per wall second, poses per CPU second), best of REPEATS."""
    wall, cpu = [], []
    for _ in range(REPEATS):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(max(time.process_time() - c, 1e-9))
    return n_poses / min(wall), n_poses / min(cpu)


def run() -> list[dict]:
    """Rows: augmentation (params.yaml settings) and the robustness grid, vectorised vs per-frame loop."""
    from safealign.config import load_params
    from safealign.poses.augment import augment_batch

    cfg = load_params(Path(__file__).resolve().parents[1] / "params.yaml").curate_poses.augment
    clips = _clips()
    small = clips[:BASELINE_CLIPS]
    rng = np.random.default_rng(1)
    aug_wall, aug_cpu = _rate(lambda: augment_batch(clips, cfg, rng), clips.shape[0] * N_FRAMES)
    naive_wall, naive_cpu = _rate(lambda: _naive_augment(small, cfg, rng), small.shape[0] * N_FRAMES)

    def grid(batch: np.ndarray, per_frame: bool) -> None:
        for family, level in PERTURBATION_GRID:
            if per_frame:
                for clip in batch:
                    _naive_frame_op(clip, family, level, rng)
            else:
                perturb(batch, family, level, rng)

    n_grid = len(PERTURBATION_GRID) * N_FRAMES
    grid_wall, grid_cpu = _rate(lambda: grid(clips, False), clips.shape[0] * n_grid)
    gnaive_wall, gnaive_cpu = _rate(lambda: grid(small, True), small.shape[0] * n_grid)
    copy_wall, copy_cpu = _rate(lambda: clips.copy(), clips.shape[0] * N_FRAMES)
    note = f"{N_CLIPS} clips x {N_FRAMES} frames; baseline on {BASELINE_CLIPS} clips; best of {REPEATS}"
    return [
        {"figure": "augmentation throughput (wall)", "value": aug_wall, "baseline": naive_wall,
         "ratio": aug_wall / naive_wall, "unit": "poses/s", "note": f"augment_batch, params.yaml strengths; {note}"},
        {"figure": "augmentation throughput (CPU time)", "value": aug_cpu, "baseline": naive_cpu,
         "ratio": aug_cpu / naive_cpu, "unit": "poses/CPU-s", "note": "same run; excludes time lost to other processes"},
        {"figure": "robustness grid throughput (wall)", "value": grid_wall, "baseline": gnaive_wall,
         "ratio": grid_wall / gnaive_wall, "unit": "poses/s", "note": f"{len(PERTURBATION_GRID)} grid entries; {note}"},
        {"figure": "robustness grid throughput (CPU time)", "value": grid_cpu, "baseline": gnaive_cpu,
         "ratio": grid_cpu / gnaive_cpu, "unit": "poses/CPU-s", "note": "same run"},
        {"figure": "augmentation cost in batch copies", "value": copy_cpu / aug_cpu, "baseline": 1.0,
         "ratio": copy_cpu / aug_cpu, "unit": "copies",
         "note": f"CPU time of augment_batch / one np.copy of the batch ({copy_cpu:.3g} poses/CPU-s): how far from "
                 "memory-bound the kernel is, independent of machine speed"},
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
