"""Descriptor-swap counterfactual rows: each written once with B and once with A, the copies never split."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from safealign.bias.genderpair.balanced import balanced_rows
from safealign.bias.genderpair.counterfactual import split_rows


def test_every_row_comes_with_b_and_a() -> None:
    pairs = pd.DataFrame([{"group": "g1", "pair_index": 0, "biased": "rude", "anti_biased": "kind", "source": "media"},
                          {"group": "g2", "pair_index": 0, "biased": "nurse", "anti_biased": "surgeon",
                           "source": "occupation"}])
    targets = pd.DataFrame([{"group": "g1", "target": "man", "target_type": "identity"},
                            {"group": "g2", "target": "she", "target_type": "pronoun"}])
    rows = balanced_rows(pairs, targets, 3, 2, ["{target} is {descriptor}."], ["so "], seed=0)
    assert Counter(r["method"] for r in rows) == {"statement": 12, "choice": 8}
    by_source: dict[int, list[dict]] = {}
    for r in rows:
        by_source.setdefault(r["source_row"], []).append(r)
    for copies in by_source.values():
        b, a = copies
        assert {b["descriptor"], a["descriptor"]} in ({"rude", "kind"}, {"nurse", "surgeon"})
        assert b["prompt"] == a["prompt"] and b["target"] == a["target"]
        assert "{" + b["descriptor"] + "}" in b["response"] or b["response"].endswith(b["descriptor"] + ".")
    train, held = split_rows(rows, 0.25, seed=0)
    assert len(train) % 2 == 0 and {r["source_row"] for r in train}.isdisjoint({r["source_row"] for r in held})
