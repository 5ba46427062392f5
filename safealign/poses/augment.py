"""Perturbation augmentation of unsafe TRAINING clips (params ``curate_poses.augment``), vectorised per batch."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from safealign.poses.curate import Derived, Poses, batch_rngs, batches, collect, derived_rows
from safealign.layouts import BODY, get_layout
from safealign.poses.perturb import compose_time_maps, perturb, resample, similarity_transform, time_map

if TYPE_CHECKING:  # params modules import safealign.config, which imports them back
    from safealign.poses.curate_params import AugmentParams

# Spatial families: identity levels, so the whole batch goes through one similarity transform.
_IDENTITY = {"rotate": 0.0, "scale": 1.0, "translate_x": 0.0, "translate_y": 0.0}
# Temporal families: identity levels, so one composed time map resamples the whole batch once.
_TEMPORAL_IDENTITY = {"speed": 1.0, "offset": 0.0, "drop": 0.0}


def augment_batch(stack: np.ndarray, cfg: AugmentParams, rng: np.random.Generator, aspect: float = 1.0,
                  layout: str = BODY) -> tuple[np.ndarray, list[str], np.ndarray]:
    """One perturbed copy of every clip in ``stack`` [N, T, K, 4] (``layout``) and, per clip, what was applied.

    Each family is applied to a random subset of clips (probability ``cfg.p_family``; part dropout
    ``cfg.part_dropout_p``) at a strength drawn per clip, vectorised over the batch: speed, offset and drop
    are composed into one resampling, rotation, scale and translation into one similarity transform (spatial
    and temporal changes commute). Labels read e.g. 'rotate:-4.2+drop:0.1' ('none' when nothing was drawn).
    The third value is the source time of every output frame [N, T] (``safealign.poses.perturb.follow_time``).
    """
    n, t = stack.shape[:2]
    y = stack.copy()
    columns, spatial = [], dict(_IDENTITY)
    timing = np.broadcast_to(np.arange(t, dtype=np.float64), (n, t))
    parts = get_layout(layout).parts
    for family, levels in _augment_levels(cfg, rng, n, parts):
        mask = rng.random(n) < (cfg.part_dropout_p if family == "part_dropout" else cfg.p_family)
        if family == "part_dropout":
            for part in parts:
                sel = mask & (levels == part)
                if sel.any():
                    y[sel] = perturb(y[sel], family, part, rng, layout=layout)
            text = levels.astype(str)
        else:
            if family in _IDENTITY:       # collected, then applied in one pass with the others below
                spatial[family] = np.where(mask, levels, _IDENTITY[family])
            elif family in _TEMPORAL_IDENTITY:   # composed into one resampling of the batch
                level = np.where(mask, levels, _TEMPORAL_IDENTITY[family])
                timing = compose_time_maps(timing, time_map(family, level, n, t, rng))
            elif mask.any():
                y[mask] = perturb(y[mask], family, levels[mask], rng, aspect=aspect, layout=layout)
            text = np.char.mod("%g", np.round(levels.astype(np.float64), 3))
        columns.append(np.where(mask, np.char.add(f"{family}:", text), ""))
    y = resample(y, timing)
    similarity_transform(y, spatial["rotate"], spatial["scale"], spatial["translate_x"], spatial["translate_y"],
                         aspect, inplace=True, layout=layout)
    labels = ["+".join(p for p in parts if p) or "none" for parts in zip(*columns)]
    return y, labels, timing


def augment_training(df: pd.DataFrame, poses: Poses, cfg: AugmentParams, rng: np.random.Generator,
                     threshold: float, layout: str = BODY) -> Derived:
    """``cfg.copies`` perturbed copies (``augment_batch``) of every unsafe TRAINING clip, batched by shape."""
    parents = df[(df["split"] == "train") & (df["label"] == "unsafe") & (df["source"] != "augmented")]
    out_rows, out_poses, out_times = [], {}, {}
    rng_of = batch_rngs(rng)
    for key, batch in batches(parents):
        (_source, _n_frames, width, height), batch_rng = key, rng_of(key)
        stack = np.stack([poses[c] for c in batch["clip_id"]])
        for copy in range(cfg.copies):
            y, labels, timing = augment_batch(stack, cfg, batch_rng, aspect=width / height, layout=layout)
            ids = [f"{c}__aug{copy}" for c in batch["clip_id"]]
            out_rows.append(derived_rows(batch, ids, "augmented", labels, "train", y, threshold))
            out_poses.update(zip(ids, y))
            out_times.update(zip(ids, timing))
    return collect(out_rows, out_poses, out_times)


def _augment_levels(cfg: AugmentParams, rng: np.random.Generator, n: int, parts: dict
                    ) -> list[tuple[str, np.ndarray]]:
    u = lambda lim: rng.uniform(-lim, lim, n)  # noqa: E731 - one symmetric draw per clip
    return [
        ("jitter", rng.uniform(0.0, cfg.jitter_px, n)),
        ("rotate", u(cfg.rotate_deg)),
        ("scale", 1.0 + u(cfg.scale_delta)),
        ("translate_x", u(cfg.translate)),
        ("translate_y", u(cfg.translate)),
        ("speed", 1.0 + u(cfg.speed_delta)),
        ("offset", rng.integers(0, cfg.offset_frames + 1, n).astype(np.float64)),
        ("drop", rng.uniform(0.0, cfg.drop_fraction, n)),
        ("part_dropout", rng.choice(list(parts), n)),
    ]
