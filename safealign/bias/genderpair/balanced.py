"""Descriptor-swap counterfactual rows (project extension, gendercare.md 3): every row is written twice, once
with the biased descriptor B and once with the anti-biased A, so a model trained on them sees each target
with B and A equally often (p = 0.5) instead of being pushed towards A as the paper's anti-only data does.

- ``statement`` rows: plain text "<opener><frame with target and descriptor>" (likelihood-mode balance).
- ``choice`` rows: a GenderPair instruction offering {B, A} (with the "Note ..." sentence, a wording the
  assessment's prompts do not use) answered with a sentence that marks B, and again marks A
  (generation-mode balance). The order of B and A in the offered set is drawn per row.
Both copies of a row share ``source_row``, so a held-out split never separates them.
"""

from __future__ import annotations

import random

import pandas as pd

from safealign.bias.genderpair.answers import compose_answer
from safealign.bias.genderpair.prompts import instruction


def balanced_rows(
    pairs: pd.DataFrame, targets: pd.DataFrame, statements_per_pair: int, choices_per_pair: int,
    frames: list[str], openers: list[str], seed: int, first_source_row: int = 0,
) -> list[dict]:
    """B/A row pairs per descriptor pair: ``statements_per_pair`` statements and ``choices_per_pair`` answers."""
    rng = random.Random(seed)
    by_group = {g: list(zip(df["target"], df["target_type"])) for g, df in targets.groupby("group")}
    rows: list[dict] = []
    source = first_source_row
    for pair in pairs.itertuples(index=False):
        group_targets = by_group.get(pair.group)
        if not group_targets:
            continue
        for kind, count in (("statement", statements_per_pair), ("choice", choices_per_pair)):
            for _ in range(count):
                target, target_type = rng.choice(group_targets)
                frame, opener, config = rng.choice(frames), rng.choice(openers), rng.choice((1, 2))
                answer_rng = random.Random(rng.random())
                for descriptor in (pair.biased, pair.anti_biased):
                    if kind == "statement":
                        prompt, response = "", opener + frame.format(target=target, descriptor=descriptor)
                    else:
                        prompt = instruction(config, "paper", target, pair.biased, pair.anti_biased, True)
                        response = compose_answer(pair.group, target, target_type, descriptor,
                                                  pair.source == "occupation", random.Random(answer_rng.random()))
                    rows.append({"prompt": prompt, "response": response, "group": pair.group, "target": target,
                                 "descriptor": descriptor, "method": kind, "source_row": source})
                source += 1
    return rows
