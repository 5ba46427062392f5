"""params.yaml section ``operations``: when the onboarding deployments run and how they debounce."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator

from safealign.section import Section


class OperationsParams(Section):
    """Schedule and event-trigger settings of the ``onboard-flagged-poses`` deployments."""

    cron: str
    timezone: str
    debounce_seconds: float = Field(ge=0)
    settle_seconds: float = Field(ge=0)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from cronsim import CronSim, CronSimError  # Prefect's own cron parser

        try:
            CronSim(value, datetime(2000, 1, 1))
        except CronSimError as exc:
            raise ValueError(f"not a cron expression ({exc})") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value
