"""Utility checks on text no debiasing trains on: the builtin corpus's held-out sentences (perplexity, cloze)
for the builtin model; Lee news text (perplexity) and the Google analogy test set for any real LM; and the
collapse check (one token taking most of the next-token mass)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Sequence

from safealign.bias.lm.corpus import ClozeItem
from safealign.bias.lm.likelihood import continuation_logprobs, perplexity
from safealign.errors import InputError


def cloze_accuracy(model, tok, items: Sequence[ClozeItem], batch_size: int = 64, suffix: str = ".") -> float:
    """Share of items whose answer has the highest log-likelihood among its choices (answer word + ``suffix``)."""
    queries = [(item.context, f" {choice}{suffix}") for item in items for choice in item.choices]
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
        "top_token_share": top_token_share(model, tok, heldout_texts[:64]),
        "cloze_items": len(cloze),
        "heldout_sentences": len(heldout_texts),
    }


def relative_change_pct(before: float, after: float, higher_is_better: bool) -> float:
    """Signed utility change in percent, negative = worse (perplexity: a rise is a loss)."""
    if before == 0:
        return 0.0
    change = 100.0 * (after - before) / abs(before)
    return change if higher_is_better else -change


# --- real-text utility for any LM: held-out news text and the Google analogy test set --------------------

GENSIM_DATA = "test/test_data"  # inside the gensim wheel (installed --no-deps; only these files are read)
ANALOGY_EXCLUDED = ("family",)  # gendered section (king : queen): a debiasing target, not neutral utility


def gensim_data(name: str) -> Path:
    """A file of gensim's packaged test data, located without importing gensim."""
    import importlib.util

    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("gensim is not installed (requirements-nodeps.txt): no offline utility data")
    path = Path(list(spec.submodule_search_locations)[0]) / GENSIM_DATA / name
    if not path.is_file():
        raise InputError(f"{path}: gensim test data file missing")
    return path


def heldout_news(n_docs: int) -> list[str]:
    """The first ``n_docs`` documents of the Lee news corpus (lee.cor): real English nothing here trains on."""
    docs = [d.strip() for d in gensim_data("lee.cor").read_text(encoding="utf-8", errors="replace").splitlines()]
    return [d for d in docs if d][:n_docs]


def truncate_tokens(tok, texts: Sequence[str], max_tokens: int) -> list[str]:
    """Each text cut to its first ``max_tokens`` tokens (decoded back to text)."""
    return [tok.decode(tok(t, add_special_tokens=False)["input_ids"][:max_tokens]) for t in texts]


def analogy_items(n_items: int, n_choices: int, seed: int) -> list[ClozeItem]:
    """A seeded sample of Google analogy questions (no 'family' section), distractors from the same section."""
    sections: dict[str, list[list[str]]] = {}
    current = ""
    for line in gensim_data("questions-words.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            current = line[1:].strip()
        elif line.strip() and current not in ANALOGY_EXCLUDED:
            sections.setdefault(current, []).append(line.split())
    rng = random.Random(seed)
    pool = [(name, q) for name, qs in sorted(sections.items()) for q in qs]
    items = []
    for name, (a, b, c, d) in rng.sample(pool, min(n_items, len(pool))):
        others = sorted({q[3] for q in sections[name]} - {d, a, b, c})
        choices = [d, *rng.sample(others, min(n_choices - 1, len(others)))]
        rng.shuffle(choices)
        items.append(ClozeItem(f"{a} is to {b} as {c} is to", d, tuple(choices)))
    return items


def top_token_share(model, tok, texts: Sequence[str], batch_size: int = 16) -> float:
    """The largest share of next-token probability mass one token takes, averaged over text positions."""
    import torch

    from safealign.bias.lm.model import start_ids

    mass = None
    n = 0
    with torch.no_grad():
        for lo in range(0, len(texts), batch_size):
            for text in texts[lo : lo + batch_size]:
                ids = start_ids(tok) + tok(text, add_special_tokens=False)["input_ids"]
                probs = torch.softmax(model(input_ids=torch.tensor([ids])).logits[0].float(), dim=-1)
                mass = probs.sum(0) if mass is None else mass + probs.sum(0)
                n += probs.shape[0]
    return float(mass.max() / n) if n else 0.0


def real_utility(model, tok, news: Sequence[str], analogies: Sequence[ClozeItem], batch_size: int) -> dict:
    """Held-out news perplexity, analogy accuracy and the top-token share (collapse check)."""
    return {
        "heldout_ppl": perplexity(model, tok, news, batch_size),
        "analogy_accuracy": cloze_accuracy(model, tok, analogies, batch_size, suffix=""),
        "top_token_share": top_token_share(model, tok, news),
        "analogy_items": len(analogies),
        "heldout_docs": len(news),
    }
