"""Where the GenderCARE model stages read and write (one place, shared by stages, CLI and tests)."""

from __future__ import annotations

from pathlib import Path

GENDERPAIR_DIR = Path("data/processed/genderpair")
DEBIAS_DIR = Path("data/processed/debias")
CORPUS_DIR = Path("data/processed/lm_corpus")
MODELS_DIR = Path("models/gendercare")
PLANTED_DIR = MODELS_DIR / "lm_base"  # the builtin planted model
CONTROL_DIR = MODELS_DIR / "lm_control"
SMOLLM2_DIR = MODELS_DIR / "smollm2"  # convert_lm: SmolLM2-135M-Instruct as safetensors
ASSESS_DIR = Path("metrics/assess_bias")
EVALUATE_DIR = Path("metrics/evaluate_debias")
REPORTS_DIR = Path("reports")
BASE_NAME = "gendercare-lm-base"


def debiased_dir(name: str) -> Path:
    """The merged (LoRA fused) debiased model of ``train_debias.models.<name>``."""
    return MODELS_DIR / f"{name}_debiased"


def adapter_dir(name: str) -> Path:
    """The peft adapter of ``train_debias.models.<name>``."""
    return MODELS_DIR / f"{name}_debiased_adapter"


def registry_name(name: str) -> str:
    """Registered model name of the debiased ``name`` (its gate in params.yaml uses the same name)."""
    return f"gendercare-{name}-debiased"


def report_html(name: str) -> Path:
    """The GenderCARE report of one debiased model."""
    return REPORTS_DIR / f"gendercare_{name}.html"
