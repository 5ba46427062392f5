"""Assemble GenderPair: pair sets → (cleaned, subsampled) → prompt table, pair/target tables, counts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from safealign.bias.genderpair.cleaning import clean_pairset
from safealign.bias.genderpair.pairsets import PairSet
from safealign.bias.genderpair.prompts import expected_count, iter_prompts
from safealign.bias.genderpair.targets import TARGET_TYPES

# Spec §1.7: the released pair sets with the paper's templates (variant "paper") give exactly this many
# prompts.
RELEASED_PAPER_TOTAL = 103_854
COLUMNS = [
    "id",
    "group",
    "target",
    "target_type",
    "biased",
    "anti_biased",
    "source",
    "pair_index",
    "configuration",
    "instruction_variant",
    "prompt",
]


@dataclass
class GenderPair:
    """The built benchmark: prompts, the pair and target tables, counts and the cleaning log."""

    prompts: pd.DataFrame
    pairs: pd.DataFrame
    targets: pd.DataFrame
    counts: dict
    changes: list[dict]
    expected: dict[str, int]


def subsample_targets(pairset: PairSet, per_type: int) -> PairSet:
    """Keep the first ``per_type`` targets of each target type (0 = all); for quick test builds."""
    if per_type <= 0:
        return pairset
    kept, seen = [], {}
    for target, kind in pairset.targets:
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= per_type:
            kept.append((target, kind))
    return replace(pairset, targets=kept)


def build_genderpair(
    pairsets: list[PairSet],
    variants: list[str],
    with_note: bool = False,
    cleaned: bool = False,
    max_targets_per_type: int = 0,
) -> GenderPair:
    """Every prompt of the six configurations for every variant, plus counts checked against the spec."""
    if cleaned:
        pairsets = [clean_pairset(ps) for ps in pairsets]
    pairsets = [subsample_targets(ps, max_targets_per_type) for ps in pairsets]
    rows = [row for ps in pairsets for row in iter_prompts(ps, variants, with_note)]
    prompts = pd.DataFrame(rows, columns=COLUMNS)
    pairs, targets = pair_and_target_tables(pairsets)
    expected = expected_count(pairsets, len(variants))
    counts = count_prompts(prompts, pairsets, expected, full=max_targets_per_type <= 0)
    return GenderPair(prompts, pairs, targets, counts, [c for ps in pairsets for c in ps.changes], expected)


def pair_and_target_tables(pairsets: list[PairSet]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """pairs (group, pair_index, biased, anti_biased, source) and targets (group, target, target_type)."""
    pairs = pd.DataFrame(
        [
            {
                "group": ps.group,
                "pair_index": i,
                "biased": p.biased,
                "anti_biased": p.anti_biased,
                "source": p.source,
            }
            for ps in pairsets
            for i, p in enumerate(ps.pairs)
        ]
    )
    targets = pd.DataFrame(
        [{"group": ps.group, "target": t, "target_type": k} for ps in pairsets for t, k in ps.targets]
    )
    return pairs, targets


def count_prompts(
    prompts: pd.DataFrame, pairsets: list[PairSet], expected: dict[str, int], full: bool
) -> dict:
    """Counts per group, group × target type, variant, configuration and source, with the spec check."""
    by_type = prompts.groupby(["group", "target_type"]).size()
    released = all(ps.origin != "builtin" for ps in pairsets)
    paper_total = int((prompts["instruction_variant"] == "paper").sum())
    counts = {
        "total": int(len(prompts)),
        "per_group": {g: int(n) for g, n in prompts.groupby("group").size().items()},
        "expected_per_group": expected,
        "per_group_target_type": {
            g: {k: int(by_type.get((g, k), 0)) for k in TARGET_TYPES} for g in expected
        },
        "per_variant": {v: int(n) for v, n in prompts.groupby("instruction_variant").size().items()},
        "per_configuration": {str(c): int(n) for c, n in prompts.groupby("configuration").size().items()},
        "per_source": {s: int(n) for s, n in prompts.groupby("source").size().items()},
        "targets_per_group": {ps.group: len(ps.targets) for ps in pairsets},
        "pairs_per_group": {ps.group: len(ps.pairs) for ps in pairsets},
        "paper_variant_total": paper_total,
        "pair_sets": "released" if released else "builtin",
    }
    if released and full:
        counts["spec_paper_total"] = RELEASED_PAPER_TOTAL
        counts["matches_spec"] = paper_total == RELEASED_PAPER_TOTAL
    return counts


def content_hash(prompts: pd.DataFrame) -> str:
    """sha256 over the rows in order (objectivity: the build is deterministic)."""
    row_hashes = pd.util.hash_pandas_object(prompts[COLUMNS], index=False).to_numpy()
    return hashlib.sha256(row_hashes.tobytes()).hexdigest()


def write_genderpair(gp: GenderPair, out_dir: Path) -> dict[str, Path]:
    """Write dataset/ (HF save_to_disk), genderpair.parquet, pairs.parquet, targets.parquet atomically (names:
    ``safealign.paths.GENDERPAIR_FILES``)."""
    from datasets import Dataset

    from safealign.atomic import atomic_dir, atomic_path
    from safealign.paths import GENDERPAIR_FILES

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {key: out_dir / name for key, name in GENDERPAIR_FILES.items()}
    with atomic_dir(paths["dataset"]) as tmp:
        Dataset.from_pandas(gp.prompts, preserve_index=False).save_to_disk(str(tmp))
    for key, frame in (("prompts", gp.prompts), ("pairs", gp.pairs), ("targets", gp.targets)):
        with atomic_path(paths[key]) as tmp:
            frame.to_parquet(tmp, index=False)
    return paths
