"""LoRA debiasing of any causal LM (gendercare.md sections 3.2, 3.4): LoRA-only model, response-only loss.

The mixture: the augment_counterfactual rows weighted per method (by default the descriptor-swap
counterfactuals, each written once with B and once with A) restricted to the model's benchmark pairs, plus
replay text that protects utility (the model's own answers to neutral prompts, or the builtin corpus).
"""

from __future__ import annotations

import json
import random
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    import pandas as pd

from safealign.errors import InputError

DEBIAS_FIELDS = ("prompt", "response", "method")


def read_debias_rows(path: str | Path) -> list[dict]:
    """Rows of a debias jsonl file; a bad line is an error naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: debiasing data not found (run the augment_counterfactual stage)")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
        missing = [f for f in DEBIAS_FIELDS if not isinstance(row.get(f), str)]
        if missing:
            raise InputError(f"{path}:{n}: missing or non-text field(s) {', '.join(missing)}")
        rows.append(row)
    return rows


def weighted_rows(rows: list[dict], weights: Mapping[str, float], seed: int) -> list[tuple[str, str]]:
    """(prompt, response) pairs: each method's rows repeated ``int(w)`` times plus a seeded ``w % 1`` share."""
    rng = random.Random(seed)
    by_method: dict[str, list[dict]] = {}
    for row in rows:
        by_method.setdefault(row["method"], []).append(row)
    out = []
    for method, items in sorted(by_method.items()):
        w = float(weights.get(method, 0.0))
        chosen = items * int(w) + rng.sample(items, int(round((w % 1) * len(items))))
        out += [(r["prompt"], r["response"]) for r in chosen]
    return out


def lora_model(model, r: int, alpha: float, dropout: float, target_modules: list[str], seed: int = 0):
    """``model`` wrapped with a seeded peft LoRA adapter; every base weight (embeddings, norms, head) is frozen."""
    import torch
    from peft import LoraConfig, TaskType, get_peft_model

    torch.manual_seed(seed)  # LoRA A matrices are drawn at wrap time: seed them for bit-identical reruns

    cfg = LoraConfig(
        task_type=TaskType.CAUSAL_LM,
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules="all-linear" if list(target_modules) == ["all-linear"] else list(target_modules),
        fan_in_fan_out=getattr(model.config, "model_type", "") == "gpt2",
    )
    with (
        warnings.catch_warnings()
    ):  # GPT-2's Conv1D layers need fan_in_fan_out, its nn.Linear lm_head not (peft adapts)
        warnings.filterwarnings("ignore", message="fan_in_fan_out is set to True")
        return get_peft_model(model, cfg)


def trainable_report(model) -> dict[str, int]:
    """Trainable / total parameter counts and how many trainable ones are not LoRA weights (must be 0)."""
    trainable = [(n, p.numel()) for n, p in model.named_parameters() if p.requires_grad]
    total = sum(p.numel() for p in model.parameters())
    return {
        "trainable": sum(n for _, n in trainable),
        "total": total,
        "non_lora_trainable": sum(n for name, n in trainable if "lora_" not in name),
    }


def rows_for_pairs(rows: list[dict], pairs: "pd.DataFrame") -> list[dict]:
    """Debias rows whose (group, descriptor) belongs to one of ``pairs`` (the model's benchmark pairs)."""
    wanted = {(g, d) for g, b, a in zip(pairs["group"], pairs["biased"], pairs["anti_biased"]) for d in (b, a)}
    return [r for r in rows if (r.get("group"), r.get("descriptor")) in wanted]


@dataclass(frozen=True)
class DebiasSpec:
    """How one model is debiased (``train_debias.models.<name>`` plus the shared settings)."""

    lora_r: int
    lora_alpha: float
    lora_dropout: float
    target_modules: list[str]
    lr: float
    epochs: int
    batch_size: int
    max_steps: int
    max_len: int
    replay: str
    replay_fraction: float
    replay_prompts: int
    replay_new_tokens: int
    paper: bool = False


def debias(model, tok, rows: list[tuple[str, str]], neutral: list[str], spec: DebiasSpec, seed: int,
           adapter_out: Path, merged_out: Path) -> dict:
    """LoRA-train ``model`` on ``rows`` + replay; save the adapter and the merged model; training metrics."""
    from safealign.atomic import atomic_dir
    from safealign.bias.lm.likelihood import has_chat_template
    from safealign.bias.lm.replay import mix, self_replay
    from safealign.bias.lm.train import train_lm
    from safealign.errors import SafealignError

    replay = (self_replay(model, tok, spec.replay_prompts, spec.replay_new_tokens, seed)
              if spec.replay == "self" else [("", s) for s in neutral])
    total = spec.max_steps * spec.batch_size if spec.max_steps else 0
    mixture = mix(rows, replay, spec.replay_fraction, total, seed)
    modules = [m for m in spec.target_modules if not (spec.paper and m == "lm_head")]
    peft_model = lora_model(model, spec.lora_r, spec.lora_alpha, spec.lora_dropout, modules, seed)
    counts = trainable_report(peft_model)
    if counts["non_lora_trainable"]:
        raise SafealignError(f"debias: {counts['non_lora_trainable']} non-LoRA parameters are trainable")
    stats = train_lm(peft_model, tok, mixture, epochs=spec.epochs, batch_size=spec.batch_size, lr=spec.lr,
                     seed=seed, max_len=spec.max_len, max_steps=spec.max_steps,
                     weight_decay=0.1 if spec.paper else 0.0, warmup_fraction=0.0 if spec.paper else 0.03,
                     mask_prompt=not spec.paper, chat=has_chat_template(tok), desc="debias")
    with atomic_dir(adapter_out) as tmp:
        # only the LoRA weights: the frozen output head is already in the base model
        peft_model.save_pretrained(tmp, safe_serialization=True, save_embedding_layers=False)
    with atomic_dir(merged_out) as tmp:
        peft_model.merge_and_unload().save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
    return {**counts, **stats, "rows": {"counterfactual": len(rows), "replay_unique": len(replay),
                                        "trained": len(mixture)},
            "replay": spec.replay, "replay_examples": [r for _, r in replay[:3]]}
