"""Evaluation never touches what a model trained on: no shared clip ids, subjects or parent (source) clips."""

from __future__ import annotations

import pandas as pd

from safealign.errors import DataValidationError


def root_ids(manifest: pd.DataFrame) -> pd.Series:
    """The original clip each row derives from (its parent for augmented/perturbed copies, else itself)."""
    parent = manifest["parent_clip_id"].fillna("").astype(str)
    return parent.where(parent != "", manifest["clip_id"].astype(str))


def overlap(eval_rows: pd.DataFrame, train_rows: pd.DataFrame) -> dict[str, list[str]]:
    """Clip ids, subjects and root clip ids that appear on both sides (empty lists when disjoint)."""
    train_ids = set(train_rows["clip_id"].astype(str)) | set(root_ids(train_rows))
    found = {
        "clip_id": sorted(set(eval_rows["clip_id"].astype(str)) & train_ids),
        "subject": sorted(set(eval_rows["subject"].astype(str)) & set(train_rows["subject"].astype(str))),
        "parent_clip_id": sorted(set(root_ids(eval_rows)) & train_ids),
    }
    return found


def assert_disjoint(eval_rows: pd.DataFrame, train_rows: pd.DataFrame, what: str) -> None:
    """Raise DataValidationError naming the shared ids when ``eval_rows`` overlap the training rows."""
    shared = {k: v for k, v in overlap(eval_rows, train_rows).items() if v}
    if shared:
        detail = "; ".join(
            f"{k}: {', '.join(v[:5])}{' ...' if len(v) > 5 else ''} ({len(v)})" for k, v in shared.items()
        )
        raise DataValidationError(
            f"{what} shares data with the training split ({detail}); "
            "evaluation must use held-out subjects only"
        )


def drop_trained(rows: pd.DataFrame, train_rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """``rows`` without any row whose clip, subject or parent was trained on; also the number dropped."""
    train_ids = set(train_rows["clip_id"].astype(str)) | set(root_ids(train_rows))
    bad = (
        rows["clip_id"].astype(str).isin(train_ids)
        | root_ids(rows).isin(train_ids)
        | rows["subject"].astype(str).isin(set(train_rows["subject"].astype(str)))
    )
    return rows[~bad].reset_index(drop=True), int(bad.sum())
