"""params.yaml section ``extract_poses``: which real media to extract landmarks from, and how."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from safealign.section import Section


class ExtractPosesParams(Section):
    """MediaPipe landmark extraction over files/directories under ``project.shared_data``."""

    inputs: list[str]
    face: bool
    category: Literal["benign", "near_miss", "discriminatory", "sexual", "celebrity"]
    max_frames: int | None = Field(default=None, ge=1)
    max_pixels: int = Field(ge=1)
    workers: int = Field(ge=1)
    dask_address: str
    dask_workers: int = Field(ge=0)
    min_detection_confidence: float = Field(gt=0, lt=1)
    min_tracking_confidence: float = Field(gt=0, lt=1)
