"""``load_yaml``: ``yaml.safe_load`` that refuses duplicate keys and names the line of every problem."""

from __future__ import annotations

from typing import Any

import yaml

from safealign.errors import ConfigError, SafealignError, library_reason, shorten


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader whose mappings refuse a key given twice (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # an unhashable key: let SafeLoader report it
                continue
            if first is not key_node:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {shorten(key)} (first at line {first.start_mark.line + 1})",
                    key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, source: str, error: type[SafealignError] = ConfigError) -> Any:
    """Parse ``text`` safely (no Python objects); ``error`` names ``source``, the line and the problem."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise error(f"{source}: {library_reason(exc)}") from None
