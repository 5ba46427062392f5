"""params.yaml section ``synthesize_motions``: size and variety of the embedded synthetic motion dataset."""

from __future__ import annotations

from pydantic import Field

from safealign.section import Section


class SynthesizeMotionsParams(Section):
    """How many synthetic subjects, clips and frames; how much camera, body and style variation."""

    subjects: int = Field(ge=3)
    clips_per_subject: int = Field(ge=1)
    frames: int = Field(ge=2)
    fps: float = Field(gt=0)
    speed_range: list[float] = Field(min_length=2, max_length=2)
    yaw_max_deg: float = Field(ge=0, le=180)
    fill_range: list[float] = Field(min_length=2, max_length=2)
    style_jitter_deg: float = Field(ge=0)
    proportion_spread: float = Field(ge=0, le=0.3)
