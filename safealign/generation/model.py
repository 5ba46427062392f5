"""The pose-guided generator: a diffusers UNet2DConditionModel in pixel space, conditioned three ways.

Design (poseguard.md D1, section 3.2, scaled to CPU training), the way current animators take the pose plus
posture tokens:
- the **pose map** (OpenPose convention) through a zero-initialised conv PoseGuider whose features are added
  to the UNet's first feature map (Moore's injection point): spatial alignment of the limbs;
- the **reference image**, concatenated to the noisy frame as input channels (appearance at every position)
  and as patch tokens the UNet cross-attends to (a stand-in for Animate Anyone's CLIP image embedding);
- **posture tokens** (``safealign.generation.pose_tokens``): the whole clip's keypoints, one token per frame
  with the generated frame marked, in the same cross-attention context. The posture as a whole, and its
  motion, reach the UNet as tokens whose keys and values a guard can edit, as concept erasure does for text.
Pretraining drops the map or the tokens for a share of the rows (``map_drop``, ``token_drop``), so that each
path carries the posture on its own (the pose check reports map only, tokens only and both).

``patch_size`` folds each p x p pixel block into channels (pixel unshuffle) before the UNet and back after it:
a lossless stand-in for a VAE that cuts the UNet's spatial work on CPU; the PoseGuider downsamples to match.

A model is a directory: ``generator_config.json`` + ``unet/``, ``pose_guider/``, ``pose_tokens/``,
``reference_tokens/`` (diffusers config + safetensors each) + ``scheduler/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import DDIMScheduler, DDPMScheduler, UNet2DConditionModel
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

from safealign.errors import InputError
from safealign.generation.pose_tokens import PoseTokenEncoder, ReferenceTokenEncoder, TokenJoints

CONFIG_NAME = "generator_config.json"
FORMAT_VERSION = 2
PARTS = ("unet", "pose_guider", "pose_tokens", "reference_tokens")


class PoseGuider(ModelMixin, ConfigMixin):
    """Conv encoder of a pose map in [0, 1] -> features added to the UNet's first feature map.

    Layout follows Moore's ``pose_guider.py`` (``conv_in``, ``blocks.N``, ``conv_out``, SiLU after every conv,
    zero-initialised ``conv_out``), with one stride-2 conv per halving of ``downsample`` (the patch size).
    """

    @register_to_config
    def __init__(self, in_channels: int = 3, block_out_channels: tuple[int, ...] = (16, 32),
                 out_channels: int = 32, downsample: int = 1) -> None:
        super().__init__()
        chans = list(block_out_channels)
        self.conv_in = torch.nn.Conv2d(in_channels, chans[0], 3, padding=1)
        blocks = []
        for i, (c_in, c_out) in enumerate(zip(chans[:-1], chans[1:])):
            stride = 2 if 2 ** i < downsample else 1
            blocks += [torch.nn.Conv2d(c_in, c_in, 3, padding=1),
                       torch.nn.Conv2d(c_in, c_out, 3, padding=1, stride=stride)]
        self.blocks = torch.nn.ModuleList(blocks)
        self.conv_out = torch.nn.Conv2d(chans[-1], out_channels, 3, padding=1)
        # Zero init: an untrained guider leaves the UNet unchanged (ControlNet / Moore convention).
        torch.nn.init.zeros_(self.conv_out.weight)
        torch.nn.init.zeros_(self.conv_out.bias)

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        x = torch.nn.functional.silu(self.conv_in(pose))
        for block in self.blocks:
            x = torch.nn.functional.silu(block(x))
        return self.conv_out(x)


@dataclass(frozen=True)
class GeneratorConfig:
    """Architecture of a builtin generator: params.yaml ``pretrain_generator.model`` (validated there, with its
    values and checks; see ``generation.params.generator_config``) at a domain's working resolution."""

    resolution: int
    patch_size: int
    block_out_channels: tuple[int, ...]
    layers_per_block: int
    cross_attention_levels: tuple[bool, ...]
    attention_head_dim: int
    pose_guider_channels: tuple[int, ...]
    token_dim: int
    token_layers: int
    token_heads: int
    reference_patch: int
    max_frames: int
    prediction_type: str
    train_timesteps: int

    def __post_init__(self) -> None:
        """The checks that involve the resolution (a separate params section); the others are the section's."""
        factor = self.patch_size * 2 ** (len(self.block_out_channels) - 1)
        if self.resolution % factor:
            raise ValueError(f"resolution {self.resolution} must be divisible by {factor} "
                             "(patch size times one halving per UNet level)")
        if self.resolution % self.reference_patch:
            raise ValueError(f"resolution {self.resolution} must be divisible by reference_patch "
                             f"{self.reference_patch}")


def scheduler_config(prediction_type: str, train_timesteps: int) -> dict:
    """Moore's schedule (3.2): zero-terminal-SNR, trailing spacing; cosine betas suit small pixel models."""
    return {"num_train_timesteps": train_timesteps, "beta_schedule": "squaredcos_cap_v2",
            "prediction_type": prediction_type, "rescale_betas_zero_snr": True,
            "timestep_spacing": "trailing", "clip_sample": False}


@dataclass
class Condition:
    """What a frame is generated from: reference [B, 3, H, W] in [-1, 1], pose map [B, 3, H, W] in [0, 1],
    the clip's token keypoints [B, T, J, 3], the generated frame's index in the clip [B]; ``use_map`` and
    ``use_tokens`` ([B] of 0/1, None = all on) switch a path off per row (pretraining drops, pose check)."""

    reference: torch.Tensor
    pose: torch.Tensor
    keypoints: torch.Tensor
    frame: torch.Tensor
    use_map: torch.Tensor | None = None
    use_tokens: torch.Tensor | None = None

    def rows(self, index: torch.Tensor | slice) -> "Condition":
        """The rows ``index`` of every field."""
        pick = lambda x: None if x is None else x[index]  # noqa: E731
        return Condition(*(pick(getattr(self, f)) for f in self.__dataclass_fields__))

    def to(self, device: torch.device) -> "Condition":
        move = lambda x: None if x is None else x.to(device)  # noqa: E731
        return Condition(*(move(getattr(self, f)) for f in self.__dataclass_fields__))


class PoseGuidedGenerator(torch.nn.Module):
    """UNet + PoseGuider + posture / reference token encoders + scheduler settings.

    ``forward(noisy, t, cond) -> model prediction``; ``noisy`` [B, 3, H, W] in [-1, 1].
    """

    def __init__(self, unet: UNet2DConditionModel, pose_guider: PoseGuider, pose_tokens: PoseTokenEncoder,
                 reference_tokens: ReferenceTokenEncoder, scheduler: dict, resolution: int,
                 patch_size: int, layout: str) -> None:
        super().__init__()
        self.unet = unet
        self.pose_guider = pose_guider
        self.pose_tokens = pose_tokens
        self.reference_tokens = reference_tokens
        self.scheduler_config = dict(scheduler)
        self.resolution = resolution
        self.patch_size = patch_size
        self.layout = layout

    @classmethod
    def build(cls, config: GeneratorConfig, tokens: TokenJoints, layout: str) -> "PoseGuidedGenerator":
        """A freshly initialised generator for ``config`` whose posture tokens read ``tokens`` keypoints of
        ``layout`` (seed torch before calling for reproducibility)."""
        chans, levels, p2 = tuple(config.block_out_channels), config.cross_attention_levels, config.patch_size ** 2
        unet = UNet2DConditionModel(
            sample_size=config.resolution // config.patch_size, in_channels=6 * p2, out_channels=3 * p2,
            layers_per_block=config.layers_per_block, block_out_channels=chans,
            down_block_types=tuple("CrossAttnDownBlock2D" if a else "DownBlock2D" for a in levels),
            up_block_types=tuple("CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(levels)),
            cross_attention_dim=config.token_dim, attention_head_dim=config.attention_head_dim,
            norm_num_groups=8)
        guider = PoseGuider(3, tuple(config.pose_guider_channels), chans[0], config.patch_size)
        pose_tokens = PoseTokenEncoder(len(tokens.joints), tokens.bones, tokens.centre, tokens.scale,
                                       config.token_dim, config.token_layers, config.token_heads,
                                       config.max_frames)
        ref_tokens = ReferenceTokenEncoder(config.resolution, config.reference_patch, config.token_dim)
        return cls(unet, guider, pose_tokens, ref_tokens,
                   scheduler_config(config.prediction_type, config.train_timesteps), config.resolution,
                   config.patch_size, layout)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def prediction_type(self) -> str:
        return self.scheduler_config["prediction_type"]

    def train_scheduler(self) -> DDPMScheduler:
        """The DDPM scheduler used for training (noise, velocity, alphas)."""
        return DDPMScheduler.from_config(self.scheduler_config)

    def sample_scheduler(self) -> DDIMScheduler:
        """The DDIM scheduler used for sampling (deterministic, eta 0)."""
        return DDIMScheduler.from_config(self.scheduler_config)

    def context(self, cond: Condition) -> torch.Tensor:
        """The cross-attention context: reference tokens then posture tokens [B, N + T, dim]."""
        tokens = self.pose_tokens(cond.keypoints, cond.frame)
        if cond.use_tokens is not None:
            tokens = tokens * cond.use_tokens.view(-1, 1, 1).to(tokens.dtype)
        return torch.cat([self.reference_tokens(cond.reference), tokens], dim=1)

    def forward(self, noisy: torch.Tensor, timestep: torch.Tensor, cond: Condition) -> torch.Tensor:
        features = self.pose_guider(cond.pose)
        if cond.use_map is not None:
            features = features * cond.use_map.view(-1, 1, 1, 1).to(features.dtype)
        context = self.context(cond)
        # Pose features join the output of the UNet's conv_in for this call only; the UNet stays a plain
        # diffusers model (save/load, peft targeting) instead of a patched copy of its forward.
        handle = self.unet.conv_in.register_forward_hook(lambda _m, _i, out: out + features.to(out.dtype))
        p = self.patch_size
        x = torch.cat([noisy, cond.reference], dim=1)
        if p > 1:
            x = torch.cat([torch.nn.functional.pixel_unshuffle(noisy, p),
                           torch.nn.functional.pixel_unshuffle(cond.reference, p)], dim=1)
        try:
            out = self.unet(x, timestep, encoder_hidden_states=context.to(x.dtype)).sample
        finally:
            handle.remove()
        return torch.nn.functional.pixel_shuffle(out, p) if p > 1 else out

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write the model directory (callers make it atomic, e.g. ``safealign.atomic.atomic_dir``)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for part in PARTS:
            getattr(self, part).save_pretrained(directory / part, safe_serialization=True)
        self.sample_scheduler().save_pretrained(directory / "scheduler")
        meta = {"_class_name": type(self).__name__, "format_version": FORMAT_VERSION,
                "resolution": self.resolution, "patch_size": self.patch_size, "layout": self.layout,
                "scheduler": self.scheduler_config}
        (directory / CONFIG_NAME).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> "PoseGuidedGenerator":
        """Load a directory written by ``save_pretrained`` (safetensors only)."""
        directory = Path(directory)
        meta_path = directory / CONFIG_NAME
        if not meta_path.is_file():
            raise InputError(f"{directory}: not a generator directory (no {CONFIG_NAME})")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{meta_path}: not readable JSON ({exc})") from None
        if meta.get("format_version") != FORMAT_VERSION:
            raise InputError(f"{meta_path}: format_version {meta.get('format_version')!r}, expected "
                             f"{FORMAT_VERSION} (a generator with posture tokens; retrain or convert it)")
        classes = {"unet": UNet2DConditionModel, "pose_guider": PoseGuider, "pose_tokens": PoseTokenEncoder,
                   "reference_tokens": ReferenceTokenEncoder}
        try:
            parts = {k: c.from_pretrained(directory / k, use_safetensors=True) for k, c in classes.items()}
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{directory}: cannot load the generator: {exc}") from None
        return cls(parts["unet"], parts["pose_guider"], parts["pose_tokens"], parts["reference_tokens"],
                   meta["scheduler"], int(meta["resolution"]), int(meta["patch_size"]), str(meta["layout"]))

    def describe(self) -> dict:
        """Sizes for logs and reports."""
        count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
        return {"resolution": self.resolution, "patch_size": self.patch_size, "layout": self.layout,
                "prediction_type": self.prediction_type, **{f"{k}_params": count(getattr(self, k)) for k in PARTS},
                "block_out_channels": list(self.unet.config.block_out_channels)}
