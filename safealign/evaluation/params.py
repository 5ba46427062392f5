"""params.yaml section ``evaluate_guard`` (stage stages/evaluate_guard.py)."""

from __future__ import annotations

from pydantic import Field

from safealign.section import Section


class EvaluateGuardParams(Section):
    """Which models and clips are evaluated, how much of each clip, and the calibrated block rule."""

    base_model: str
    adapters_dir: str
    fused_model: str
    poses_dir: str
    extracted_manifest: str
    real_extracted_sources: list[str]
    real_pose_video: str
    real_reference: str
    real_max_frames: int = Field(ge=1)
    real_clip_frames: int = Field(ge=1)
    frames_per_clip: int = Field(ge=1)
    frontal_yaw_deg: float = Field(ge=0, le=90)
    steps: int = Field(ge=1)
    clips_per_batch: int = Field(ge=1)
    max_clips_per_group: int | None = Field(default=None, ge=1)
    max_robustness_clips_per_cell: int | None = Field(default=None, ge=1)
    threshold_percentile: float = Field(ge=0, le=100)
    threshold_margin: float = Field(ge=0, le=1)
    robustness_mild: dict[str, list[str]]
    example_rows_per_group: int = Field(ge=0)
