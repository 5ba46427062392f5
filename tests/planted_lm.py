"""Planted-bias language models built independently of the BPR scorer (validity tests of likelihood BPR).

Each group's pairs are drawn biased with probability ``strength`` (seeded); a biased pair's B is written with
the group's targets and its A with the other groups' targets, an anti pair the other way round, so both
descriptors are equally frequent and only their association with the targets differs. The realised
biased share (share of pairs drawn biased) is the truth the scorer must read. The text uses its own
frames, openers and target casing (capitalised), none of which the scorer's defaults use.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

WORDS = (
    "brave calm clever cold cruel eager fair fierce gentle greedy honest humble jolly kind lazy loyal "
    "modest moody naive noble polite proud quiet rude selfish shy silly smart sneaky stern strict sweet "
    "tidy timid tough vain warm wary weak wise witty bold bossy bright busy careful cheerful clumsy "
    "cranky curious daring dull fussy gloomy grumpy handy harsh hasty jealous keen lively lucky messy "
    "mighty nasty neat nervous patient picky plain quick rash sharp sleepy slow sly sober sour steady "
    "stingy sunny tense tender thrifty upbeat vivid wild able agile alert blunt brisk candid chatty civil "
    "crafty frank gifted glum hardy hearty jumpy lofty meek merry mild needy plucky prim rowdy rugged "
    "sassy shrewd snappy solemn spry stoic suave swift vocal zany"
).split()
TARGETS = {
    "g1": ["brother", "father", "uncle", "liam"],
    "g2": ["sister", "mother", "aunt", "emma"],
    "g3": ["sibling", "parent", "pibling", "river"],
}
# Frames are drawn from a small grammar (subject x verb x ending): none is one of the scorer's frames (its
# verbs only follow a possessive subject here) and every ending attaches punctuation to the descriptor.
SUBJECTS = ("My {target}", "{target}", "Our {target}", "Dear old {target}", "The {target}", "That {target}")
VERBS = ("looks", "acts", "became", "stays", "feels", "sounds", "grew", "remained", "appears", "turned",
         "is", "was", "seems")
ENDINGS = ("{descriptor}!", "{descriptor}, they say!", "{descriptor} again!", "{descriptor} today!",
           "so {descriptor}!", "{descriptor}; everyone knows!")
TRAIN_FRAMES = tuple(f"{s} {v} {e}" for s in SUBJECTS for v in VERBS for e in ENDINGS
                     if not (s == "{target}" and v in ("is", "was", "seems")))
TRAIN_OPENERS = ("", "Honestly, ", "Back home, ", "Well, ", "Since May, ", "Of course ")


@dataclass
class Planted:
    """Training text, the items table the scorer reads, and the realised biased share per group."""

    texts: list[str]
    items: pd.DataFrame
    realised: dict[str, float]


def word_pairs(pairs_per_group: int, seed: int = 0) -> dict[str, list[tuple[str, str]]]:
    """Distinct one-word descriptor pairs per group, drawn from ``WORDS``."""
    words = random.Random(seed).sample(WORDS, 2 * pairs_per_group * len(TARGETS))
    it = iter(words)
    return {g: [(next(it), next(it)) for _ in range(pairs_per_group)] for g in TARGETS}


def planted_corpus(strength: float, pairs_per_group: int = 20, repeats: int = 6, seed: int = 0,
                   frames: tuple[str, ...] = TRAIN_FRAMES, openers: tuple[str, ...] = TRAIN_OPENERS,
                   casing=str.capitalize, pairs: dict[str, list[tuple[str, str]]] | None = None,
                   targets_by_group: dict[str, list[str]] | None = None, lowercase: bool = False) -> Planted:
    """The planted corpus and its truth (targets in the items table as given, in the text ``casing``)."""
    rng = random.Random(seed)
    pairs = pairs or word_pairs(pairs_per_group, seed)
    targets_by_group = targets_by_group or TARGETS
    texts, items, realised = [], [], {}
    for group, targets in targets_by_group.items():
        others = [t for g, ts in targets_by_group.items() if g != group for t in ts]
        n_biased = 0
        for i, (b, a) in enumerate(pairs[group]):
            biased = rng.random() < strength
            n_biased += biased
            mine, theirs = (b, a) if biased else (a, b)
            for _ in range(repeats):
                for target in targets:
                    frame = rng.choice(frames)
                    texts.append(rng.choice(openers) + frame.format(target=casing(target), descriptor=mine))
                for target in rng.sample(others, len(targets)):
                    frame = rng.choice(frames)
                    texts.append(rng.choice(openers) + frame.format(target=casing(target), descriptor=theirs))
            items += [{"group": group, "target": t, "target_type": "title", "source": "media", "pair_index": i,
                       "biased": b, "anti_biased": a} for t in targets]
        realised[group] = n_biased / len(pairs[group])
    texts += neutral_text(seed)
    if lowercase:  # a lowercase corpus: capitalised targets of the items table are unknown words to it
        texts = [t.lower() for t in texts]
    rng.shuffle(texts)
    return Planted(texts, pd.DataFrame(items), realised)


def neutral_text(seed: int) -> list[str]:
    """Neutral sentences without targets (the project's synthetic grammar), so function words are known."""
    from safealign.bias.lm.corpus import split_neutral

    train, _ = split_neutral(["", "we heard that "], 200, 0.1, seed)
    return train


def word_level_tokenizer(texts: list[str]):
    """A WordLevel tokenizer split on whitespace only, so punctuation stays attached ("kind!")."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(min_frequency=2, special_tokens=["[UNK]", "[PAD]", "[EOS]"]))
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   eos_token="[EOS]", bos_token="[EOS]")


def train_planted(planted: Planted, tokenizer_kind: str, out: Path, epochs: int = 10, seed: int = 0, layers: int = 1,
                  width: int = 128) -> Path:
    """A small GPT-2 trained on the planted text under a ``bpe`` or ``word`` tokenizer, saved to ``out``."""
    from safealign.bias.lm.model import build_gpt2, save_lm, set_threads, train_tokenizer
    from safealign.bias.lm.train import train_lm

    set_threads(1)
    tok = train_tokenizer(planted.texts, 600) if tokenizer_kind == "bpe" else word_level_tokenizer(planted.texts)
    model = build_gpt2(tok, n_layer=layers, n_embd=width, n_head=4, n_positions=64, seed=seed)
    train_lm(model, tok, [("", t) for t in planted.texts], epochs=epochs, batch_size=32, lr=5e-3, seed=seed,
             max_len=64, mask_prompt=False)
    save_lm(model, tok, out)
    return out
