"""Log-likelihoods under a causal LM: continuation scores, sentence scores, perplexity, greedy generation."""

from __future__ import annotations

import math
from typing import Sequence

from safealign.bias.lm.model import start_ids


def max_positions(model) -> int:
    """The longest sequence the model accepts (GPT-2 ``n_positions``, Llama ``max_position_embeddings``)."""
    return int(
        getattr(model.config, "n_positions", None) or getattr(model.config, "max_position_embeddings", 1024)
    )


def span_logprobs(
    model, sequences: Sequence[tuple[tuple[int, ...], int]], batch_size: int = 64, desc: str = ""
) -> list[float]:
    """Sum of log p(ids[j] | ids[:j]) for j >= start, per (ids, start); equal sequences are scored once.

    Sequences are sorted by length before batching so padding stays small; ``desc`` shows a progress bar.
    """
    import torch
    from tqdm import tqdm

    unique = list(dict.fromkeys(sequences))
    order = sorted(range(len(unique)), key=lambda i: len(unique[i][0]))
    scores: dict[tuple[tuple[int, ...], int], float] = {}
    with torch.no_grad():
        for lo in tqdm(range(0, len(order), batch_size), desc=desc or "score", disable=not desc, leave=False,
                       mininterval=2.0):
            chunk = [unique[i] for i in order[lo : lo + batch_size]]
            width = max(len(ids) for ids, _ in chunk)
            batch = torch.zeros((len(chunk), width), dtype=torch.long)
            mask = torch.zeros_like(batch)
            for i, (ids, _) in enumerate(chunk):
                batch[i, : len(ids)] = torch.tensor(ids)
                mask[i, : len(ids)] = 1
            logp = torch.log_softmax(model(input_ids=batch, attention_mask=mask).logits.float(), dim=-1)
            for i, (ids, start) in enumerate(chunk):
                positions = torch.arange(max(start, 1) - 1, len(ids) - 1)
                targets = torch.tensor(ids[max(start, 1) :])
                scores[(ids, start)] = float(logp[i, positions, targets].sum())
    return [scores[s] for s in sequences]


def continuation_logprobs(
    model, tokenizer, items: Sequence[tuple[str, str]], batch_size: int = 64
) -> list[tuple[float, int]]:
    """(sum of log p(continuation tokens | start + context), n tokens) per (context, continuation).

    Context and continuation are tokenised separately and concatenated, so the continuation's tokens are
    the same whatever the context (the convention of lm-evaluation-harness).
    """
    head = start_ids(tokenizer)
    limit = max_positions(model)
    encoded = []
    for context, cont in items:
        c_ids = tokenizer(context, add_special_tokens=False)["input_ids"] if context else []
        x_ids = tokenizer(cont, add_special_tokens=False)["input_ids"]
        ids = tuple((head + c_ids + x_ids)[-limit:])
        encoded.append((ids, len(ids) - min(len(x_ids), len(ids) - 1)))
    scores = span_logprobs(model, [e for e in encoded if e[1] < len(e[0])], batch_size)
    it = iter(scores)
    return [(next(it), len(ids) - start) if start < len(ids) else (0.0, 0) for ids, start in encoded]


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


def prompt_ids(tokenizer, prompt: str, chat: bool) -> list[int]:
    """Token ids of one prompt: the tokenizer's chat template (one user turn) when ``chat``, else start + text."""
    if chat:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
        )
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])
    return start_ids(tokenizer) + list(tokenizer(prompt, add_special_tokens=False)["input_ids"])


def has_chat_template(tokenizer) -> bool:
    """Whether the tokenizer ships a chat template (instruction-tuned models)."""
    return bool(getattr(tokenizer, "chat_template", None))


def greedy_generate(
    model,
    tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int,
    batch_size: int = 16,
    chat: bool = False,
    desc: str = "",
) -> list[str]:
    """Greedy continuations (num_beams 1, no sampling, min 1 new token as in the paper), prompt excluded.

    ``chat`` wraps each prompt in the tokenizer's chat template. ``max_new_tokens`` is capped at the model's
    context length minus one, and prompts are cut from the left to leave room for the new tokens.
    """
    import torch
    from tqdm import tqdm

    new_tokens = max(1, min(max_new_tokens, max_positions(model) - 1))
    keep = max_positions(model) - new_tokens
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out: list[str] = []
    with torch.no_grad():
        for start in tqdm(range(0, len(prompts), batch_size), desc=desc or "generate", disable=not desc,
                          leave=False, mininterval=2.0):
            chunk = [prompt_ids(tokenizer, p, chat)[-keep:] for p in prompts[start : start + batch_size]]
            width = max(len(ids) for ids in chunk)
            batch = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros_like(batch)
            for i, ids in enumerate(chunk):  # left padding so every row continues from its last token
                batch[i, width - len(ids) :] = torch.tensor(ids)
                mask[i, width - len(ids) :] = 1
            gen = model.generate(
                input_ids=batch,
                attention_mask=mask,
                max_new_tokens=new_tokens,
                do_sample=False,
                num_beams=1,
                min_new_tokens=1,
                pad_token_id=pad,
                eos_token_id=tokenizer.eos_token_id,
            )
            out += tokenizer.batch_decode(gen[:, width:], skip_special_tokens=True)
    return out
