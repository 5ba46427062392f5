"""Base class of every params.yaml section: unknown keys, silent type coercion and non-finite numbers are errors."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A params.yaml section. Strict: '3' is not an int, 1 is not a bool, unknown keys are refused.

    Every float, including those inside lists and dicts, must be finite: YAML's ``.inf`` and ``.nan`` are
    floats, and a bound such as ``gt=0`` lets infinity through.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)
