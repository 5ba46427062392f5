"""Choose the evaluation clips: benign VALIDATION clips (threshold calibration), TEST clips, and the
robustness set, all checked to be disjoint from the training split (clips, subjects, parents)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from safealign.evaluation.leakage import assert_disjoint, root_ids


@dataclass
class EvalSets:
    """Manifest rows per evaluation set (each has the manifest columns, robustness also family/level)."""

    val: pd.DataFrame
    test: pd.DataFrame
    robustness: pd.DataFrame
    train: pd.DataFrame


def cap_per_group(rows: pd.DataFrame, keys: list[str], n: int | None, seed: int) -> pd.DataFrame:
    """At most ``n`` rows per ``keys`` group (None = all), the same rows for the same seed."""
    if n is None or rows.empty:
        return rows.reset_index(drop=True)
    # Deterministic subsample per group: a seeded shuffle of the sorted rows, then the first n of each group.
    shuffled = rows.sort_values("clip_id").sample(frac=1.0, random_state=seed)
    return shuffled.groupby(keys, sort=False).head(n).sort_values([*keys, "clip_id"]).reset_index(drop=True)


def select_sets(
    manifest: pd.DataFrame,
    robustness: pd.DataFrame,
    max_per_group: int | None,
    max_per_cell: int | None,
    seed: int,
) -> EvalSets:
    """Originals of the val (benign only) and test splits, and robustness copies of the chosen test clips."""
    original = manifest["parent_clip_id"].fillna("").astype(str) == ""
    train = manifest[manifest["split"] == "train"]
    val = cap_per_group(
        manifest[(manifest["split"] == "val") & original & (manifest["label"] == "benign")],
        ["category"],
        max_per_group,
        seed,
    )
    test = cap_per_group(
        manifest[(manifest["split"] == "test") & original], ["category"], max_per_group, seed
    )
    if len(robustness):
        # The whole robustness set must derive from held-out clips (contract), not only the part evaluated.
        assert_disjoint(robustness, train, "the robustness set")
    rob = robustness[root_ids(robustness).isin(set(test["clip_id"].astype(str)))]
    rob = rob.assign(level=rob["level"].astype(str)) if len(rob) else rob
    # Cells are (family, level, label): unsafe categories share a cell, keeping the grid affordable on CPU.
    rob = (
        cap_per_group(rob, ["family", "level", "label"], max_per_cell, seed)
        if len(rob)
        else rob.reset_index(drop=True)
    )
    assert_disjoint(val, train, "the validation (calibration) set")
    assert_disjoint(test, train, "the test set")
    return EvalSets(val=val, test=test, robustness=rob, train=train)
