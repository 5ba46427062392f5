"""The unsafe-pose categories of params.yaml ``guard.categories``: read them, register a new one.

A new category is added with a round-trip YAML edit (ruamel.yaml, installed with DVC) so that every comment
and the layout of params.yaml stay as they were; the edited file is validated before it replaces the old one.
"""

from __future__ import annotations

import difflib
import io
import re
from pathlib import Path

from safealign.errors import ConfigError, InputError, shorten

# Labels of the pose manifest that are not unsafe categories (pose_contract.md).
RESERVED = frozenset({"benign", "near_miss", "unsafe"})
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def check_category_name(name: str) -> str:
    """A category name is used as a directory, a DVC foreach item and an MLflow tag: keep it simple."""
    if not NAME_PATTERN.match(name):
        raise InputError(f"category {shorten(name)}: use lower-case letters, digits and '_' (start with a letter, "
                         "at most 40 characters)")
    if name in RESERVED:
        raise InputError(f"category {name!r} is a reserved manifest label ({', '.join(sorted(RESERVED))})")
    return name


def known_categories(params_path: str | Path) -> list[str]:
    """``guard.categories`` of a validated params file."""
    from safealign.config import load_params

    return list(load_params(params_path).guard.categories)


def add_category(params_path: str | Path, name: str) -> bool:
    """Append ``name`` to ``guard.categories`` keeping comments; False when it is already there."""
    from ruamel.yaml import YAML

    from safealign.atomic import atomic_path
    from safealign.config import load_params

    params_path = Path(params_path)
    check_category_name(name)
    text = params_path.read_text(encoding="utf-8")
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long comment lines
    yaml.indent(mapping=2, sequence=4, offset=2)  # the "  - item" block-list style of params.yaml
    yaml.representer.add_representer(type(None), _represent_null)
    data = yaml.load(text)
    categories = data["guard"]["categories"]
    if name in categories:
        return False
    categories.append(name)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    edited = buffer.getvalue()
    _require_minimal_edit(text, edited, params_path)
    with atomic_path(params_path) as tmp:
        tmp.write_text(edited, encoding="utf-8")
        load_params(tmp)  # the schema must still hold before the edit replaces params.yaml
    return True


def _represent_null(representer, _value):
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")  # keep `null`, not an empty value


def _require_minimal_edit(before: str, after: str, path: Path) -> None:
    changed = [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    if len(changed) != 2 or "categories" not in changed[0] or "categories" not in changed[1]:
        raise ConfigError(f"{path}: cannot add the category with a one-line edit (the YAML round trip would "
                          f"change {len(changed)} lines); add it to guard.categories by hand")
