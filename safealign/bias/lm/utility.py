"""Utility checks on held-out neutral text (never trained on): perplexity and multiple-choice cloze accuracy."""

from __future__ import annotations

from typing import Sequence

from safealign.bias.lm.corpus import ClozeItem
from safealign.bias.lm.likelihood import continuation_logprobs, perplexity


def cloze_accuracy(model, tok, items: Sequence[ClozeItem], batch_size: int = 64) -> float:
    """Share of items whose answer has the highest log-likelihood among its choices (answer word + '.')."""
    queries = [(item.context, f" {choice}.") for item in items for choice in item.choices]
    scores = continuation_logprobs(model, tok, queries, batch_size)
    correct, k = 0, 0
    for item in items:
        lls = [scores[k + j][0] for j in range(len(item.choices))]
        k += len(item.choices)
        correct += item.choices[max(range(len(lls)), key=lls.__getitem__)] == item.answer
    return correct / max(len(items), 1)


def utility(
    model, tok, heldout_texts: Sequence[str], cloze: Sequence[ClozeItem], batch_size: int = 64
) -> dict:
    """Held-out perplexity (lower is better) and cloze accuracy (higher is better)."""
    return {
        "heldout_ppl": perplexity(model, tok, heldout_texts, batch_size),
        "cloze_accuracy": cloze_accuracy(model, tok, cloze, batch_size),
        "cloze_items": len(cloze),
        "heldout_sentences": len(heldout_texts),
    }


def relative_change_pct(before: float, after: float, higher_is_better: bool) -> float:
    """Signed utility change in percent, negative = worse (perplexity: a rise is a loss)."""
    if before == 0:
        return 0.0
    change = 100.0 * (after - before) / abs(before)
    return change if higher_is_better else -change
