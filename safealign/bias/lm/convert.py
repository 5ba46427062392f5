"""A GGUF model shipped inside a Python package, converted once into a safetensors transformers directory.

transformers reads the GGUF (through the ``gguf`` package) and dequantises it to float32; the result is
re-instantiated from its config so that it saves like any model (a GGUF-loaded model refuses to save).
The package is located without importing it (its ``__init__`` may import runtimes that are not installed).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from safealign.errors import InputError


def packaged_file(package: str, name: str) -> Path:
    """``name`` inside the installed ``package``, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"package {package!r} is not installed (requirements-nodeps.txt; run make env)")
    path = Path(list(spec.submodule_search_locations)[0]) / name
    if not path.is_file():
        raise InputError(f"{path}: not found in package {package!r}")
    return path


def convert_gguf(gguf: Path, out_dir: Path) -> dict:
    """Load ``gguf`` with transformers (float32), save model (safetensors) and tokenizer to ``out_dir``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), strict=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tok.save_pretrained(out_dir)
    return {
        "architecture": type(model).__name__,
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab_size": len(tok),
        "chat_template": bool(getattr(tok, "chat_template", None)),
        "source": str(gguf.name),
    }
