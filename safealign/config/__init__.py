"""params.yaml: typed schema, validated at load. See ``load_params``."""

from safealign.config.loader import load_params, load_raw, apply_overrides, format_validation_error
from safealign.config.schema import Params

__all__ = ["Params", "load_params", "load_raw", "apply_overrides", "format_validation_error"]
