"""LoRA debiasing (gendercare.md sections 3.2, 3.4): training mixture, LoRA-only model, response-only loss.

The mixture for a model with planted bias: descriptor-swap counterfactual statements (every statement written
once with B and once with A, so each target co-occurs equally with both descriptors), the GenderPair debias
rows of the augment_counterfactual stage weighted per method, and neutral replay text that protects utility.
"""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path
from typing import Mapping

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
        target_modules=list(target_modules),
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


def build_mixture(
    counterfactual: list[str],
    debias: list[tuple[str, str]],
    neutral: list[str],
    replay_fraction: float,
    seed: int,
) -> list[tuple[str, str]]:
    """Counterfactual statements + debias rows + ``replay_fraction`` x their count of neutral replay, shuffled."""
    rng = random.Random(seed)
    core = [("", s) for s in counterfactual] + list(debias)
    n_replay = min(len(neutral), int(round(replay_fraction * len(core))))
    mix = core + [("", s) for s in rng.sample(neutral, n_replay)]
    rng.shuffle(mix)
    return mix
