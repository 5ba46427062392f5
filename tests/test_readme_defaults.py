"""The defaults the README (and the user guides) quote are the ones params.yaml sets.

A quoted fact is one line `dotted.key: value` in a fenced ```yaml block whose first line is the marker
comment below. `gates.<model>.<metric>: "<op> <value>"` names a gate rule.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
MARKER = "# checked against params.yaml by tests/test_readme_defaults.py"
FENCE = re.compile(r"^```yaml\n(.*?)^```", re.M | re.S)


def quoted_facts(text: str) -> dict[str, Any]:
    """Every `key: value` of the marked yaml blocks of a markdown text."""
    facts: dict[str, Any] = {}
    for block in FENCE.findall(text):
        if block.splitlines()[0].strip() == MARKER:
            facts.update(yaml.safe_load(block) or {})
    return facts


def params_value(params: dict, key: str) -> Any:
    """The params.yaml value a dotted key names (a gate rule as "<op> <value>")."""
    if key.startswith("gates."):
        rest = key[len("gates."):]
        for gate in params["gates"]:
            if rest.startswith(gate["model"] + "."):
                metric = rest[len(gate["model"]) + 1:]
                rule = next(r for r in gate["rules"] if r["metric"] == metric)
                return f"{rule['op']} {rule['value']}"
        raise KeyError(key)
    node: Any = params
    for part in key.split("."):
        node = node[part]
    return node


def mismatches(text: str, params: dict) -> list[str]:
    """One line per quoted fact that params.yaml does not hold."""
    out = []
    for key, quoted in quoted_facts(text).items():
        try:
            actual = params_value(params, key)
        except (KeyError, StopIteration, TypeError):
            out.append(f"{key}: not in params.yaml")
            continue
        if quoted != actual:
            out.append(f"{key}: docs say {quoted!r}, params.yaml has {actual!r}")
    return out


def _params() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))


def _docs() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def test_readme_quotes_the_guard_defaults() -> None:
    facts = quoted_facts((REPO / "README.md").read_text(encoding="utf-8"))
    for key in ("train_guard.rank", "train_guard.steps", "train_guard.targets", "fuse_guard.combination",
                "pretrain_generator.steps", "evaluate_guard.threshold_percentile",
                "gates.poseguard-fused.block_rate_min"):
        assert key in facts, key


def test_quoted_defaults_match_params_yaml() -> None:
    params = _params()
    for path in _docs():
        assert mismatches(path.read_text(encoding="utf-8"), params) == [], path.name


def test_a_changed_value_is_caught() -> None:
    params = _params()
    text = (REPO / "README.md").read_text(encoding="utf-8")
    rank = params["train_guard"]["rank"]
    changed = text.replace(f"train_guard.rank: {rank}\n", f"train_guard.rank: {rank + 1}\n")
    assert changed != text
    assert mismatches(changed, params) == [f"train_guard.rank: docs say {rank + 1}, params.yaml has {rank}"]
    gate = text.replace('block_rate_min: ">= 0.95"', 'block_rate_min: ">= 0.9"')
    assert any("block_rate_min" in m for m in mismatches(gate, params))
    unknown = text.replace("train_guard.rank:", "train_guard.rank_typo:")
    assert mismatches(unknown, params) == ["train_guard.rank_typo: not in params.yaml"]


def test_unmarked_yaml_blocks_are_not_facts() -> None:
    assert quoted_facts("```yaml\ntrain_guard.rank: 99\n```\n") == {}
    assert quoted_facts(f"```yaml\n{MARKER}\ntrain_guard.rank: 99\n```\n") == {"train_guard.rank": 99}
