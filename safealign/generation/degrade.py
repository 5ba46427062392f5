"""Degraded safety targets D(x) (poseguard.md D2): mosaic (default), blur, gray, noise.

Sizes scale with the short side so the look is the same at 32 px and at 512 px.
"""

from __future__ import annotations

import numpy as np
import torch

from safealign.errors import ConfigError

KINDS = ("mosaic", "blur", "gray", "noise")
# Default strength per kind: mosaic block and blur sigma as a fraction of the short side (D2: 1/16, 1/32),
# gray level in [0, 1], noise std in [0, 1] units of the pixel range.
DEFAULT_STRENGTH = {"mosaic": 1 / 16, "blur": 1 / 32, "gray": 0.5, "noise": 0.5}


def degrade(frames: np.ndarray, kind: str = "mosaic", strength: float | None = None,
            seed: int = 0) -> np.ndarray:
    """Return D(frames) for uint8 frames shaped [..., H, W, 3] (same shape, uint8)."""
    if kind not in KINDS:
        raise ConfigError(f"degrade kind: expected one of {', '.join(KINDS)}, received {kind!r}")
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim < 3 or frames.shape[-1] != 3:
        raise ValueError(f"degrade: expected uint8 [..., H, W, 3], received {frames.dtype} {frames.shape}")
    s = DEFAULT_STRENGTH[kind] if strength is None else float(strength)
    if s < 0:
        raise ConfigError(f"degrade strength must be >= 0, received {s}")
    h, w = frames.shape[-3:-1]
    if kind == "gray":
        return np.full_like(frames, int(round(np.clip(s, 0, 1) * 255)))
    if kind == "noise":
        rng = np.random.default_rng(seed)
        noisy = frames.astype(np.float32) + rng.normal(0.0, s * 255.0, frames.shape)
        return np.clip(noisy, 0, 255).round().astype(np.uint8)
    if kind == "mosaic":
        return _mosaic(frames, max(1, int(round(s * min(h, w)))))
    return _blur(frames, max(1e-3, s * min(h, w)))


def _mosaic(frames: np.ndarray, block: int) -> np.ndarray:
    h, w = frames.shape[-3:-1]
    x = torch.from_numpy(frames.reshape(-1, h, w, 3)).permute(0, 3, 1, 2).float()
    small = torch.nn.functional.adaptive_avg_pool2d(x, (max(1, -(-h // block)), max(1, -(-w // block))))
    big = torch.nn.functional.interpolate(small, size=(h, w), mode="nearest")
    return big.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy().reshape(frames.shape)


def _blur(frames: np.ndarray, sigma: float) -> np.ndarray:
    h, w = frames.shape[-3:-1]
    radius = max(1, int(3 * sigma))
    taps = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = (kernel / kernel.sum()).view(1, 1, -1)
    x = torch.from_numpy(frames.reshape(-1, h, w, 3)).permute(0, 3, 1, 2).float().reshape(-1, 1, h, w)
    # Separable Gaussian with reflect padding (replicate where the image is smaller than the kernel).
    mode = "reflect" if radius < min(h, w) else "replicate"
    x = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (radius, radius, 0, 0), mode=mode),
                                   kernel.view(1, 1, 1, -1))
    x = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (0, 0, radius, radius), mode=mode),
                                   kernel.view(1, 1, -1, 1))
    out = x.reshape(-1, 3, h, w).permute(0, 2, 3, 1)
    return out.round().clamp(0, 255).byte().numpy().reshape(frames.shape)
