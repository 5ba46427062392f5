"""Build GenderPair and check it: GX suite (stops on failure) and the six criteria (objectivity: rebuild)."""

from __future__ import annotations

from pathlib import Path

from safealign.bias.genderpair.build import GenderPair, build_genderpair, content_hash
from safealign.bias.genderpair.builtin_pairs import builtin_pairsets
from safealign.bias.genderpair.criteria import six_criteria, validate_genderpair
from safealign.bias.genderpair.pairsets import PairSet, load_released
from safealign.paths import GX_DIR


def load_pairsets(spec: str, shared_data: Path | None = None) -> list[PairSet]:
    """``builtin`` or a directory (absolute, or relative to ``shared_data``) of released pair-set files."""
    if spec == "builtin":
        return builtin_pairsets()
    path = Path(spec)
    if not path.is_absolute() and shared_data is not None:
        path = shared_data / path
    return load_released(path)


def build_checked(
    pair_sets: str,
    shared_data: Path | None,
    variants: list[str],
    with_note: bool,
    cleaned: bool,
    max_targets_per_type: int = 0,
    gx_dir: str | Path = GX_DIR,
) -> tuple[GenderPair, dict]:
    """Load pair sets, build the prompts, validate them, score the criteria; returns (benchmark, criteria)."""

    def build() -> GenderPair:
        return build_genderpair(
            load_pairsets(pair_sets, shared_data), variants, with_note, cleaned, max_targets_per_type
        )

    gp = build()
    validate_genderpair(gp.prompts, gp.expected, result_dir=gx_dir)
    return gp, six_criteria(gp.prompts, content_hash(gp.prompts), content_hash(build().prompts))
