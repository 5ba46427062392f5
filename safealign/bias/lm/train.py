"""Causal-LM training shared by pretraining and LoRA debiasing: response-only loss, dynamic padding."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from safealign.bias.lm.likelihood import prompt_ids
from safealign.bias.lm.model import start_ids

IGNORE = -100


@dataclass(frozen=True)
class Encoded:
    """One training sequence: token ids and labels (IGNORE on the prompt)."""

    input_ids: list[int]
    labels: list[int]


def encode(
    tokenizer, prompt: str, response: str, max_len: int, mask_prompt: bool = True, chat: bool = False
) -> Encoded:
    """[start] + prompt + response + [eos]; labels cover response + eos only (``mask_prompt``; paper mode: all).

    ``chat`` puts a non-empty prompt through the tokenizer's chat template (which brings its own start
    tokens). Long prompts are cut from the left so the response always fits.
    """
    templated = chat and bool(prompt)
    head = [] if templated else start_ids(tokenizer)
    if templated:
        p_ids = prompt_ids(tokenizer, prompt, chat=True)
    else:
        p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"] if prompt else []
    r_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        r_ids = r_ids + [int(tokenizer.eos_token_id)]
    r_ids = r_ids[: max_len - len(head)]
    p_ids = p_ids[max(0, len(p_ids) - (max_len - len(head) - len(r_ids))) :]
    ids = head + p_ids + r_ids
    labels = [IGNORE] * len(head) + ([IGNORE] * len(p_ids) if mask_prompt else p_ids) + r_ids
    return Encoded(ids, labels)


def collate(batch: list[Encoded], pad_id: int):
    """Right-pad to the longest sequence; padding gets label IGNORE and attention 0."""
    import torch

    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, e in enumerate(batch):
        n = len(e.input_ids)
        ids[i, :n] = torch.tensor(e.input_ids)
        labels[i, :n] = torch.tensor(e.labels)
        mask[i, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def train_lm(
    model,
    tokenizer,
    examples: list[tuple[str, str]],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    max_len: int,
    max_steps: int = 0,
    weight_decay: float = 0.0,
    warmup_fraction: float = 0.03,
    mask_prompt: bool = True,
    chat: bool = False,
    desc: str = "train",
) -> dict[str, float]:
    """AdamW + cosine schedule over ``examples`` (prompt, response); only params with requires_grad train.

    Returns first/last mean epoch loss and the step count. ``max_steps`` > 0 caps the steps.
    """
    import torch
    from tqdm import tqdm
    from transformers import get_cosine_schedule_with_warmup

    torch.manual_seed(seed)
    rng = random.Random(seed)
    data = [encode(tokenizer, p, r, max_len, mask_prompt, chat) for p, r in examples]
    steps_per_epoch = math.ceil(len(data) / batch_size)
    total = epochs * steps_per_epoch if not max_steps else min(max_steps, epochs * steps_per_epoch)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, betas=(0.9, 0.95))
    sched = get_cosine_schedule_with_warmup(opt, int(warmup_fraction * total), total)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    model.train()
    step, epoch_losses = 0, []
    with tqdm(total=total, desc=desc, leave=False, mininterval=2.0) as bar:
        for _ in range(epochs):
            rng.shuffle(data)
            losses = []
            for start in range(0, len(data), batch_size):
                if step >= total:
                    break
                out = model(**collate(data[start : start + batch_size], pad))
                out.loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                losses.append(out.loss.item())
                step += 1
                bar.update(1)
            if losses:
                epoch_losses.append(sum(losses) / len(losses))
    model.eval()
    return {"loss_first_epoch": epoch_losses[0], "loss_last_epoch": epoch_losses[-1], "steps": step}
