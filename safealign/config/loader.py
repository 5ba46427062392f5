"""Load and validate params.yaml; turn pydantic errors into one line that names key, expected, received."""

from __future__ import annotations

import copy
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from safealign.config.schema import Params
from safealign.errors import ConfigError, shorten, user_input
from safealign.yaml_load import load_yaml


def load_raw(path: str | Path = "params.yaml") -> dict[str, Any]:
    """Read params.yaml as a plain dict (no validation)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found")
    with user_input(path):
        data = load_yaml(path.read_text(encoding="utf-8"), str(path))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, received {type(data).__name__}")
    return data


def load_params(path: str | Path = "params.yaml", overrides: dict[str, Any] | None = None) -> Params:
    """Validate params.yaml against ``safealign.config.schema.Params``; raise ConfigError on the first problem."""
    raw = load_raw(path)
    if overrides:
        raw = apply_overrides(raw, overrides)
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, Params, source=str(path))) from None


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``raw`` with dotted keys replaced, e.g. ``{"train_guard.steps": 2}``."""
    out = copy.deepcopy(raw)
    for dotted, value in overrides.items():
        node = out
        *parents, leaf = dotted.split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise ConfigError(f"override '{dotted}': '{part}' is not a section of params.yaml")
            node = node[part]
        node[leaf] = value
    return out


def format_validation_error(exc: ValidationError, model: type[BaseModel], source: str = "params.yaml") -> str:
    """One line: '<source>: key 'a.b': expected <type>, received <value> (<type>)' (+ count of others)."""
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    key = ".".join(str(p) for p in loc)
    kind = first["type"]
    if kind == "missing":
        line = f"{source}: missing key '{key}' (expected {_expected(model, loc)})"
    elif kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        line = (f"{source}: unknown key '{key}' (expected one of: {', '.join(allowed)}), "
                f"received {_show(first.get('input'))}")
    else:
        received = first.get("input")
        line = (f"{source}: key '{key}': expected {_expected(model, loc)} ({first['msg']}), "
                f"received {_show(received)} ({type(received).__name__})")
    if len(errors) > 1:
        line += f" [and {len(errors) - 1} more problem(s)]"
    return line


def _show(value: Any) -> str:
    return shorten(value)


def _field_annotation(model: type[BaseModel], loc: tuple) -> Any:
    annotation: Any = model
    for part in loc:
        annotation = _strip_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
            continue
        args = typing.get_args(annotation)
        origin = typing.get_origin(annotation)
        if origin in (list, tuple, set) and args:
            annotation = args[0]
        elif origin is dict and len(args) == 2:
            annotation = args[1]
        elif origin in (typing.Union, types.UnionType):
            continue
        else:
            return annotation
    return annotation


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _expected(model: type[BaseModel], loc: tuple) -> str:
    annotation = _field_annotation(model, loc)
    if annotation is None:
        return "a known key"
    return _describe(annotation)


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is typing.Annotated:
        return _describe(args[0])
    if origin is not None:
        inner = ", ".join(_describe(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"a mapping with keys {', '.join(annotation.model_fields)}"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    annotation = _strip_optional(_field_annotation(model, loc) if loc else model)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []
