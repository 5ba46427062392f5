"""params.yaml: typed schema, validated at load. See ``load_params``.

The config package gathers the sections; the feature packages define theirs on ``safealign.section.Section``
and never import this package (tests/test_import_layers.py), so importing the schema here is no cycle.
"""

from safealign.config.loader import apply_overrides, format_validation_error, load_params, load_raw
from safealign.config.schema import Params

__all__ = ["Params", "load_params", "load_raw", "apply_overrides", "format_validation_error"]
