"""The pose-guided generator: a diffusers UNet in pixel space, a PoseGuider and reference conditioning.

Design (poseguard.md D1, section 3.2), scaled to CPU training:
- Denoising UNet: ``diffusers.UNet2DModel`` on RGB pixels at ``resolution`` (no VAE for the builtin default).
  Its self-attention blocks carry the ``to_q/to_k/to_v/to_out.0`` projections the guard's LoRA targets (D6).
- Reference image: concatenated to the noisy frame as 3 extra input channels, so every level of the UNet sees
  the subject's appearance (the channel variant of reference conditioning).
- PoseGuider: small 3x3 conv encoder of the OpenPose-convention pose map with a zero-initialised output conv
  whose features are *added to the UNet features right after ``conv_in``* (Moore's injection point).
  Optional pose context (``pose_context_channels``, off by default): stride-2 convs of the pose map, global
  average pooling and a zero-initialised linear layer whose output is added to every position of the guider's
  features: a path that sees the whole posture and nothing but the pose (issue 5).
- ``patch_size`` 2 (default) folds each 2x2 pixel block into channels (pixel unshuffle) before the UNet and
  back after it: a lossless stand-in for the VAE that quarters the UNet's spatial work on CPU; the
  PoseGuider then downsamples once, like Moore's guider downsamples to latent resolution.

A model is a directory: ``generator_config.json`` + ``unet/`` + ``pose_guider/`` (diffusers config JSON +
safetensors each) + ``scheduler/``; ``PoseGuidedGenerator.from_pretrained(dir)`` loads it back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

from safealign.errors import InputError

CONFIG_NAME = "generator_config.json"
FORMAT_VERSION = 1


class PoseGuider(ModelMixin, ConfigMixin):
    """Conv encoder of a pose map in [0, 1] -> features added to the UNet's first feature map.

    Layout follows Moore's ``pose_guider.py`` (``conv_in``, ``blocks.N``, ``conv_out``, SiLU after every conv,
    zero-initialised ``conv_out``) but keeps full resolution, because the UNet works on pixels, not latents.
    ``context_channels`` adds ``context.N`` (stride-2 3x3 convs of the pose map, as in the pose-separability
    classifier) and ``context_out`` (zero-initialised linear of their global average): one vector per image,
    added at every position, so an adapter on it can act on the posture as a whole.
    """

    @register_to_config
    def __init__(self, in_channels: int = 3, block_out_channels: tuple[int, ...] = (16, 32),
                 out_channels: int = 32, downsample: int = 1, context_channels: tuple[int, ...] = ()) -> None:
        super().__init__()
        chans = list(block_out_channels)
        self.conv_in = torch.nn.Conv2d(in_channels, chans[0], 3, padding=1)
        blocks = []
        for i, (c_in, c_out) in enumerate(zip(chans[:-1], chans[1:])):
            stride = 2 if 2 ** i < downsample else 1  # Moore: one stride-2 conv per halving
            blocks += [torch.nn.Conv2d(c_in, c_in, 3, padding=1),
                       torch.nn.Conv2d(c_in, c_out, 3, padding=1, stride=stride)]
        self.blocks = torch.nn.ModuleList(blocks)
        self.conv_out = torch.nn.Conv2d(chans[-1], out_channels, 3, padding=1)
        # Zero init: an untrained guider leaves the UNet unchanged (ControlNet / Moore convention).
        torch.nn.init.zeros_(self.conv_out.weight)
        torch.nn.init.zeros_(self.conv_out.bias)
        # Built after conv_out so that a guider without context draws the same initial weights as before.
        ctx = [in_channels, *context_channels]
        self.context = torch.nn.ModuleList(torch.nn.Conv2d(c_in, c_out, 3, padding=1, stride=2)
                                           for c_in, c_out in zip(ctx[:-1], ctx[1:]))
        self.context_out = torch.nn.Linear(ctx[-1], out_channels) if context_channels else None
        if self.context_out is not None:
            torch.nn.init.zeros_(self.context_out.weight)
            torch.nn.init.zeros_(self.context_out.bias)

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        x = torch.nn.functional.silu(self.conv_in(pose))
        for block in self.blocks:
            x = torch.nn.functional.silu(block(x))
        out = self.conv_out(x)
        if self.context_out is None:
            return out
        h = pose
        for conv in self.context:
            h = torch.nn.functional.silu(conv(h))
        return out + self.context_out(h.mean(dim=(2, 3)))[:, :, None, None]


@dataclass(frozen=True)
class GeneratorConfig:
    """Architecture of a builtin generator (params.yaml ``pretrain_generator.model``)."""

    resolution: int = 64
    patch_size: int = 2
    block_out_channels: tuple[int, ...] = (32, 64, 96)
    layers_per_block: int = 1
    attention_levels: tuple[bool, ...] = (False, False, True)
    pose_guider_channels: tuple[int, ...] = (16, 32)
    prediction_type: str = "v_prediction"
    train_timesteps: int = 1000
    pose_context_channels: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.attention_levels) != len(self.block_out_channels):
            raise ValueError("attention_levels needs one entry per block_out_channels entry")
        factor = self.patch_size * 2 ** (len(self.block_out_channels) - 1)
        if self.resolution % factor:
            raise ValueError(f"resolution {self.resolution} must be divisible by {factor} "
                             "(patch size times one halving per UNet level)")
        if 2 ** (len(self.pose_guider_channels) - 1) < self.patch_size:
            raise ValueError("pose_guider_channels needs one stage per halving of patch_size")


def scheduler_config(prediction_type: str, train_timesteps: int) -> dict:
    """Moore's schedule (3.2): zero-terminal-SNR, trailing spacing; cosine betas suit small pixel models."""
    return {"num_train_timesteps": train_timesteps, "beta_schedule": "squaredcos_cap_v2",
            "prediction_type": prediction_type, "rescale_betas_zero_snr": True,
            "timestep_spacing": "trailing", "clip_sample": False}


class PoseGuidedGenerator(torch.nn.Module):
    """UNet + PoseGuider + scheduler settings. ``forward(noisy, t, reference, pose) -> model prediction``.

    Images are tensors [B, 3, H, W]: ``noisy`` and ``reference`` in [-1, 1], ``pose`` in [0, 1].
    """

    def __init__(self, unet: UNet2DModel, pose_guider: PoseGuider, scheduler: dict, resolution: int,
                 patch_size: int = 1) -> None:
        super().__init__()
        self.unet = unet
        self.pose_guider = pose_guider
        self.scheduler_config = dict(scheduler)
        self.resolution = resolution
        self.patch_size = patch_size

    @classmethod
    def build(cls, config: GeneratorConfig) -> "PoseGuidedGenerator":
        """A freshly initialised generator for ``config`` (seed torch before calling for reproducibility)."""
        chans, levels = tuple(config.block_out_channels), config.attention_levels
        p2 = config.patch_size ** 2
        unet = UNet2DModel(
            sample_size=config.resolution // config.patch_size, in_channels=6 * p2, out_channels=3 * p2,
            layers_per_block=config.layers_per_block, block_out_channels=chans,
            down_block_types=tuple("AttnDownBlock2D" if a else "DownBlock2D" for a in levels),
            up_block_types=tuple("AttnUpBlock2D" if a else "UpBlock2D" for a in reversed(levels)),
            attention_head_dim=8, norm_num_groups=8)
        guider = PoseGuider(3, tuple(config.pose_guider_channels), chans[0], config.patch_size,
                            tuple(config.pose_context_channels))
        return cls(unet, guider, scheduler_config(config.prediction_type, config.train_timesteps),
                   config.resolution, config.patch_size)

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

    def forward(self, noisy: torch.Tensor, timestep: torch.Tensor, reference: torch.Tensor,
                pose: torch.Tensor) -> torch.Tensor:
        features = self.pose_guider(pose)
        # Add the pose features to the output of the UNet's conv_in for this call only; the UNet stays a
        # plain diffusers UNet2DModel (save/load, peft targeting) instead of a patched copy of its forward.
        handle = self.unet.conv_in.register_forward_hook(lambda _m, _i, out: out + features.to(out.dtype))
        p = self.patch_size
        if p > 1:
            noisy = torch.nn.functional.pixel_unshuffle(noisy, p)
            reference = torch.nn.functional.pixel_unshuffle(reference, p)
        x = torch.cat([noisy, reference], dim=1)
        try:
            out = self.unet(x, timestep).sample
        finally:
            handle.remove()
        return torch.nn.functional.pixel_shuffle(out, p) if p > 1 else out

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write the model directory (callers make it atomic, e.g. ``safealign.atomic.atomic_dir``)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.unet.save_pretrained(directory / "unet", safe_serialization=True)
        self.pose_guider.save_pretrained(directory / "pose_guider", safe_serialization=True)
        self.sample_scheduler().save_pretrained(directory / "scheduler")
        meta = {"_class_name": type(self).__name__, "format_version": FORMAT_VERSION,
                "resolution": self.resolution,
                "patch_size": self.patch_size, "scheduler": self.scheduler_config}
        text = json.dumps(meta, indent=2, sort_keys=True) + "\n"
        (directory / CONFIG_NAME).write_text(text, encoding="utf-8")
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
            unet = UNet2DModel.from_pretrained(directory / "unet", use_safetensors=True)
            guider = PoseGuider.from_pretrained(directory / "pose_guider", use_safetensors=True)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise InputError(f"{directory}: cannot load the generator: {exc}") from None
        if meta.get("format_version") != FORMAT_VERSION:
            raise InputError(f"{meta_path}: format_version {meta.get('format_version')!r}, "
                             f"expected {FORMAT_VERSION}")
        return cls(unet, guider, meta["scheduler"], int(meta["resolution"]), int(meta["patch_size"]))

    def describe(self) -> dict:
        """Sizes for logs and reports."""
        return {"resolution": self.resolution, "patch_size": self.patch_size,
                "prediction_type": self.prediction_type,
                "unet_params": sum(p.numel() for p in self.unet.parameters()),
                "pose_guider_params": sum(p.numel() for p in self.pose_guider.parameters()),
                "block_out_channels": list(self.unet.config.block_out_channels)}

