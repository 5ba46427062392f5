"""Base class of every params.yaml section: unknown keys and silent type coercion are errors."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A params.yaml section. Strict: '3' is not an int, 1 is not a bool, unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
