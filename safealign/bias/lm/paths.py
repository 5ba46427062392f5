"""Where the GenderCARE model stages read and write (one place, shared by stages, CLI and tests)."""

from __future__ import annotations

from pathlib import Path

GENDERPAIR_DIR = Path("data/processed/genderpair")
DEBIAS_DIR = Path("data/processed/debias")
CORPUS_DIR = Path("data/processed/lm_corpus")
MODELS_DIR = Path("models/gendercare")
PLANTED_DIR = MODELS_DIR / "lm_base"  # the builtin planted model
CONTROL_DIR = MODELS_DIR / "lm_control"
DEBIASED_DIR = MODELS_DIR / "lm_debiased"  # LoRA fused into the base
ADAPTER_DIR = MODELS_DIR / "lm_debiased_adapter"
ASSESS_DIR = Path("metrics/assess_bias")
EVALUATE_JSON = Path("metrics/evaluate_debias.json")
REPORT_HTML = Path("reports/gendercare.html")
BASE_NAME = "gendercare-lm-base"
DEBIASED_NAME = "gendercare-lm-debiased"


def base_model_dir(base: str) -> Path:
    """The model that is assessed as 'base' and debiased: the builtin planted model or a local HF dir."""
    return PLANTED_DIR if base == "builtin" else Path(base)


def model_dir(name: str, base: str) -> Path:
    """Directory of an assessed model by its foreach name: base, control or debiased."""
    dirs = {"base": base_model_dir(base), "control": CONTROL_DIR, "debiased": DEBIASED_DIR}
    if name not in dirs:
        from safealign.errors import ConfigError

        raise ConfigError(f"assess_bias model '{name}': expected one of {', '.join(dirs)}")
    return dirs[name]
