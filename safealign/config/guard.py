"""Settings shared by every PoseGuard stage (categories drive the DVC foreach of per-category work)."""

from __future__ import annotations

from pydantic import Field

from safealign.section import Section


class GuardParams(Section):
    """Unsafe categories and the working resolution shared by data, training and evaluation."""

    categories: list[str] = Field(min_length=1)
    resolution: int = Field(ge=16, le=1024)
