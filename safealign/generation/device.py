"""Device choice and mixed precision: CUDA with bf16 autocast when present, the same code on CPU."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from safealign.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> cuda when available else cpu; ``cuda`` without a GPU is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' requested but no CUDA device is available (use 'auto' or 'cpu')")
    if name not in ("cpu", "cuda"):
        raise ConfigError(f"device: expected one of 'auto', 'cpu', 'cuda', received {name!r}")
    return torch.device(name)


@contextlib.contextmanager
def autocast(device: torch.device) -> Iterator[None]:
    """bf16 autocast on CUDA; full precision on CPU (bf16 matmuls are slow on most CPUs)."""
    if device.type == "cuda":
        with torch.autocast("cuda", dtype=torch.bfloat16):
            yield
    else:
        yield


def set_threads(count: int) -> None:
    """Intra-op CPU threads for this process; 0 keeps torch's default (one per core)."""
    if count > 0:
        torch.set_num_threads(count)
