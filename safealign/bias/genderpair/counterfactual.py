"""Debiasing data (spec §3): paper-style anti-descriptor rows, the released validation file, three-way swaps.

Rows are ``{"prompt", "response", "group", "target", "descriptor", "method", "source_row"}``; ``source_row``
ties counterfactual copies to their original so the held-out split never separates them.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from safealign.bias.genderpair.answers import compose_answer
from safealign.bias.genderpair.lexicon import source_lexicon
from safealign.bias.genderpair.pairsets import read_json_list
from safealign.bias.genderpair.swap import SwapChoice, swap_text
from safealign.bias.genderpair.targets import GROUPS
from safealign.errors import InputError

DEBIAS_TEMPLATE = (
    "Please generate a cohesive text by incorporating the word {{{target}}} and a word drawn from the "
    "attribute set, which consists of the following: {{{descriptor}}}. Note that you can only select "
    "one element from the attribute set. You should mark the selected element with {{}} in the "
    "generated text."
)
_TARGET = re.compile(r"incorporating the word \{([^{}]*)\}")
_DESCRIPTOR = re.compile(r"consists of the following: \{([^{}]*)\}")
OUTPUT_KEYS = ("prompt", "response", "group", "target", "descriptor", "method")


def anti_template_rows(pairs: pd.DataFrame, targets: pd.DataFrame, per_target: int, seed: int) -> list[dict]:
    """The paper's method: every target with ``per_target`` seeded anti-biased descriptors of its group."""
    rng = random.Random(seed)
    rows = []
    for t in targets.itertuples(index=False):
        group_pairs = pairs[pairs["group"] == t.group]
        anti = list(dict.fromkeys(zip(group_pairs["anti_biased"], group_pairs["source"])))
        for descriptor, source in rng.sample(anti, min(per_target, len(anti))):
            rows.append(
                {
                    "prompt": DEBIAS_TEMPLATE.format(target=t.target, descriptor=descriptor),
                    "response": compose_answer(
                        t.group, t.target, t.target_type, descriptor, source == "occupation", rng
                    ),
                    "group": t.group,
                    "target": t.target,
                    "descriptor": descriptor,
                    "method": "anti_template",
                }
            )
    return rows


def read_validation_file(path: Path) -> list[dict]:
    """Rows of the released ``merged_3groups_ft_validate.json``; the group is inferred from the target."""
    raw = read_json_list(path, "{prompt, sentence} rows")
    rows = []
    for i, row in enumerate(raw):
        if not isinstance(row, dict) or "prompt" not in row or "sentence" not in row:
            raise InputError(f"{path}: row {i}: expected fields 'prompt' and 'sentence'")
        target, descriptor = _TARGET.search(row["prompt"]), _DESCRIPTOR.search(row["prompt"])
        if target is None or descriptor is None:
            raise InputError(
                f"{path}: row {i}, field 'prompt': no '{{target}}' or '{{descriptor}}' in the template"
            )
        rows.append(
            {
                "prompt": row["prompt"],
                "response": row["sentence"],
                "target": target.group(1),
                "descriptor": descriptor.group(1),
                "method": "validation_file",
                "group": infer_group(target.group(1), row["sentence"]),
            }
        )
    return rows


def infer_group(target: str, sentence: str = "") -> str:
    """The group whose lexicon holds ``target`` ('' when none); shared names go by the sentence's pronouns."""
    key = target.strip()
    groups = [g for g in GROUPS if key in source_lexicon(g) or key.lower() in source_lexicon(g)]
    if len(groups) <= 1:
        return groups[0] if groups else ""
    words = Counter(w.lower() for w in re.findall(r"[A-Za-z]+", sentence))
    votes = {g: sum(words[k] for k, e in source_lexicon(g).items() if e.kind == "pronoun") for g in groups}
    return max(groups, key=lambda g: votes[g])


def counterfactual_rows(rows: list[dict], seed: int) -> tuple[list[dict], dict]:
    """Originals plus both swapped copies of every row with a known group; per-group in/out/dropped report."""
    out, report = [], {g: Counter() for g in GROUPS + ("unknown",)}
    for k, row in enumerate(rows):
        row = {**row, "source_row": k}
        out.append(row)
        src = row["group"]
        if src not in GROUPS:
            report["unknown"]["not_augmented"] += 1
            continue
        report[src]["in"] += 1
        choice = SwapChoice.draw(random.Random(f"{seed}:{k}"))
        for dst in GROUPS:
            if dst == src:
                continue
            swapped = swap_row(row, dst, choice)
            if swapped is None:
                report[src]["dropped"] += 1
            else:
                out.append(swapped)
                report[dst]["out"] += 1
    return out, {g: dict(c) for g, c in report.items()}


def swap_row(row: dict, dst: str, choice: SwapChoice) -> dict | None:
    """One counterfactual copy of ``row`` in group ``dst``; None when a swap could not be resolved."""
    protect = (row["descriptor"],)
    parts = [
        swap_text(row[key], row["group"], dst, choice, protect) for key in ("prompt", "response", "target")
    ]
    if any(p.unresolved for p in parts):
        return None
    prompt, response, target = (p.text for p in parts)
    return {**row, "prompt": prompt, "response": response, "target": target, "group": dst, "method": "swap"}


def split_rows(rows: list[dict], fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Seeded held-out split by source row (a row and its counterfactual copies stay on one side)."""
    sources = sorted({r["source_row"] for r in rows})
    held = (
        set(random.Random(seed).sample(sources, max(1, round(fraction * len(sources))))) if sources else set()
    )
    train = [r for r in rows if r["source_row"] not in held]
    return train, [r for r in rows if r["source_row"] in held]


def count_rows(rows: list[dict]) -> dict[str, dict[str, int]]:
    """Rows per group and method."""
    counts: dict[str, Counter] = {}
    for r in rows:
        counts.setdefault(r["group"] or "unknown", Counter())[r["method"]] += 1
    return {g: dict(c) for g, c in sorted(counts.items())}
