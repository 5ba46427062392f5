"""The whole params.yaml as one typed model. Each stage section lives next to the code that uses it."""

from __future__ import annotations

from safealign.config.base import Section
from safealign.config.common import GateParams, OrchestrationParams, ProjectParams, TrackingParams
from safealign.config.guard import GuardParams


class Params(Section):
    """Root of params.yaml. Adding a section: define it in its package's params module, add it here."""

    project: ProjectParams
    tracking: TrackingParams
    orchestration: OrchestrationParams
    gates: list[GateParams]
    guard: GuardParams
