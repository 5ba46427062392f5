"""PoseGuard adapters with peft: LoRA where concept erasure acts (the cross-attention keys and values that read
the posture tokens, and the posture-token encoder), peft-format save/load, and weighted fusion of
per-category adapters (poseguard.md D6-D9).

Adapters are saved as ``adapter_config.json`` + ``adapter_model.safetensors`` (what
``PeftModel.from_pretrained`` reads); module names are those of ``PoseGuidedGenerator``
(``unet.<...>.attn2.to_k``, ``pose_tokens.blocks.0.fc1``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import torch
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict
from safetensors.torch import save_file

from safealign.errors import ConfigError, InputError
from safealign.generation.model import PoseGuidedGenerator

# Named groups of guard targets (params ``train_guard.targets``).
TARGET_GROUPS = ("cross_kv", "cross_qo", "pose_tokens", "self_attention", "pose_guider")
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


def adapter_name(category: str) -> str:
    """peft adapter name of a category (prefixed: names that are substrings of 'lora_' break peft)."""
    return f"guard_{category}"


def guard_targets(model: PoseGuidedGenerator, groups: Sequence[str]) -> list[str]:
    """Full module names of the target ``groups``: ``cross_kv`` = every cross-attention's to_k / to_v (what
    the posture tokens become inside the UNet: where ESD-x, UCE and MACE edit a concept), ``cross_qo`` = its
    to_q / to_out.0, ``pose_tokens`` = the posture-token encoder's linear layers, ``self_attention`` = attn1
    projections, ``pose_guider`` = the PoseGuider convs. Exact names, so nothing else is matched."""
    unknown = sorted(set(groups) - set(TARGET_GROUPS))
    if unknown or not groups:
        raise ConfigError(f"train_guard.targets: expected a non-empty list of {', '.join(TARGET_GROUPS)}, "
                          f"received {list(groups)}")
    names = []
    for name, module in model.named_modules():
        leaf = name.rsplit(".", 1)[-1]
        linear = isinstance(module, torch.nn.Linear)
        if "cross_kv" in groups and linear and ".attn2." in name and leaf in ("to_k", "to_v"):
            names.append(name)
        elif "cross_qo" in groups and linear and ".attn2." in name and name.endswith(("to_q", "to_out.0")):
            names.append(name)
        elif "self_attention" in groups and linear and ".attn1." in name and name.endswith(
                ("to_q", "to_k", "to_v", "to_out.0")):
            names.append(name)
        elif "pose_tokens" in groups and linear and name.startswith("pose_tokens."):
            names.append(name)
        elif "pose_guider" in groups and name.startswith("pose_guider.") and isinstance(module, torch.nn.Conv2d):
            names.append(name)
    return names


def lora_config(model: PoseGuidedGenerator, rank: int, alpha: float, groups: Sequence[str]) -> LoraConfig:
    """LoraConfig of a guard adapter on the target ``groups`` (``guard_targets``)."""
    return LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules=guard_targets(model, groups),
                      bias="none", init_lora_weights=True)


def attach_lora(model: PoseGuidedGenerator, config: LoraConfig, name: str,
                base_dir: str | Path | None = None) -> PeftModel:
    """Freeze the generator and wrap it with one trainable LoRA adapter ``name``.

    ``base_dir`` is recorded as the adapter's ``base_model_name_or_path`` (provenance; ``load_generator``
    follows it when given an adapter directory alone).
    """
    model.requires_grad_(False)
    peft_model = get_peft_model(model, config, adapter_name=name)
    if base_dir is not None:
        peft_model.peft_config[name].base_model_name_or_path = str(Path(base_dir).resolve())
    return peft_model


def save_adapter(peft_model: PeftModel, name: str, directory: str | Path) -> Path:
    """Write adapter ``name`` in peft format into ``directory`` (adapter weights only)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = peft_model.peft_config[name]
    state = get_peft_model_state_dict(peft_model, adapter_name=name, save_embedding_layers=False)
    save_file({k: v.detach().contiguous().cpu() for k, v in state.items()}, str(directory / ADAPTER_WEIGHTS))
    config.save_pretrained(str(directory))
    return directory


def load_adapters(model: PoseGuidedGenerator, adapters: dict[str, str | Path]) -> PeftModel:
    """Wrap ``model`` with the peft adapters ``{name: dir}`` (all loaded, the first one active)."""
    if not adapters:
        raise ConfigError("no adapters to load")
    peft_model = None
    for name, directory in adapters.items():
        directory = Path(directory)
        if not (directory / ADAPTER_CONFIG).is_file() or not (directory / ADAPTER_WEIGHTS).is_file():
            raise InputError(f"{directory}: not a peft adapter directory "
                             f"({ADAPTER_CONFIG} + {ADAPTER_WEIGHTS})")
        if peft_model is None:
            peft_model = PeftModel.from_pretrained(model, str(directory), adapter_name=name)
        else:
            peft_model.load_adapter(str(directory), adapter_name=name)
    peft_model.eval()
    return peft_model


def merged_generator(peft_model: PeftModel) -> PoseGuidedGenerator:
    """Fold the active adapter into the weights: a plain generator with the base's inference cost."""
    return peft_model.merge_and_unload()


def adapter_summary(directory: str | Path) -> dict:
    """rank, alpha and targets of a saved adapter (for metrics and registry tags)."""
    cfg = json.loads((Path(directory) / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    return {"r": cfg.get("r"), "lora_alpha": cfg.get("lora_alpha"),
            "target_modules": sorted(cfg.get("target_modules") or [])}
