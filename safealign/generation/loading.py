"""``load_generator``: a model directory, fused directory or ``models:/name@alias`` (+ optional adapter)
-> a ready ``PoseGuidedGenerator`` on the chosen device."""

from __future__ import annotations

from pathlib import Path

from safealign.errors import InputError
from safealign.generation.device import resolve_device
from safealign.generation.lora import ADAPTER_CONFIG, load_adapters, merged_generator
from safealign.generation.model import CONFIG_NAME, PoseGuidedGenerator


def resolve_dir(model: str | Path) -> Path:
    """A local directory for a path or a registry URI (mlflow imported only for ``models:/`` URIs)."""
    if str(model).startswith("models:/"):
        from safealign.tracking.registry import resolve_model_dir

        return resolve_model_dir(str(model))
    path = Path(model)
    if not path.is_dir():
        raise InputError(f"model {model}: no such directory "
                         "(expected a generator directory or models:/name@alias)")
    return path


def load_generator(model: str | Path, adapter: str | Path | None = None,
                   device: str = "auto") -> PoseGuidedGenerator:
    """Load a generator; an ``adapter`` (peft directory or registry URI) is folded into the weights.

    ``model`` may itself be an adapter directory whose config names its base (``base_model_name_or_path``).
    """
    model_dir = resolve_dir(model)
    if adapter is None and (model_dir / ADAPTER_CONFIG).is_file() and not (model_dir / CONFIG_NAME).is_file():
        adapter, model_dir = model_dir, _base_of_adapter(model_dir)
    generator = PoseGuidedGenerator.from_pretrained(model_dir)
    if adapter is not None:
        adapter_dir = resolve_dir(adapter)
        generator = merged_generator(load_adapters(generator, {"guard": adapter_dir}))
    generator.requires_grad_(False)
    return generator.to(resolve_device(device)).eval()


def _base_of_adapter(adapter_dir: Path) -> Path:
    import json

    cfg = json.loads((adapter_dir / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    base = cfg.get("base_model_name_or_path")
    if not base or not Path(base).is_dir():
        raise InputError(f"{adapter_dir}: adapter without a usable base_model_name_or_path ({base!r}); "
                         "pass the base model and --adapter")
    return Path(base)
