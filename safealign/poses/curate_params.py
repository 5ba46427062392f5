"""params.yaml section ``curate_poses``: filtering, splitting, augmentation and the robustness set."""

from __future__ import annotations

from pydantic import Field

from safealign.section import Section


class AugmentParams(Section):
    """Perturbation augmentation of unsafe training clips: copies per clip and the strength of each family.

    Each copy applies every family with probability ``p_family`` at a strength drawn uniformly up to its limit.
    """

    copies: int = Field(ge=0)
    p_family: float = Field(ge=0, le=1)
    jitter_px: float = Field(ge=0)
    rotate_deg: float = Field(ge=0)
    scale_delta: float = Field(ge=0, lt=1)
    translate: float = Field(ge=0)
    speed_delta: float = Field(ge=0, lt=1)
    offset_frames: int = Field(ge=0)
    drop_fraction: float = Field(ge=0, lt=1)
    part_dropout_p: float = Field(ge=0, le=1)


class MinClips(Section):
    """Minimum clips per category in each split (a Great Expectations check)."""

    train: int = Field(ge=0)
    val: int = Field(ge=0)
    test: int = Field(ge=0)


class CuratePosesParams(Section):
    """Merge, filter, de-duplicate, split by subject, augment, build the robustness set, validate."""

    flagged_dir: str
    flagged_canvas: list[int] = Field(min_length=2, max_length=2)
    visibility_threshold: float = Field(ge=0, le=1)
    min_visible_fraction: float = Field(ge=0, le=1)
    min_frames: int = Field(ge=1)
    dedup_decimals: int = Field(ge=0, le=6)
    val_fraction: float = Field(ge=0, lt=1)
    test_fraction: float = Field(gt=0, lt=1)
    augment: AugmentParams
    robustness_combos: int = Field(ge=0)
    robustness_benign_clips: int = Field(ge=0)
    min_clips: MinClips
    coordinate_range: list[float] = Field(min_length=2, max_length=2)
    grid_frames: int = Field(ge=1)
