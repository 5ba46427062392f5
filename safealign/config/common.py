"""Sections shared by every branch: project paths, tracking, orchestration, registry gates."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from safealign.section import Section


class ProjectParams(Section):
    """Where things are and how the pipeline runs everywhere."""

    shared_data: str
    seed: int = Field(ge=0)
    device: Literal["auto", "cpu", "cuda"]


class TrackingParams(Section):
    """MLflow: experiment name; the URI is sqlite in the project unless MLFLOW_TRACKING_URI is set."""

    experiment: str
    tracking_uri: str
    enabled: bool


class OrchestrationParams(Section):
    """Prefect task behaviour around each DVC stage."""

    retries: int = Field(ge=0)
    retry_delay_seconds: float = Field(ge=0)


class GateRule(Section):
    """One threshold: ``metric op value`` must hold, e.g. block_rate_min >= 0.95."""

    metric: str
    op: Literal[">=", "<=", ">", "<"]
    value: float


class GateParams(Section):
    """A registered model, the metrics file its gate reads, and the rules that must all pass."""

    model: str
    metrics: str
    rules: list[GateRule]
