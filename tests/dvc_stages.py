"""dvc.yaml as DVC runs it: foreach stages expanded per item, ``${item}`` / ``${key}`` filled from params.yaml."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.conftest import REPO


def params_yaml() -> dict:
    """The repository's params.yaml as plain data."""
    return yaml.safe_load((REPO / "params.yaml").read_text())


def lookup(tree: Any, dotted: str) -> Any:
    """``tree["a"]["b"]`` for ``a.b``."""
    for part in dotted.split("."):
        tree = tree[part]
    return tree


def _substitute(value: Any, item: Any, key: Any) -> Any:
    """dvc.yaml's ``${item}``, ``${item.<field>}`` and ``${key}`` in a string, list or dict."""
    if isinstance(value, str):
        def one(match: re.Match) -> str:
            ref = match.group(1)
            if ref == "key":
                return str(key)
            return str(item if ref == "item" else lookup(item, ref.removeprefix("item.")))
        return re.sub(r"\$\{\s*(key|item(?:\.\w+)*)\s*\}", one, value)
    if isinstance(value, list):
        return [_substitute(v, item, key) for v in value]
    if isinstance(value, dict):
        return {_substitute(k, item, key): _substitute(v, item, key) for k, v in value.items()}
    return value


def expanded_stages() -> dict[str, tuple[str, str | None, dict]]:
    """Every dvc.yaml stage as DVC runs it: ``name@item`` -> (stage name, item key, body with ${...} filled)."""
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    out: dict[str, tuple[str, str | None, dict]] = {}
    for name, stage in stages.items():
        if "foreach" not in stage:
            out[name] = (name, None, stage)
            continue
        items = lookup(params_yaml(), stage["foreach"].strip("${} "))
        pairs = items.items() if isinstance(items, dict) else ((i, i) for i in items)
        for key, item in pairs:
            out[f"{name}@{key}"] = (name, str(key), _substitute(stage["do"], item, key))
    return out


def entries(body: dict, kind: str) -> list[str]:
    """The paths of a stage's ``deps`` / ``outs`` / ``metrics`` / ``plots`` (entries with options included)."""
    return [next(iter(e)) if isinstance(e, dict) else e for e in body.get(kind) or []]
