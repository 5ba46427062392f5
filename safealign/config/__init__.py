"""params.yaml: typed schema, validated at load. See ``load_params``.

``Params`` (the root schema) is imported lazily: the schema imports every package's section models, and
those import ``safealign.config.base``; an eager import here would make that a cycle.
"""

from typing import Any

from safealign.config.loader import apply_overrides, format_validation_error, load_params, load_raw

__all__ = ["Params", "load_params", "load_raw", "apply_overrides", "format_validation_error"]


def __getattr__(name: str) -> Any:
    if name == "Params":
        from safealign.config.schema import Params

        return Params
    raise AttributeError(name)
