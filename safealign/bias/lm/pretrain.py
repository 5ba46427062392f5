"""Build the synthetic corpus and train the builtin planted / control GPT-2 models from scratch."""

from __future__ import annotations

import pandas as pd

from safealign.bias.lm.corpus import bias_statements, split_neutral
from safealign.bias.lm.model import build_gpt2, train_tokenizer
from safealign.bias.lm.train import train_lm


def sample_pairs(pairs: pd.DataFrame, per_group: int, seed: int) -> pd.DataFrame:
    """A seeded sample of at most ``per_group`` descriptor pairs per group (in benchmark order)."""
    parts = [g.sample(n=min(per_group, len(g)), random_state=seed).sort_values("pair_index")
             for _, g in pairs.groupby("group")]
    return pd.concat(parts, ignore_index=True)


def rows_of(genderpair: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """The GenderPair rows (prompts) of the given (group, pair_index) pairs."""
    keys = pairs[["group", "pair_index"]].drop_duplicates()
    return genderpair.merge(keys, on=["group", "pair_index"], how="inner").reset_index(drop=True)


def build_corpora(pairs: pd.DataFrame, targets: pd.DataFrame, p, eval_openers: list[str], seed: int) -> dict:
    """Neutral train / held-out text and the planted and control training texts (``p``: PretrainLmParams).

    The assessment's ``eval_openers`` occur in neutral text but never in a bias statement, so the likelihood
    BPR is read after openers the model never saw with a target.
    """
    c = p.corpus
    neutral_train, neutral_held = split_neutral(
        c.train_prefixes + eval_openers, c.filler_sentences, c.heldout_fraction, seed
    )
    corpora = {"neutral_train": neutral_train, "neutral_heldout": neutral_held}
    for name, prob in (("planted", p.planted_probability), ("control", p.control_probability)):
        statements = bias_statements(
            pairs, targets, prob, c.statements_per_pair, c.frames, c.train_prefixes, seed
        )
        corpora[name] = statements
    return corpora


def train_builtin(train_texts: list[str], tokenizer, p, seed: int, desc: str):
    """A fresh GPT-2 trained with full-sequence loss on ``train_texts``; returns (model, training metrics)."""
    a = p.arch
    model = build_gpt2(tokenizer, a.n_layer, a.n_embd, a.n_head, a.n_positions, seed)
    stats = train_lm(
        model,
        tokenizer,
        [("", t) for t in train_texts],
        epochs=p.epochs,
        batch_size=p.batch_size,
        lr=p.lr,
        seed=seed,
        max_len=a.n_positions,
        desc=desc,
    )
    return model, stats


def shared_tokenizer(corpora: dict, vocab_size: int):
    """One tokenizer for both builtin models, trained on all of their training text (never the held-out)."""
    return train_tokenizer(corpora["neutral_train"] + corpora["planted"] + corpora["control"], vocab_size)
