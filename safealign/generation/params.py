"""params.yaml sections of the generator branch: pretrain_generator, train_guard, fuse_guard."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from safealign.config.base import Section


class GeneratorArchParams(Section):
    """Architecture of the builtin generator (see safealign/generation/model.py)."""

    patch_size: Literal[1, 2]
    block_out_channels: list[int] = Field(min_length=1)
    layers_per_block: int = Field(ge=1)
    attention_levels: list[bool] = Field(min_length=1)
    pose_guider_channels: list[int] = Field(min_length=1)
    prediction_type: Literal["v_prediction", "epsilon"]
    train_timesteps: int = Field(ge=10)
    pose_context_channels: list[int]


class LossParams(Section):
    """Diffusion loss knobs shared by pretraining and the guard (poseguard.md 2.2)."""

    min_snr_gamma: float = Field(ge=0)
    ref_drop_prob: float = Field(ge=0, le=1)
    noise_offset: float = Field(ge=0)


class PretrainGeneratorParams(Section):
    """Train the unaligned base generator, or adopt an existing one."""

    base: str
    model: GeneratorArchParams
    loss: LossParams
    steps: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    warmup_steps: int = Field(ge=0)
    lr_schedule: Literal["constant_with_warmup", "cosine", "linear"]
    frames_per_clip: int = Field(ge=1)
    checkpoint_every: int = Field(ge=1)
    checkpoint_dir: str
    preview_steps: int = Field(ge=1)
    torch_threads: int = Field(ge=0)


class TrainGuardParams(Section):
    """Dual-objective LoRA per unsafe category (poseguard.md D2-D7)."""

    rank: int = Field(ge=1)
    alpha: float = Field(gt=0)
    target_modules: list[str] = Field(min_length=1)
    pose_guider_lora: bool
    steps: int = Field(ge=1)
    batch_size: int = Field(ge=2)
    lr: float = Field(gt=0)
    lam: float = Field(ge=0)
    preserve: float = Field(ge=0)
    safety_t_min: int = Field(ge=0)
    safety_input: Literal["degraded", "truth"]
    pair_by_reference: bool
    cross_reference: int = Field(ge=0)
    pair_noise: bool = False
    cross_reference_safety: bool = False
    safety_probe: float = Field(default=0.0, ge=0)
    safety_probe_rows: int = Field(default=0, ge=0)
    safety_probe_warmup: int = Field(default=0, ge=0)
    safety_probe_quiet: float = Field(default=0.0, ge=0)
    degrade: Literal["mosaic", "blur", "gray", "noise"]
    degrade_strength: float | None = Field(default=None, ge=0)
    frames_per_clip: int = Field(ge=1)
    ambiguity_quantile: float = Field(ge=0, lt=1)
    ambiguity_features: Literal["pose_map", "landmarks"] = "pose_map"
    balance_actions: bool = False
    check_steps: int = Field(ge=1)
    check_clips: int = Field(ge=1)

    @model_validator(mode="after")
    def _cross_reference_fits(self) -> "TrainGuardParams":
        if self.cross_reference and not (self.cross_reference < self.batch_size // 2 and self.preserve > 0):
            raise ValueError(f"cross_reference: expected 0, or an int below batch_size / 2 = {self.batch_size // 2} "
                             f"with preserve > 0, received {self.cross_reference} (preserve {self.preserve})")
        return self

    @model_validator(mode="after")
    def _pair_noise_needs_pairs(self) -> "TrainGuardParams":
        if self.pair_noise and not self.pair_by_reference:
            raise ValueError("pair_noise: expected false, or true with pair_by_reference true, received true with "
                             "pair_by_reference false")
        return self

    @model_validator(mode="after")
    def _cross_reference_safety_needs_rows(self) -> "TrainGuardParams":
        if self.cross_reference_safety and not (self.cross_reference and self.pair_by_reference):
            raise ValueError("cross_reference_safety: expected false, or true with cross_reference > 0 and "
                             f"pair_by_reference true, received true with cross_reference {self.cross_reference} "
                             f"and pair_by_reference {str(self.pair_by_reference).lower()}")
        return self

    @model_validator(mode="after")
    def _safety_probe_needs_guider_lora(self) -> "TrainGuardParams":
        if self.safety_probe and not self.pose_guider_lora:
            raise ValueError(f"safety_probe: expected 0, or > 0 with pose_guider_lora true, received "
                             f"{self.safety_probe} with pose_guider_lora false")
        if self.safety_probe_rows and not self.safety_probe:
            raise ValueError(f"safety_probe_rows: expected 0 while safety_probe is 0, received "
                             f"{self.safety_probe_rows}")
        if self.safety_probe_warmup and not self.safety_probe_rows:
            raise ValueError(f"safety_probe_warmup: expected 0 while safety_probe_rows is 0 (the rows of each "
                             f"warm-up step), received {self.safety_probe_warmup}")
        if self.safety_probe_quiet and not self.safety_probe:
            raise ValueError(f"safety_probe_quiet: expected 0 while safety_probe is 0, received "
                             f"{self.safety_probe_quiet}")
        return self


class ClosedFormParams(Section):
    """MACE-style closed-form fusion (safealign/generation/closed_form.py)."""

    rows: int = Field(ge=1)
    keep: float = Field(ge=0)
    ridge: float = Field(gt=0)


class DistillParams(Section):
    """Fusion by multi-teacher distillation (safealign/generation/distill_fusion.py)."""

    steps: int = Field(ge=1)
    lr: float = Field(gt=0)
    batch_size: int = Field(ge=2)
    real_references: list[str]      # under project.shared_data; never the evaluation's real_reference
    real_share: float = Field(ge=0, lt=1)
    real_rows: int = Field(ge=1)
    real_sample_steps: int = Field(ge=1)
    trajectory_share: float = Field(ge=0, le=1)
    trajectory_rows: int = Field(ge=1)
    trajectory_steps: int = Field(ge=1)
    trajectory_any_reference: bool


class FuseGuardParams(Section):
    """Combination of the per-category adapters (poseguard.md D9)."""

    combination: Literal["cat", "linear", "ties", "ties_svd", "closed_form", "distill"]
    weights: dict[str, float]
    density: float = Field(gt=0, le=1)
    closed_form: ClosedFormParams
    distill: DistillParams


def generator_config(arch: GeneratorArchParams, resolution: int):
    """params -> ``GeneratorConfig`` (lazy import: params.yaml validation must not import diffusers)."""
    from safealign.generation.model import GeneratorConfig

    return GeneratorConfig(resolution=resolution, patch_size=arch.patch_size,
                           block_out_channels=tuple(arch.block_out_channels),
                           layers_per_block=arch.layers_per_block,
                           attention_levels=tuple(arch.attention_levels),
                           pose_guider_channels=tuple(arch.pose_guider_channels),
                           prediction_type=arch.prediction_type, train_timesteps=arch.train_timesteps,
                           pose_context_channels=tuple(arch.pose_context_channels))


def loss_config(loss: LossParams):
    """params -> ``LossConfig``."""
    from safealign.generation.diffusion import LossConfig

    return LossConfig(min_snr_gamma=loss.min_snr_gamma, ref_drop_prob=loss.ref_drop_prob,
                      noise_offset=loss.noise_offset)


def guard_config(p: TrainGuardParams):
    """params ``train_guard`` -> ``GuardConfig`` (LoRA shape and the dual objective's mix)."""
    from safealign.generation.guard import GuardConfig

    return GuardConfig(p.rank, p.alpha, tuple(p.target_modules), p.pose_guider_lora, p.batch_size, p.lam,
                       p.preserve, p.safety_t_min, p.pair_by_reference, p.cross_reference, p.safety_input,
                       p.pair_noise, p.cross_reference_safety, p.safety_probe, p.safety_probe_rows,
                       p.safety_probe_warmup, p.safety_probe_quiet)
