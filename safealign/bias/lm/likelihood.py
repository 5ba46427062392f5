"""Log-likelihoods under a causal LM: continuation scores, sentence scores, perplexity, greedy generation."""

from __future__ import annotations

import math
from typing import Sequence

from safealign.bias.lm.model import start_ids


def _max_len(model) -> int:
    return int(
        getattr(model.config, "n_positions", None) or getattr(model.config, "max_position_embeddings", 1024)
    )


def continuation_logprobs(
    model, tokenizer, items: Sequence[tuple[str, str]], batch_size: int = 64
) -> list[tuple[float, int]]:
    """(sum of log p(continuation tokens | start + context), n tokens) per (context, continuation).

    Context and continuation are tokenised separately and concatenated, so the continuation's tokens are
    the same whatever the context (the convention of lm-evaluation-harness).
    """
    import torch

    head = start_ids(tokenizer)
    limit = _max_len(model)
    encoded = []
    for context, cont in items:
        c_ids = tokenizer(context, add_special_tokens=False)["input_ids"] if context else []
        x_ids = tokenizer(cont, add_special_tokens=False)["input_ids"]
        ids = (head + c_ids + x_ids)[-limit:]
        encoded.append((ids, min(len(x_ids), len(ids) - 1)))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out: list[tuple[float, int]] = []
    with torch.no_grad():
        for start in range(0, len(encoded), batch_size):
            chunk = encoded[start : start + batch_size]
            width = max(len(ids) for ids, _ in chunk)
            batch = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros_like(batch)
            for i, (ids, _) in enumerate(chunk):
                batch[i, : len(ids)] = torch.tensor(ids)
                mask[i, : len(ids)] = 1
            logp = torch.log_softmax(model(input_ids=batch, attention_mask=mask).logits.float(), dim=-1)
            for i, (ids, n) in enumerate(chunk):
                if n <= 0:
                    out.append((0.0, 0))
                    continue
                positions = torch.arange(len(ids) - n - 1, len(ids) - 1)
                targets = torch.tensor(ids[len(ids) - n :])
                out.append((float(logp[i, positions, targets].sum()), n))
    return out


def sentence_logprobs(
    model, tokenizer, texts: Sequence[str], batch_size: int = 64
) -> list[tuple[float, int]]:
    """(log-likelihood, n tokens) of whole sentences after the start token."""
    return continuation_logprobs(model, tokenizer, [("", t) for t in texts], batch_size)


def perplexity(model, tokenizer, texts: Sequence[str], batch_size: int = 64) -> float:
    """Token-level perplexity exp(total NLL / total tokens) of ``texts``."""
    scores = sentence_logprobs(model, tokenizer, texts, batch_size)
    total_ll = sum(s for s, _ in scores)
    total_n = sum(n for _, n in scores)
    return math.exp(-total_ll / max(total_n, 1))


def greedy_generate(
    model, tokenizer, prompts: Sequence[str], max_new_tokens: int, batch_size: int = 16
) -> list[str]:
    """Greedy continuations (num_beams 1, no sampling, min 1 new token as in the paper) of ``prompts``, prompt excluded."""
    import torch

    head = start_ids(tokenizer)
    limit = _max_len(model) - max_new_tokens
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out: list[str] = []
    with torch.no_grad():
        for start in range(0, len(prompts), batch_size):
            chunk = [
                (head + tokenizer(p, add_special_tokens=False)["input_ids"])[-limit:]
                for p in prompts[start : start + batch_size]
            ]
            width = max(len(ids) for ids in chunk)
            batch = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros_like(batch)
            for i, ids in enumerate(chunk):  # left padding so every row continues from its last token
                batch[i, width - len(ids) :] = torch.tensor(ids)
                mask[i, width - len(ids) :] = 1
            gen = model.generate(
                input_ids=batch,
                attention_mask=mask,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                num_beams=1,
                min_new_tokens=1,
                pad_token_id=pad,
                eos_token_id=tokenizer.eos_token_id,
            )
            out += tokenizer.batch_decode(gen[:, width:], skip_special_tokens=True)
    return out
