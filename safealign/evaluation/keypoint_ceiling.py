"""The keypoint learnability ceiling: how well the unsafe decision can be learnt from the keypoint sequence
alone, at this dataset's size. The guard reads the same keypoints (posture tokens), so its block rate at a
given false-positive rate is measured against this.

Per unsafe category a seeded ``HistGradientBoostingClassifier`` is fitted on TRAIN clip features
(``safealign.evaluation.keypoint_features``): that category's unsafe clips, augmented copies included, = 1;
benign and near-miss originals = 0. Its threshold flags ``flag_rate`` of the VALIDATION benign + near-miss
clips; on TEST originals it reports, per unsafe action and overall, the share of clips caught and, per
near-miss and benign action, the share flagged, each with a Wilson 95 % interval, for all views and split by
view tier (frontal: |camera yaw| <= ``frontal_deg``; unknown yaw, as in real clips, is not frontal).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from safealign.errors import InputError
from safealign.evaluation.intervals import wilson_interval
from safealign.evaluation.keypoint_features import clip_features

FLAG_RATE = 0.05
FRONTAL_DEG = 10.0
TIERS = ("all", "non_frontal", "frontal")
SAFE_LABELS = ("benign", "near_miss")
UNSAFE = "unsafe"
# ~1.5 k training clips: 63 feature bins (about 20 clips each) instead of 255 make a fit 4x faster. One OpenMP
# thread: on the 2-core machine with other jobs a 2-thread fit took 121 s against 36 s single-threaded.
MAX_BINS = 63
FIT_THREADS = 1
TABLE_COLUMNS = ["category", "label", "action", "tier", "flagged", "clips", "rate", "low", "high"]


def view_tier(yaw: float, frontal_deg: float = FRONTAL_DEG) -> str:
    """'frontal' when the camera yaw is known and within ``frontal_deg`` degrees, else 'non_frontal'."""
    return "frontal" if yaw is not None and math.isfinite(yaw) and abs(yaw) <= frontal_deg else "non_frontal"


def load_features(manifest: pd.DataFrame, root: str | Path
                  ) -> tuple[np.ndarray, pd.DataFrame, list[tuple[str, str]]]:
    """Clip features ``[N, F]`` for the manifest rows whose clip files can be read, those rows, and
    (file, reason) for the others. A row's landmark layout is its ``layout`` column (default the body's)."""
    from safealign.generation.data import layout_of

    features, kept, skipped = [], [], []
    for i, row in enumerate(manifest.to_dict("records")):
        path = Path(root) / str(row["path"])
        try:
            with np.load(path, allow_pickle=False) as clip:
                pose = clip["pose"]
                active = clip["active"] if "active" in clip.files else None
            features.append(clip_features(pose, active, layout_of(row)))
            kept.append(i)
        except (OSError, KeyError, ValueError) as exc:
            skipped.append((str(path), f"{type(exc).__name__}: {exc}"))
    if not features:
        raise InputError(f"{root}: none of the {len(manifest)} manifest clips could be read "
                         f"(e.g. {skipped[:1]})")
    widths = {len(f) for f in features}
    if len(widths) > 1:
        raise InputError(f"{root}: the manifest mixes landmark layouts (feature widths {sorted(widths)}); "
                         "measure one layout at a time")
    return np.stack(features), manifest.iloc[kept].reset_index(drop=True), skipped


def _originals(rows: pd.DataFrame) -> pd.Series:
    parent = rows["parent_clip_id"] if "parent_clip_id" in rows else pd.Series("", index=rows.index)
    return parent.fillna("").astype(str) == ""


def category_ceiling(features: np.ndarray, rows: pd.DataFrame, category: str, flag_rate: float = FLAG_RATE,
                     seed: int = 0, frontal_deg: float = FRONTAL_DEG) -> dict:
    """Fit, calibrate and measure one unsafe ``category`` on clip ``features`` aligned with manifest ``rows``
    (see module docstring); a plain JSON-able dict."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    split, label, original = rows["split"].to_numpy(), rows["label"].to_numpy(), _originals(rows).to_numpy()
    safe = np.isin(label, SAFE_LABELS) & original
    positive = (split == "train") & (label == UNSAFE) & (rows["category"].to_numpy() == category)
    negative = (split == "train") & safe
    if not positive.any() or not negative.any():
        raise InputError(f"category {category!r}: the train split has {int(positive.sum())} unsafe and "
                         f"{int(negative.sum())} benign / near-miss clips; both are needed")
    model = HistGradientBoostingClassifier(random_state=seed, max_bins=MAX_BINS)
    train = positive | negative
    with threadpool_limits(FIT_THREADS):
        model.fit(features[train], positive[train].astype(int))
    score = model.predict_proba(features)[:, 1]
    val = score[(split == "val") & safe]
    if len(val) == 0:
        raise InputError(f"category {category!r}: no validation benign / near-miss clips to set the "
                         "threshold on")
    # "higher" makes the threshold a sample value, so at most flag_rate of validation clips lies above it.
    threshold = float(np.quantile(val, 1.0 - flag_rate, method="higher"))
    test = (split == "test") & original
    yaw = rows["yaw"].to_numpy(float) if "yaw" in rows else np.full(len(rows), np.nan)  # older manifests
    tiers = np.array([view_tier(y, frontal_deg) for y in yaw])
    flagged = score > threshold
    unsafe_test = test & (label == UNSAFE) & (rows["category"].to_numpy() == category)
    return {
        "category": category,
        "threshold": threshold,
        "val_flagged": float((val > threshold).mean()),
        "train_clips": {"unsafe": int(positive.sum()), "benign_near_miss": int(negative.sum())},
        "caught": _by_action(flagged, tiers, rows["action"].to_numpy(), unsafe_test),
        "false_positive": {lab: _by_action(flagged, tiers, rows["action"].to_numpy(), test & (label == lab))
                           for lab in SAFE_LABELS},
    }


def _rate(flagged: np.ndarray) -> dict:
    k, n = int(flagged.sum()), len(flagged)
    low, high = wilson_interval(k, n)
    return {"flagged": k, "clips": n, "rate": k / n if n else math.nan, "low": low, "high": high}


def _by_tier(flagged: np.ndarray, tiers: np.ndarray, where: np.ndarray) -> dict:
    return {tier: _rate(flagged[where & ((tiers == tier) | (tier == "all"))]) for tier in TIERS}


def _by_action(flagged: np.ndarray, tiers: np.ndarray, actions: np.ndarray, where: np.ndarray) -> dict:
    """Flag rates over the clips ``where``: overall ('all') and per action, each per view tier."""
    out = {"all": _by_tier(flagged, tiers, where)}
    for action in sorted(set(actions[where])):
        out[str(action)] = _by_tier(flagged, tiers, where & (actions == action))
    return out


def keypoint_ceiling(manifest: pd.DataFrame, root: str | Path, categories: Iterable[str] | None = None,
                     flag_rate: float = FLAG_RATE, seed: int = 0, frontal_deg: float = FRONTAL_DEG
                     ) -> tuple[dict, pd.DataFrame]:
    """The ceiling for every unsafe category of ``manifest`` (or ``categories``), clip paths relative to
    ``root``: (plain JSON-able dict, tidy table with ``TABLE_COLUMNS``)."""
    started = time.perf_counter()
    known = sorted(set(manifest.loc[manifest["label"] == UNSAFE, "category"].astype(str)))
    wanted = list(categories) if categories else known
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise InputError(f"categories {unknown}: no unsafe clips in the manifest (it has {known})")
    features, rows, skipped = load_features(manifest, root)
    results = [category_ceiling(features, rows, c, flag_rate, seed, frontal_deg) for c in wanted]
    summary = {"flag_rate": flag_rate, "seed": seed, "frontal_deg": frontal_deg, "clips": len(rows),
               "n_features": int(features.shape[1]),
               "skipped_clips": [{"file": f, "reason": r} for f, r in skipped],
               "categories": results, "seconds": round(time.perf_counter() - started, 2)}
    return summary, ceiling_table(results)


def ceiling_table(results: Iterable[Mapping]) -> pd.DataFrame:
    """One row per (category, label, action, tier) of ``category_ceiling`` results (action 'all' = every
    clip of that label)."""
    records = []
    for res in results:
        groups = [(UNSAFE, res["caught"])] + [(lab, res["false_positive"][lab]) for lab in SAFE_LABELS]
        for label, by_action in groups:
            for action, by_tier in by_action.items():
                for tier, rate in by_tier.items():
                    records.append({"category": res["category"], "label": label, "action": action,
                                    "tier": tier, **rate})
    return pd.DataFrame.from_records(records, columns=TABLE_COLUMNS)
