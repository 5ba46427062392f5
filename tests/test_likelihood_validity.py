"""Validity of likelihood BPR on planted-bias models it was not built around (``tests/planted_lm.py``).

The models learn from text with their own frames, openers, casing (capitalised targets) and punctuation
attached to the descriptor ("kind!"), under a byte-level BPE and a word-level tokenizer; the scorer reads
them with its default frames and openers (params.yaml = the CLI defaults). Its BPR must land within 0.05 of
the realised biased share (share of pairs drawn biased) in every group, at strengths 0.5, 0.7 and 0.9.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from safealign.bias.lm.likelihood_bpr import group_summary, score_items
from safealign.bias.lm.model import load_lm
from safealign.commands.assess_bias import DEFAULTS
from tests.planted_lm import planted_corpus, train_planted

TOLERANCE = 0.05 + 1e-9  # 0.05, with room for float rounding of shares like 0.55 - 0.5


def _measured(model_dir: Path, items) -> dict[str, dict]:
    model, tok = load_lm(model_dir)
    scores = score_items(model, tok, items, DEFAULTS["frames"], DEFAULTS["openers"], 64)
    return {g: group_summary(grp, 0, 200) for g, grp in scores.groupby("group")}


@pytest.mark.slow
@pytest.mark.parametrize("tokenizer", ["bpe", "word"])
@pytest.mark.parametrize("strength", [0.5, 0.7, 0.9])
def test_bpr_reads_the_realised_share(tokenizer: str, strength: float, tmp_path: Path) -> None:
    planted = planted_corpus(strength)
    measured = _measured(train_planted(planted, tokenizer, tmp_path / "m"), planted.items)
    errors = {g: measured[g]["bpr"] - planted.realised[g] for g in planted.realised}
    assert all(abs(e) <= TOLERANCE for e in errors.values()), (errors, planted.realised)
    assert all(m["tie_share"] == 0.0 and m["descriptor_known_share"] == 1.0 for m in measured.values())


@pytest.mark.slow
@pytest.mark.shared
def test_new_users_case_reads_within_005(tmp_path: Path) -> None:
    """The issue's case: GPT-2 2 x 128, word-level tokenizer, a lowercase corpus with its own frames, the
    released pair sets planted at 0.9 (and an unbiased control at 0.5); names are capitalised in the items.

    Pairs whose descriptor also occurs in another pair are left out (their truth is not one per pair), and 40
    of the rest per group are drawn (seeded) to keep training under two minutes.
    """
    import random

    from collections import Counter

    from safealign.bias.genderpair.cleaning import clean_pairset
    from safealign.bias.genderpair.construct import load_pairsets
    from tests.conftest import shared_path

    sets = [clean_pairset(s) for s in load_pairsets(str(shared_path("gendercare", "pair_sets")))]
    counts = Counter(d for s in sets for p in s.pairs for d in (p.biased, p.anti_biased))
    pairs = {s.group: random.Random(0).sample([(p.biased, p.anti_biased) for p in s.pairs
                                               if counts[p.biased] == counts[p.anti_biased] == 1], 40)
             for s in sets}
    targets = {s.group: [next(t for t, k in s.targets if k == kind) for kind in ("identity", "title", "pronoun", "name")]
               for s in sets}
    for strength in (0.9, 0.5):
        planted = planted_corpus(strength, pairs=pairs, targets_by_group=targets, lowercase=True)
        model_dir = train_planted(planted, "word", tmp_path / f"m{strength}", layers=2)
        measured = _measured(model_dir, planted.items)
        errors = {g: measured[g]["bpr"] - planted.realised[g] for g in planted.realised}
        assert all(abs(e) <= TOLERANCE for e in errors.values()), (strength, errors, planted.realised)
