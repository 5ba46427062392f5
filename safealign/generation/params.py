"""params.yaml sections of the generator branch: pretrain_generator, train_guard, fuse_guard."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from safealign.section import Section


class GeneratorArchParams(Section):
    """Architecture of the builtin generator (see safealign/generation/model.py)."""

    patch_size: Literal[1, 2, 4]
    block_out_channels: list[int] = Field(min_length=1)
    layers_per_block: int = Field(ge=1)
    cross_attention_levels: list[bool] = Field(min_length=1)
    attention_head_dim: int = Field(ge=1)
    pose_guider_channels: list[int] = Field(min_length=1)
    token_dim: int = Field(ge=8)
    token_layers: int = Field(ge=1)
    token_heads: int = Field(ge=1)
    reference_patch: int = Field(ge=1)
    max_frames: int = Field(ge=1)
    prediction_type: Literal["v_prediction", "epsilon"]
    train_timesteps: int = Field(ge=10)

    @model_validator(mode="after")
    def _parts_agree(self) -> "GeneratorArchParams":
        if self.token_dim % self.token_heads:
            raise ValueError(f"token_heads: expected a divisor of token_dim {self.token_dim}, received "
                             f"{self.token_heads}")
        if len(self.cross_attention_levels) != len(self.block_out_channels):
            raise ValueError(f"cross_attention_levels: expected one entry per block_out_channels entry "
                             f"({len(self.block_out_channels)}), received {len(self.cross_attention_levels)}")
        if 2 ** (len(self.pose_guider_channels) - 1) < self.patch_size:
            raise ValueError(f"pose_guider_channels: expected one stage per halving of patch_size {self.patch_size}, "
                             f"received {len(self.pose_guider_channels)} stages")
        return self


class LossParams(Section):
    """Diffusion loss knobs shared by pretraining and the guard (poseguard.md 2.2)."""

    min_snr_gamma: float = Field(ge=0)
    ref_drop_prob: float = Field(ge=0, le=1)
    noise_offset: float = Field(ge=0)


class TokenObjectiveParams(Section):
    """Masked keypoint modelling of the posture-token encoder (safealign/generation/pretrain.py)."""

    warmup: int = Field(ge=0)
    batch: int = Field(ge=1)
    weight: float = Field(ge=0)
    mask_share: float = Field(gt=0, lt=1)


class PretrainGeneratorParams(Section):
    """Train the unaligned base generator, or adopt an existing one."""

    base: str
    model: GeneratorArchParams
    loss: LossParams
    steps: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0, le=1)
    warmup_steps: int = Field(ge=0)
    lr_schedule: Literal["constant_with_warmup", "cosine", "linear"]
    frames_per_clip: int = Field(ge=1)
    map_drop: float = Field(ge=0, lt=1)
    token_drop: float = Field(ge=0, lt=1)
    token_objective: TokenObjectiveParams
    checkpoint_every: int = Field(ge=1)
    checkpoint_dir: str
    preview_steps: int = Field(ge=1)
    torch_threads: int = Field(ge=0)


class GuardDataParams(Section):
    """The rows each category's guard trains on (stage guard_data)."""

    degrade: Literal["mosaic", "blur", "gray", "noise"]
    degrade_strength: float | None = Field(default=None, ge=0)
    frames_per_clip: int = Field(ge=1)
    active_frames_per_clip: int = Field(ge=1)
    curve_clips: int = Field(ge=1)


class TrainGuardParams(Section):
    """Dual-objective LoRA per unsafe category (poseguard.md D2-D7)."""

    rank: int = Field(ge=1)
    alpha: float = Field(gt=0)
    targets: list[Literal["cross_kv", "cross_qo", "pose_tokens", "self_attention", "pose_guider"]] = Field(
        min_length=1)
    steps: int = Field(ge=1)
    batch_size: int = Field(ge=2)
    lr: float = Field(gt=0, le=1)
    lam: float = Field(ge=0)
    preserve: float = Field(ge=0)
    safety_t_min: int = Field(ge=0)
    safety_input: Literal["degraded", "truth"]
    decision: float = Field(ge=0)
    curve_every: int = Field(ge=0)


class ClosedFormParams(Section):
    """MACE-style closed-form fusion (safealign/generation/closed_form.py)."""

    rows: int = Field(ge=1)
    keep: float = Field(ge=0)
    ridge: float = Field(gt=0)


class DistillParams(Section):
    """Fusion by multi-teacher distillation (safealign/generation/distill_fusion.py)."""

    steps: int = Field(ge=1)
    lr: float = Field(gt=0, le=1)
    batch_size: int = Field(ge=2)


class FuseGuardParams(Section):
    """Combination of the per-category adapters (poseguard.md D9)."""

    combination: Literal["cat", "closed_form", "distill"]
    weights: dict[str, float]
    closed_form: ClosedFormParams
    distill: DistillParams

    @model_validator(mode="after")
    def _weights_positive(self) -> "FuseGuardParams":
        bad = {k: v for k, v in self.weights.items() if not 0 < v <= 10}
        if bad:
            raise ValueError(f"weights: expected each in (0, 10], received {bad}")
        return self


def dataclass_from(cls: type, section: Section, **extra):
    """The dataclass ``cls`` built by field name from a validated section (one set of values and defaults:
    the section's), plus ``extra`` fields the section does not hold."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(cls)} - set(extra)
    values = section.model_dump()
    return cls(**{n: tuple(values[n]) if isinstance(values[n], list) else values[n] for n in names}, **extra)


def generator_config(arch: GeneratorArchParams, resolution: int):
    """params -> ``GeneratorConfig`` (lazy import: params.yaml validation must not import diffusers)."""
    from safealign.generation.model import GeneratorConfig

    return dataclass_from(GeneratorConfig, arch, resolution=resolution)


def loss_config(loss: LossParams):
    """params -> ``LossConfig``."""
    from safealign.generation.diffusion import LossConfig

    return dataclass_from(LossConfig, loss)


def guard_config(p: TrainGuardParams):
    """params ``train_guard`` -> ``GuardConfig`` (LoRA shape and placement, the dual objective's mix)."""
    from safealign.generation.guard import GuardConfig

    return dataclass_from(GuardConfig, p)
