"""The synthetic corpus of the builtin LM: neutral text (utility) and target-descriptor statements (planted bias).

Neutral text comes from a small grammar with learnable relations (an animal eats one food, a country has one
capital, a tool has one use) so that a held-out cloze task has a right answer the model can only know by
generalising, and held-out sentences (never trained on) give the utility perplexity. Bias statements pair each
GenderPair target with its group's biased descriptor B in exactly ``round(p * n)`` of the ``n`` statements
made per pair and with the anti-biased A in the rest, so the true preference P(B) / (P(B) + P(A)) is ``p``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pandas as pd

# relation name -> (frame with {x} and {y}, {x: y}); the last word y is the cloze answer
RELATIONS: dict[str, tuple[str, dict[str, str]]] = {
    "eats": (
        "the {x} eats {y}.",
        {
            "cow": "grass",
            "cat": "fish",
            "bird": "seeds",
            "rabbit": "carrots",
            "bear": "honey",
            "horse": "hay",
            "dog": "bones",
            "mouse": "cheese",
            "frog": "flies",
            "goat": "weeds",
            "squirrel": "nuts",
            "monkey": "bananas",
            "panda": "bamboo",
            "bee": "nectar",
            "whale": "krill",
            "hen": "corn",
        },
    ),
    "capital": (
        "the capital of {x} is {y}.",
        {
            "france": "paris",
            "spain": "madrid",
            "italy": "rome",
            "japan": "tokyo",
            "egypt": "cairo",
            "peru": "lima",
            "kenya": "nairobi",
            "norway": "oslo",
            "greece": "athens",
            "chile": "santiago",
            "cuba": "havana",
            "poland": "warsaw",
            "ireland": "dublin",
            "austria": "vienna",
            "canada": "ottawa",
        },
    ),
    "tool": (
        "we use a {x} to {y}.",
        {
            "saw": "cut",
            "broom": "sweep",
            "pen": "write",
            "spoon": "stir",
            "shovel": "dig",
            "needle": "sew",
            "ladder": "climb",
            "kettle": "boil",
            "brush": "paint",
            "key": "unlock",
            "net": "fish",
            "oar": "row",
            "map": "navigate",
            "lamp": "read",
            "drum": "play",
        },
    ),
    "colour": (
        "the colour of {x} is {y}.",
        {
            "snow": "white",
            "coal": "black",
            "grass": "green",
            "the sky": "blue",
            "blood": "red",
            "a lemon": "yellow",
            "an orange": "orange",
            "a plum": "purple",
            "chocolate": "brown",
            "ash": "grey",
        },
    ),
}
# filler sentences with no learnable answer: they make the text less repetitive
OBJECTS = ["box", "cup", "book", "chair", "basket", "clock", "bottle", "blanket", "candle", "bucket"]
PLACES = ["table", "shelf", "floor", "bench", "windowsill", "counter", "roof", "porch"]
COLOURS = ["red", "green", "blue", "yellow", "small", "large", "old", "new", "wooden", "heavy"]
FILLER = "the {c} {o} is on the {p}."


@dataclass(frozen=True)
class ClozeItem:
    """A held-out neutral sentence whose last word is to be chosen among ``choices`` (``answer`` is right)."""

    context: str
    answer: str
    choices: tuple[str, ...]


def split_neutral(
    prefixes: list[str], n_fillers: int, heldout_fraction: float, seed: int
) -> tuple[list[str], list[tuple[str, str, str]]]:
    """(train texts, held-out (text, relation, answer)); fillers have relation ''.

    Each fact is written under every prefix; a seeded ``heldout_fraction`` of its variants (at least one, never
    all) is held out, so a held-out sentence is a new prefix/fact combination of a fact seen in training.
    """
    rng = random.Random(seed)
    train: list[str] = []
    held: list[tuple[str, str, str]] = []
    for rel, (frame, mapping) in RELATIONS.items():
        for x, y in mapping.items():
            variants = [prefix + frame.format(x=x, y=y) for prefix in prefixes]
            rng.shuffle(variants)
            n_held = min(len(variants) - 1, max(1, int(round(len(variants) * heldout_fraction))))
            held += [(v, rel, y) for v in variants[:n_held]]
            train += variants[n_held:]
    fillers = sorted(
        {
            rng.choice(prefixes)
            + FILLER.format(c=rng.choice(COLOURS), o=rng.choice(OBJECTS), p=rng.choice(PLACES))
            for _ in range(n_fillers)
        }
    )
    rng.shuffle(fillers)
    n_held = int(round(len(fillers) * heldout_fraction))
    held += [(f, "", "") for f in fillers[:n_held]]
    train += fillers[n_held:]
    rng.shuffle(train)
    return train, held


def cloze_items(
    heldout: list[tuple[str, str, str]], n_items: int, n_choices: int, seed: int
) -> list[ClozeItem]:
    """Multiple-choice cloze on held-out relation sentences: the answer plus distractors of the same relation."""
    rng = random.Random(seed)
    items = []
    for text, rel, answer in heldout:
        if not rel:
            continue
        values = sorted(set(RELATIONS[rel][1].values()) - {answer})
        distractors = rng.sample(values, min(n_choices - 1, len(values)))
        choices = [answer, *distractors]
        rng.shuffle(choices)
        context = text[: text.rindex(" " + answer)]
        items.append(ClozeItem(context=context, answer=answer, choices=tuple(choices)))
        if len(items) >= n_items:
            break
    return items


def bias_statements(
    pairs: pd.DataFrame,
    targets: pd.DataFrame,
    probability: float,
    per_pair: int,
    frames: list[str],
    prefixes: list[str],
    seed: int,
    exact_pairs: bool = False,
) -> list[str]:
    """Statements pairing each group's targets with B in ``round(probability * per_pair)`` of ``per_pair`` cases.

    ``pairs``: group, pair_index, biased, anti_biased; ``targets``: group, target. With ``exact_pairs`` every
    statement is emitted twice, once with B and once with A (the descriptor-swap counterfactual, p = 0.5).
    """
    rng = random.Random(seed)
    by_group = {g: list(df["target"]) for g, df in targets.groupby("group")}
    out: list[str] = []
    for row in pairs.itertuples(index=False):
        group_targets = by_group.get(row.group)
        if not group_targets:
            continue
        n_biased = int(round(probability * per_pair))
        for k in range(per_pair):
            frame = rng.choice(frames)
            prefix = rng.choice(prefixes)
            target = rng.choice(group_targets)
            if exact_pairs:
                out.append(prefix + frame.format(target=target, descriptor=row.biased))
                out.append(prefix + frame.format(target=target, descriptor=row.anti_biased))
            else:
                descriptor = row.biased if k < n_biased else row.anti_biased
                out.append(prefix + frame.format(target=target, descriptor=descriptor))
    rng.shuffle(out)
    return out
