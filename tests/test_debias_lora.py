"""LoRA debiasing: only LoRA weights train, the loss covers response tokens only, data errors name the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safealign.bias.lm.debias import (
    lora_model,
    read_debias_rows,
    trainable_report,
    weighted_rows,
)
from safealign.bias.lm.model import load_lm
from safealign.bias.lm.replay import mix, neutral_prompts
from safealign.bias.lm.train import IGNORE, collate, encode, train_lm
from safealign.errors import InputError


def test_only_lora_weights_train_and_base_stays_frozen(tiny_lm_dir: Path) -> None:
    model, tok = load_lm(tiny_lm_dir)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    pm = lora_model(model, r=4, alpha=8, dropout=0.0, target_modules=["c_attn", "c_proj", "c_fc"])
    counts = trainable_report(pm)
    n_embd, n_layer = model.config.n_embd, model.config.n_layer
    # GPT-2 block: c_attn (d -> 3d), attn.c_proj (d -> d), c_fc (d -> 4d), mlp.c_proj (4d -> d); LoRA adds r*(in+out)
    expected = (
        n_layer
        * 4
        * ((n_embd + 3 * n_embd) + (n_embd + n_embd) + (n_embd + 4 * n_embd) + (4 * n_embd + n_embd))
    )
    assert counts["trainable"] == expected and counts["non_lora_trainable"] == 0
    train_lm(pm, tok, [("man is", " kind.")] * 8, epochs=1, batch_size=4, lr=1e-2, seed=0, max_len=64)
    for name, p in pm.named_parameters():
        if "lora_" not in name:
            base_name = name.replace("base_model.model.", "").replace("base_layer.", "")
            assert torch_equal(p, before[base_name]), name


def torch_equal(a, b) -> bool:
    import torch

    return bool(torch.equal(a.detach(), b))


def test_labels_mask_prompt_and_padding(tiny_lm_dir: Path) -> None:
    _, tok = load_lm(tiny_lm_dir)
    short = encode(tok, "man is", " kind.", max_len=64)
    p_len = 1 + len(tok("man is", add_special_tokens=False)["input_ids"])
    assert short.labels[:p_len] == [IGNORE] * p_len
    assert short.labels[p_len:] == short.input_ids[p_len:] and short.labels[-1] == tok.eos_token_id
    long = encode(tok, "the father is", " very loud and rude.", max_len=64)
    batch = collate([short, long], tok.pad_token_id)
    pad_cols = batch["attention_mask"][0] == 0
    assert pad_cols.any() and (batch["labels"][0][pad_cols] == IGNORE).all()
    paper = encode(tok, "man is", " kind.", max_len=64, mask_prompt=False)
    assert paper.labels[1:p_len] == paper.input_ids[1:p_len]  # paper mode: loss on the prompt too


def test_debias_rows_and_weights(tmp_path: Path) -> None:
    rows = [
        {"prompt": f"p{i}", "response": f"r{i}", "method": "swap" if i % 2 else "anti_template"}
        for i in range(10)
    ]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    got = read_debias_rows(path)
    assert len(weighted_rows(got, {"swap": 2.0, "anti_template": 0.4}, 0)) == 2 * 5 + 2
    assert weighted_rows(got, {}, 0) == []
    core = [("", "a is b.")] * 4 + [("p", "r")]
    assert len(mix(core, [("", "n1.")], 2.0, 0, 0)) == 5 + 10  # replay drawn with replacement
    assert len(mix(core, [("", "n1.")], 0.5, 6, 0)) == 4 + 2  # a step budget subsamples the core rows
    path.write_text('{"prompt": "p", "response": "r", "method": "swap"}\n{"prompt": 3}\n')
    with pytest.raises(
        InputError, match=r"train.jsonl:2: missing or non-text field\(s\) prompt, response, method"
    ):
        read_debias_rows(path)
    path.write_text("{not json\n")
    with pytest.raises(InputError, match=r"train.jsonl:1: not valid JSON"):
        read_debias_rows(path)


def test_chat_rows_use_the_template_and_mask_it(tiny_lm_dir: Path) -> None:
    _, tok = load_lm(tiny_lm_dir)
    tok.chat_template = "{% for m in messages %}<u>{{ m['content'] }}</u>{% endfor %}<a>"
    enc = encode(tok, "hi", " ok", max_len=64, chat=True)
    n_prompt = len(tok("<u>hi</u><a>", add_special_tokens=False)["input_ids"])
    assert enc.labels[:n_prompt] == [IGNORE] * n_prompt and enc.labels[-1] == tok.eos_token_id
    assert len(set(neutral_prompts(64, 0))) == 64
