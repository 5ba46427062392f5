"""Per-frame image similarity (torchmetrics): PSNR on 8-bit RGB (peak 255) and SSIM (Gaussian window)."""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from safealign.errors import InputError

# PSNR of identical frames is infinite; cap it so means and percent changes stay finite.
PSNR_CAP = 100.0


def _as_tensor(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).to(torch.float32)


def frame_similarity(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """PSNR (dB, capped at 100) and SSIM per frame pair of uint8 ``[N,H,W,3]`` arrays -> ``{psnr, ssim}``."""
    if a.shape != b.shape or a.ndim != 4 or a.shape[-1] != 3:
        raise InputError(
            f"frame_similarity: expected two uint8 [N,H,W,3] arrays of one shape, "
            f"received {a.shape} and {b.shape}"
        )
    ta, tb = _as_tensor(a), _as_tensor(b)
    psnr = peak_signal_noise_ratio(ta, tb, data_range=255.0, reduction="none", dim=(1, 2, 3))
    # SSIM's 11-px Gaussian window needs frames of at least 11 px; smaller ones use a 3-px window.
    kernel = 11 if min(a.shape[1:3]) >= 11 else 3
    ssim = structural_similarity_index_measure(ta, tb, data_range=255.0, reduction="none", kernel_size=kernel)
    psnr_np = np.nan_to_num(psnr.numpy().astype(np.float64), nan=PSNR_CAP, posinf=PSNR_CAP)
    return {"psnr": np.minimum(psnr_np, PSNR_CAP), "ssim": ssim.numpy().astype(np.float64)}
