"""Curation of pose clips: merge sources, label, filter, de-duplicate, split by subject, count.

Pure functions over a manifest (pandas, one row per clip, columns ``MANIFEST_COLUMNS``) and a dict of pose
arrays keyed by clip id; the ``curate_poses`` stage does the I/O. Evaluation never sees what training saw:
splits are by subject, augmented copies (``augment.py``) exist only in train, and the robustness set
(``robustness.py``) is built from test clips. ``Derived`` holds such perturbed copies.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from safealign.poses.extract import label_of
from safealign.poses.flagged import FlaggedClip
from safealign.poses.manifest import MANIFEST_COLUMNS, SPLITS, visible_fraction, visible_fractions

Poses = dict[str, np.ndarray]


def load_poses(manifest: pd.DataFrame, root: Path) -> Poses:
    """The ``pose`` array of every manifest row (paths relative to ``root``)."""
    out: Poses = {}
    for clip_id, rel in zip(manifest["clip_id"], manifest["path"]):
        with np.load(root / rel, allow_pickle=False) as data:
            out[clip_id] = np.asarray(data["pose"], dtype=np.float32)
    return out


def extracted_rows(extracted: pd.DataFrame) -> pd.DataFrame:
    """Real extracted clips: benign real motion, evaluation only (no ground-truth frames for the generator)."""
    df = extracted.copy()
    df["category"] = df["category"].replace("", "benign")
    df["label"] = df["category"].map(label_of)
    df["action"] = "real:" + df["clip_id"]
    df["subject"] = "real:" + df["subject"].astype(str)
    return df.reindex(columns=MANIFEST_COLUMNS)


def flagged_rows(clips: list[FlaggedClip], paths: dict[str, str], threshold: float) -> pd.DataFrame:
    """Manifest rows of flagged clips (labelled unsafe in their folder's category) written at ``paths``."""
    rows = [{
        "clip_id": c.clip_id, "source": "flagged", "subject": c.subject, "category": c.category,
        "label": label_of(c.category), "action": c.action, "path": paths[c.clip_id], "parent_clip_id": "",
        "augmentation": "", "split": "", "fps": c.fps, "width": c.width, "height": c.height,
        "n_frames": len(c.pose), "visible_fraction": visible_fraction(c.pose, threshold), "yaw": float("nan"),
    } for c in clips]
    return pd.DataFrame(rows, columns=MANIFEST_COLUMNS)


def filter_clips(df: pd.DataFrame, poses: Poses, threshold: float, min_visible: float, min_frames: int
                 ) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop clips that are too short or too little visible; return the kept rows and counts per reason."""
    df = df.copy()
    df["visible_fraction"] = [visible_fraction(poses[c], threshold) for c in df["clip_id"]]
    df["n_frames"] = [len(poses[c]) for c in df["clip_id"]]
    short = df["n_frames"] < min_frames
    dim = ~short & (df["visible_fraction"] < min_visible)
    counts = {"too_short": int(short.sum()), "low_visibility": int(dim.sum())}
    return df[~short & ~dim].reset_index(drop=True), counts


def pose_fingerprint(pose: np.ndarray, decimals: int) -> str:
    """Hash of the rounded x, y of a clip (NaN-aware): equal for clips that are the same up to ``decimals``."""
    xy = np.round(np.nan_to_num(pose[..., :2], nan=-9.0), decimals) + 0.0   # + 0.0 folds -0.0 into 0.0
    return hashlib.sha1(np.ascontiguousarray(xy, dtype=np.float32).tobytes()).hexdigest()


def deduplicate(df: pd.DataFrame, poses: Poses, decimals: int) -> tuple[pd.DataFrame, int]:
    """Keep the first clip of every group of identical pose sequences; return the rows and the number dropped."""
    prints = pd.Series([pose_fingerprint(poses[c], decimals) for c in df["clip_id"]], index=df.index)
    keep = ~prints.duplicated()
    return df[keep].reset_index(drop=True), int((~keep).sum())


def split_by_subject(df: pd.DataFrame, val_fraction: float, test_fraction: float, seed: int,
                     group_by: str | None = None) -> pd.DataFrame:
    """Assign train/val/test per subject, so no subject is in two splits.

    Extracted real clips (no ground truth to train on) all go to test. Subjects of every other source (and of
    every flagged category separately, so a new category gets training clips) are shuffled with ``seed`` and
    cut by the fractions; a group of >= 2 subjects always keeps one for training and one for test.
    ``group_by`` names a column that defines the groups instead (faces: the subject's role ``stratum``).
    """
    df = df.copy()
    df["split"] = ""
    df.loc[df["source"] == "extracted", "split"] = "test"
    rest = df[df["source"] != "extracted"]
    group_key = rest["source"].where(rest["source"] != "flagged", "flagged:" + rest["category"])
    if group_by is not None:
        group_key = rest[group_by]
    for key, group in rest.groupby(group_key, sort=True):
        subjects = np.array(sorted(group["subject"].unique()))
        # One generator per group: a newly flagged category must not reshuffle the synthetic splits.
        np.random.default_rng([seed, zlib.crc32(str(key).encode())]).shuffle(subjects)
        n = len(subjects)
        n_test = max(1, round(test_fraction * n)) if n >= 2 else 0
        n_val = min(round(val_fraction * n), max(0, n - n_test - 1))
        assign = {s: "test" for s in subjects[:n_test]}
        assign.update({s: "val" for s in subjects[n_test:n_test + n_val]})
        assign.update({s: "train" for s in subjects[n_test + n_val:]})
        df.loc[group.index, "split"] = group["subject"].map(assign)
    return df


def generator_rows(manifest: pd.DataFrame) -> pd.DataFrame:
    """The rows the base generator trains and validates on: synthetic originals (no flagged, real or augmented)."""
    from safealign.poses.manifest import canonical

    keep = (manifest["source"] == "synthetic") & (manifest["parent_clip_id"].astype(str) == "")
    # Canonical dtypes: after a concat with flagged rows pandas may hold other types (Arrow strings, object
    # numbers), which change the parquet bytes (and DVC's hash) although the content is the same.
    return canonical(manifest[keep])


@dataclass
class Derived:
    """Perturbed copies: manifest rows (``path`` left for the writer), their pose arrays and, per copy, the
    source time of every frame in its parent (identity unless a temporal perturbation was applied)."""

    rows: pd.DataFrame
    poses: Poses
    times: dict[str, np.ndarray] = field(default_factory=dict)


def batches(df: pd.DataFrame):
    """Groups of rows ((source, n_frames, width, height), rows) whose clips can be stacked into one array.
    Sources are apart, so that a newly flagged clip never joins (and reshuffles) a batch of synthetic clips."""
    yield from df.groupby(["source", "n_frames", "width", "height"], sort=True)


def batch_rngs(rng: np.random.Generator) -> "Callable[[tuple], np.random.Generator]":
    """One draw from ``rng``, then an independent generator per batch key: what one batch of clips draws
    does not depend on which other batches exist (a flagged clip leaves the synthetic copies byte-identical)."""
    base = int(rng.integers(2**31))
    return lambda key: np.random.default_rng([base, zlib.crc32(repr(tuple(str(k) for k in key)).encode())])


def derived_rows(parents: pd.DataFrame, ids: list[str], source: str, labels: list[str], split: str,
                 poses: np.ndarray, threshold: float) -> pd.DataFrame:
    """Manifest rows of perturbed copies ``ids`` of ``parents`` (stacked ``poses``); ``path`` is set on writing."""
    rows = parents.copy()
    rows["visible_fraction"] = visible_fractions(poses, threshold)
    rows["parent_clip_id"] = parents["clip_id"].to_numpy()
    rows["clip_id"] = ids
    rows["source"] = source
    rows["augmentation"] = labels
    rows["split"] = split
    rows["path"] = ""
    return rows.reset_index(drop=True)


def collect(rows: list[pd.DataFrame], poses: Poses, times: dict[str, np.ndarray] | None = None) -> Derived:
    """One ``Derived`` from per-batch row frames, their poses and source times."""
    if not rows:
        return Derived(pd.DataFrame(columns=MANIFEST_COLUMNS), {})
    return Derived(pd.concat(rows, ignore_index=True), poses, dict(times or {}))


def load_active(manifest: pd.DataFrame, root: Path, poses: Poses) -> dict[str, np.ndarray]:
    """Per clip, which frames show the action itself (``active`` in the clip file; every frame where a
    source has no such labels, e.g. real or flagged clips)."""
    out: dict[str, np.ndarray] = {}
    for clip_id, rel in zip(manifest["clip_id"], manifest["path"]):
        path = root / str(rel)
        active = None
        if str(rel) and path.is_file():
            with np.load(path, allow_pickle=False) as data:
                active = np.asarray(data["active"], bool) if "active" in data.files else None
        out[clip_id] = active if active is not None else np.ones(len(poses[clip_id]), bool)
    return out


def derived_active(derived: Derived, active: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The active-frame labels of perturbed copies: their parent's labels read at each frame's source time."""
    from safealign.poses.perturb import follow_time

    out = {}
    for clip_id, parent in zip(derived.rows["clip_id"], derived.rows["parent_clip_id"]):
        labels = active[str(parent)]
        src = derived.times.get(clip_id, np.arange(len(labels), dtype=np.float64))
        out[clip_id] = follow_time(labels, src)
    return out


def split_counts(df: pd.DataFrame, categories: list[str]) -> pd.DataFrame:
    """Clips per (category, split), including zero rows for absent combinations (for the minimum-count check)."""
    cats = ["benign", "near_miss", *categories]
    full = pd.MultiIndex.from_product([cats, SPLITS], names=["category", "split"])
    counts = df[df["source"] != "augmented"].groupby(["category", "split"]).size()
    return counts.reindex(full, fill_value=0).rename("n").reset_index()


def summary_counts(manifest: pd.DataFrame, robustness: pd.DataFrame) -> dict:
    """Counts per category/split/label/source for counts.json and the stage metrics."""
    def nested(df: pd.DataFrame, a: str, b: str) -> dict:
        return {str(k): {str(kk): int(vv) for kk, vv in g.groupby(b).size().items()} for k, g in df.groupby(a)}
    return {
        "clips": int(len(manifest)),
        "by_split_category": nested(manifest, "split", "category"),
        "by_split_label": nested(manifest, "split", "label"),
        "by_source": {str(k): int(v) for k, v in manifest.groupby("source").size().items()},
        "subjects_by_split": {str(k): int(g["subject"].nunique()) for k, g in manifest.groupby("split")},
        "robustness": {"clips": int(len(robustness)),
                       "by_family": {str(k): int(v) for k, v in robustness.groupby("family").size().items()}
                       if len(robustness) else {},
                       "by_label": {str(k): int(v) for k, v in robustness.groupby("label").size().items()}
                       if len(robustness) else {}},
    }
