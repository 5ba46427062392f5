"""The model slot: build the builtin tiny GPT-2 (own byte-level BPE tokenizer) or load any local causal LM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safealign.errors import InputError, user_input

SPECIALS = {"unk_token": "<unk>", "pad_token": "<pad>", "eos_token": "<eos>", "bos_token": "<eos>"}


def train_tokenizer(texts: list[str], vocab_size: int):
    """A byte-level BPE tokenizer trained on ``texts`` (tokenizers library), wrapped for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<unk>", "<pad>", "<eos>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIALS)


def build_gpt2(tokenizer, n_layer: int, n_embd: int, n_head: int, n_positions: int, seed: int):
    """A freshly initialised GPT-2 sized by the arch params, its special ids taken from ``tokenizer``.

    The output head is untied from the input embeddings (as in Llama-style models) so that a LoRA adapter on
    ``lm_head`` merges without touching the input embeddings.
    """
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    cfg = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        tie_word_embeddings=False,
    )
    return GPT2LMHeadModel(cfg)


def load_lm(model_dir: str | Path, trust_remote_code: bool = False) -> tuple[Any, Any]:
    """(model in eval mode, tokenizer) from a local Hugging Face causal-LM directory (safetensors only)."""
    path = Path(model_dir)
    if not (path / "config.json").is_file():
        raise InputError(f"model {path}: not a Hugging Face model directory (no config.json)")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with user_input(f"model {path}: cannot load"):
        tok = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
        model = AutoModelForCausalLM.from_pretrained(
            path, trust_remote_code=trust_remote_code, use_safetensors=True
        )
    if tok.pad_token is None:  # many causal LMs ship without one; padding is masked out anyway
        tok.pad_token = tok.eos_token
    model.eval()
    return model, tok


def save_lm(model, tokenizer, out_dir: str | Path) -> None:
    """Save model (safetensors) and tokenizer into ``out_dir``."""
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)


def start_ids(tokenizer) -> list[int]:
    """Token ids that open every sequence: BOS, else EOS as a separator, else nothing."""
    tid = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    return [] if tid is None else [int(tid)]


def set_threads(n: int) -> None:
    """Cap torch CPU threads (the machine's cores are shared)."""
    import torch

    torch.set_num_threads(n)
