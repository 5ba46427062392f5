"""params.yaml sections of the GenderPair branch: ``build_genderpair`` and ``augment_counterfactual``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from safealign.section import Section


class BuildGenderpairParams(Section):
    """Which pair sets, which instruction variants, cleaned or verbatim, and an optional target subsample."""

    pair_sets: str = Field(min_length=1)
    variants: list[Literal["paper", "reworded", "marker"]] = Field(min_length=1)
    cleaned: bool
    with_note: bool
    max_targets_per_type: int = Field(ge=0)


class BalancedParams(Section):
    """Descriptor-swap counterfactuals: statements and instruction answers written once with B, once with A."""

    statements_per_pair: int = Field(ge=0)
    choices_per_pair: int = Field(ge=0)
    frames: list[str] = Field(min_length=1)
    openers: list[str] = Field(min_length=1)


class AugmentCounterfactualParams(Section):
    """Debiasing data: paper-style anti-descriptor pairing, released validation file, three-way swapping."""

    validation_file: str
    benchmarks: str
    descriptors_per_target: int = Field(ge=1)
    swap: bool
    validation_fraction: float = Field(gt=0, lt=1)
    exclude_contaminated: bool
    balanced: BalancedParams
