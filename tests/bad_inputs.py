"""Builders of hostile inputs for the bad-input corpus: every file is made at test time, none is committed."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np

from tests.conftest import standing_poses


def png_header(path: Path, width: int, height: int) -> Path:
    """A 45-byte PNG whose header claims ``width`` x ``height`` (a decompression bomb to Pillow)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return path


def openpose_dir(path: Path, people: list, frames: int = 3) -> Path:
    """A folder of ``frames`` OpenPose JSON files whose ``people`` list is ``people``."""
    path.mkdir(parents=True, exist_ok=True)
    for t in range(frames):
        doc = {"version": 1.3, "people": people}
        (path / f"clip_{t:012d}_keypoints.json").write_text(json.dumps(doc), encoding="utf-8")
    return path


def pose_npz(path: Path, pose: np.ndarray | None = None, **arrays: np.ndarray) -> Path:
    """A pose ``.npz`` (default: a 3-frame standing figure); extra arrays as given (object arrays pickled)."""
    np.savez(path, pose=standing_poses(3) if pose is None else pose, **arrays)
    return path


def truncate(path: Path, keep: int) -> Path:
    """Keep the first ``keep`` bytes of ``path``."""
    path.write_bytes(path.read_bytes()[:keep])
    return path


def tiny_adapter(generator_dir: Path, out: Path) -> Path:
    """A rank-2 LoRA adapter of the tiny generator, saved in peft format."""
    from safealign.generation.lora import attach_lora, lora_config, save_adapter
    from safealign.generation.model import PoseGuidedGenerator

    model = PoseGuidedGenerator.from_pretrained(generator_dir)
    peft_model = attach_lora(model, lora_config(model, 2, 2.0, ["cross_kv", "pose_tokens"]), "guard", generator_dir)
    return save_adapter(peft_model, "guard", out)
