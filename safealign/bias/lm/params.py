"""params.yaml sections of the GenderCARE model stages (pretrain_lm, assess_bias, train_debias, evaluate_debias)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from safealign.config.base import Section


class ArchParams(Section):
    """Size of the builtin GPT-2 and its byte-level BPE tokenizer."""

    vocab_size: int = Field(ge=300)
    n_layer: int = Field(ge=1)
    n_embd: int = Field(ge=16)
    n_head: int = Field(ge=1)
    n_positions: int = Field(ge=32)


class CorpusParams(Section):
    """The synthetic corpus: neutral text plus statements that pair targets with descriptors."""

    filler_sentences: int = Field(ge=0)
    heldout_fraction: float = Field(gt=0, lt=1)
    statements_per_pair: int = Field(ge=2)
    train_prefixes: list[str] = Field(min_length=1)
    frames: list[str] = Field(min_length=1)


class PretrainLmParams(Section):
    """Model slot and the from-scratch training of the planted and control models."""

    base: str
    trust_remote_code: bool
    planted_probability: float = Field(ge=0, le=1)
    control_probability: float = Field(ge=0, le=1)
    arch: ArchParams
    corpus: CorpusParams
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    threads: int = Field(ge=1)


class GenerationParams(Section):
    """Greedy decoding for generation-mode BPR, toxicity, sentiment and BOLD."""

    prompts_per_group: int = Field(ge=0)
    max_new_tokens: int = Field(ge=1)
    parse_mode: Literal["corrected", "paper"]
    negation: bool


class BenchmarkParams(Section):
    """External benchmarks (read when ../shared/data/gendercare/benchmarks exists), subsampled for speed."""

    dir: str
    stereoset_rows: int = Field(ge=0)
    winoqueer_rows: int = Field(ge=0)
    bold_rows_per_group: int = Field(ge=0)


class AssessBiasParams(Section):
    """Which models are assessed (DVC foreach) and how."""

    models: list[str] = Field(min_length=1)
    eval_prefixes: list[str] = Field(min_length=1)
    items_per_group: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    generation: GenerationParams
    benchmarks: BenchmarkParams


class LoraParams(Section):
    """LoRA adapter shape and which modules get it."""

    r: int = Field(ge=1)
    alpha: float = Field(gt=0)
    dropout: float = Field(ge=0, lt=1)
    target_modules: list[str] = Field(min_length=1)


class TrainDebiasParams(Section):
    """LoRA SFT on counterfactual data. ``mode``: project (corrected) or paper (the released recipe)."""

    mode: Literal["project", "paper"]
    lora: LoraParams
    paper_lora: LoraParams
    lr: float = Field(gt=0)
    paper_lr: float = Field(gt=0)
    epochs: int = Field(ge=1)
    paper_epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    max_steps: int = Field(ge=0)
    method_weights: dict[str, float]
    balanced_statements: int = Field(ge=0)
    replay_fraction: float = Field(ge=0)


class EvaluateDebiasParams(Section):
    """Utility tasks and the thresholds the report marks as pass/fail (the gate reads the same numbers)."""

    cloze_items: int = Field(ge=1)
    cloze_choices: int = Field(ge=2)
    min_bpr_cut: float = Field(ge=0, le=1)
    max_utility_change_pct: float = Field(ge=0)
