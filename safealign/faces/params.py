"""params.yaml section ``face``: the facial-landmark variant (protected identities, synthesis, curation,
extraction, and the overrides the shared generator/guard/evaluation stages apply in the face domain)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from safealign.section import Section
from safealign.poses.curate_params import AugmentParams, MinClips


class FaceSynthesisParams(Section):
    """Procedural face clips: subjects per role, clip length, identity distances, head motion."""

    generic_subjects: int = Field(ge=2)
    impersonators_per_identity: int = Field(ge=2)
    lookalikes_per_identity: int = Field(ge=0)
    clips_per_impersonator: int = Field(ge=1)
    frames: int = Field(ge=2)
    fps: float = Field(gt=0)
    match_distance: float = Field(ge=0)
    lookalike_distance: list[float] = Field(min_length=2, max_length=2)
    benign_min_distance: float = Field(ge=0)
    strength_range: list[float] = Field(min_length=2, max_length=2)
    yaw_max_deg: float = Field(ge=0)
    pitch_max_deg: float = Field(ge=0)
    roll_max_deg: float = Field(ge=0)
    scale_range: list[float] = Field(min_length=2, max_length=2)
    shift: float = Field(ge=0)


class FaceExtractParams(Section):
    """MediaPipe FaceMesh extraction of real face media."""

    inputs: list[str]
    max_frames: int | None = Field(default=None, ge=1)
    min_detection_confidence: float = Field(ge=0, le=1)
    min_detected_fraction: float = Field(ge=0, le=1)


class FaceCurateParams(Section):
    """Split by identity, expression-strength and landmark augmentation, robustness set."""

    visibility_threshold: float = Field(ge=0, le=1)
    min_visible_fraction: float = Field(ge=0, le=1)
    min_frames: int = Field(ge=1)
    val_fraction: float = Field(ge=0, lt=1)
    test_fraction: float = Field(gt=0, lt=1)
    expression_copies: int = Field(ge=0)
    expression_delta: float = Field(ge=0, lt=1)
    augment: AugmentParams
    robustness_combos: int = Field(ge=0)
    robustness_benign_clips: int = Field(ge=0)
    min_clips: MinClips


class FaceParams(Section):
    """The face domain. ``categories`` (the DVC foreach list): ``impersonation_<name>`` protects identity
    <name>; every other entry is an unsafe expression template of ``safealign.faces.expressions.UNSAFE``."""

    categories: list[str] = Field(min_length=1)
    resolution: int = Field(ge=16, le=1024)
    synthesis: FaceSynthesisParams
    extract: FaceExtractParams
    curate: FaceCurateParams
    pretrain_generator: dict[str, Any] = {}
    guard_data: dict[str, Any] = {}
    train_guard: dict[str, Any] = {}
    fuse_guard: dict[str, Any] = {}
    evaluate_guard: dict[str, Any] = {}

    @field_validator("categories")
    @classmethod
    def _known(cls, cats: list[str]) -> list[str]:
        from safealign.faces.expressions import UNSAFE

        bad = [c for c in cats if not c.startswith(IMPERSONATION) and c not in UNSAFE]
        if bad:
            known = ", ".join(UNSAFE)
            raise ValueError(f"{bad}: not impersonation_<name> nor an unsafe expression ({known})")
        if len(set(cats)) != len(cats):
            raise ValueError("categories must be unique")
        return cats

    @property
    def protected_identities(self) -> list[str]:
        """Names of the protected identities (one impersonation category each)."""
        return [c.removeprefix(IMPERSONATION) for c in self.categories if c.startswith(IMPERSONATION)]

    @property
    def unsafe_expressions(self) -> list[str]:
        """Unsafe expression templates guarded against."""
        return [c for c in self.categories if not c.startswith(IMPERSONATION)]


IMPERSONATION = "impersonation_"
