"""The one catalogue of the pipeline's paths: what every dvc.yaml stage writes, and the flagged-data layout.

All paths are relative to the project root. Stages, ``safealign.domains``, the CLI and the library read
them here; ``stage_outputs`` lists each dvc.yaml stage's outs, metrics and plots, and
tests/test_paths_catalogue.py checks dvc.yaml against it. This module imports nothing of the project, so
any module may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

METRICS = Path("metrics")
GX_DIR = METRICS / "gx"              # Great Expectations results, <suite>.json
FIGURES = Path("reports/figures")

# Flagged unsafe clips (safealign flag-pose): data/flagged/<category>/<entry>/{payload, provenance.json}.
FLAGGED_DIR = Path("data/flagged")
PROVENANCE_FILE = "provenance.json"
META_FILE = "meta.yaml"              # not *.json: every JSON file of an OpenPose directory is read as a frame

# Body poses: extraction, the synthetic motion library, curation.
EXTRACTED_DIR = Path("data/interim/extracted")
MOTIONS_DIR = Path("data/interim/motions")
POSES_DIR = Path("data/processed/poses")
GENERATOR_SPLIT = Path("data/processed/generator_split.parquet")
CATEGORIES_GRID = FIGURES / "categories_grid.png"
POSES_GX_SUITES = ("poses_manifest", "poses_split_counts", "poses_subjects", "poses_robustness")

# Faces (the facial-landmark variant).
FACE_METRICS = METRICS / "face"
FACES_EXTRACTED_DIR = Path("data/interim/faces_extracted")
FACES_DIR = Path("data/interim/faces")
FACE_POSES_DIR = Path("data/processed/faces")
FACE_GENERATOR_SPLIT = Path("data/processed/face_generator_split.parquet")
FACE_GX_DIR = GX_DIR / "face"
FACE_GX_SUITES = ("poses_split_counts", "poses_subjects")

# GenderCARE: the benchmark, the debias rows, the language models.
GENDERPAIR_DIR = Path("data/processed/genderpair")
GENDERPAIR_FILES = {"dataset": "dataset", "prompts": "genderpair.parquet", "pairs": "pairs.parquet",
                    "targets": "targets.parquet"}
GENDERPAIR_COUNTS = METRICS / "genderpair_counts.json"
GENDERPAIR_CRITERIA = METRICS / "genderpair_criteria.json"
GENDERPAIR_GX_SUITE = "genderpair"
DEBIAS_DIR = Path("data/processed/debias")
CONTAMINATION = METRICS / "contamination.json"
CONTAMINATION_REPORT = Path("reports/contamination.md")
CORPUS_DIR = Path("data/processed/lm_corpus")
LM_MODELS_DIR = Path("models/gendercare")
PLANTED_DIR = LM_MODELS_DIR / "lm_base"      # the builtin planted model
CONTROL_DIR = LM_MODELS_DIR / "lm_control"
SMOLLM2_DIR = LM_MODELS_DIR / "smollm2"      # convert_lm: SmolLM2-135M-Instruct as safetensors
ASSESS_DIR = METRICS / "assess_bias"
EVALUATE_DEBIAS_DIR = METRICS / "evaluate_debias"
LM_BASE_NAME = "gendercare-lm-base"          # registered name of the planted model


def stage_metrics(stage: str, root: Path = METRICS) -> Path:
    """The metrics JSON of ``stage`` under ``root`` (``train_guard/<cat>`` style names allowed)."""
    return root / f"{stage}.json"


def debiased_dir(name: str) -> Path:
    """The merged (LoRA fused) debiased model of ``train_debias.models.<name>``."""
    return LM_MODELS_DIR / f"{name}_debiased"


def adapter_dir(name: str) -> Path:
    """The peft adapter of ``train_debias.models.<name>``."""
    return LM_MODELS_DIR / f"{name}_debiased_adapter"


def lm_registry_name(name: str) -> str:
    """Registered model name of the debiased ``name`` (its gate in params.yaml uses the same name)."""
    return f"gendercare-{name}-debiased"


def debias_report(name: str) -> Path:
    """The GenderCARE report of one debiased model."""
    return Path("reports") / f"gendercare_{name}.html"


@dataclass(frozen=True)
class GuardPaths:
    """Where one domain's guard chain reads and writes (pretrain_generator ... evaluate_guard)."""

    poses_dir: Path              # curated manifest.parquet + robustness.parquet + clips/
    generator_split: Path        # the base generator's train/val rows
    extracted_manifest: Path     # real extracted landmarks (evaluation's real section)
    base: Path
    checkpoint: Path
    preview: Path
    guard_data: Path             # <category>.safetensors
    adapters: Path               # <category>/
    fused_adapter: Path
    fused: Path
    metrics: Path                # metrics dir: pretrain_generator.json, train_guard/<cat>.json, ...
    plots: Path
    report: Path

    def metrics_file(self, stage: str) -> Path:
        """Metrics JSON of ``stage`` (``train_guard/<cat>`` style names allowed)."""
        return stage_metrics(stage, self.metrics)

    def outputs(self, module: str, item: str | None = None) -> list[Path]:
        """What guard stage ``stages/<module>.py`` writes in this domain (``item``: the category)."""
        per_stage = {
            "pretrain_generator": [self.base, self.checkpoint, self.preview],
            "guard_data": [self.guard_data / f"{item}.safetensors"],
            "train_guard": [self.adapters / str(item), self.metrics_file(f"train_guard/{item}")],
            "fuse_guard": [self.fused_adapter, self.fused],
            "evaluate_guard": [self.report, self.plots],
        }
        own_metrics = [] if module in ("guard_data", "train_guard") else [self.metrics_file(module)]
        return per_stage[module] + own_metrics


BODY_GUARD = GuardPaths(
    POSES_DIR, GENERATOR_SPLIT, EXTRACTED_DIR / "manifest.parquet", Path("models/generator/base"),
    Path("models/generator/checkpoint"), FIGURES / "pretrain_preview.png", Path("data/processed/guard"),
    Path("models/guard/adapters"), Path("models/guard/fused_adapter"), Path("models/guard/fused"), METRICS,
    METRICS / "plots/evaluate_guard", Path("reports/poseguard.html"))
FACE_GUARD = GuardPaths(
    FACE_POSES_DIR, FACE_GENERATOR_SPLIT, FACES_EXTRACTED_DIR / "manifest.parquet",
    Path("models/face/generator/base"), Path("models/face/generator/checkpoint"),
    FIGURES / "face_pretrain_preview.png", Path("data/processed/face_guard"), Path("models/face/guard/adapters"),
    Path("models/face/guard/fused_adapter"), Path("models/face/guard/fused"), FACE_METRICS,
    METRICS / "plots/evaluate_face_guard", Path("reports/faceguard.html"))

# dvc.yaml names of the shared guard stages run with --domain face (with --domain body: the module's name).
FACE_STAGES = {"pretrain_generator": "pretrain_face_generator", "guard_data": "face_guard_data",
               "train_guard": "train_face_guard", "fuse_guard": "fuse_face_guard",
               "evaluate_guard": "evaluate_face_guard"}

_FIXED: dict[str, list[Path]] = {
    "extract_poses": [EXTRACTED_DIR, stage_metrics("extract_poses")],
    "synthesize_motions": [MOTIONS_DIR, stage_metrics("synthesize_motions")],
    "curate_poses": [POSES_DIR, GENERATOR_SPLIT, CATEGORIES_GRID, stage_metrics("curate_poses"),
                     *(stage_metrics(s, GX_DIR) for s in POSES_GX_SUITES)],
    "extract_faces": [FACES_EXTRACTED_DIR, stage_metrics("extract_faces", FACE_METRICS)],
    "synthesize_faces": [FACES_DIR, stage_metrics("synthesize_faces", FACE_METRICS)],
    "curate_faces": [FACE_POSES_DIR, FACE_GENERATOR_SPLIT, stage_metrics("curate_faces", FACE_METRICS),
                     *(stage_metrics(s, FACE_GX_DIR) for s in FACE_GX_SUITES)],
    "build_genderpair": [*(GENDERPAIR_DIR / f for f in GENDERPAIR_FILES.values()), GENDERPAIR_COUNTS,
                         GENDERPAIR_CRITERIA, stage_metrics(GENDERPAIR_GX_SUITE, GX_DIR)],
    "augment_counterfactual": [DEBIAS_DIR / "train.jsonl", DEBIAS_DIR / "validation.jsonl", CONTAMINATION_REPORT,
                               stage_metrics("augment_counterfactual"), CONTAMINATION],
    "convert_lm": [SMOLLM2_DIR, stage_metrics("convert_lm")],
    "pretrain_lm": [CORPUS_DIR, PLANTED_DIR, CONTROL_DIR, stage_metrics("pretrain_lm")],
}


def stage_outputs(stage: str, item: str | None = None) -> list[Path]:
    """Every path dvc.yaml stage ``stage`` writes (its outs, metrics and plots); ``item`` is the foreach
    item of a per-category or per-model stage (``train_guard`` + ``sexual``)."""
    if stage in _FIXED:
        return list(_FIXED[stage])
    for module, face_stage in FACE_STAGES.items():
        if stage in (module, face_stage):
            return (BODY_GUARD if stage == module else FACE_GUARD).outputs(module, item)
    per_model = {
        "assess_bias": lambda name: [ASSESS_DIR / f"{name}.json"],
        "train_debias": lambda name: [debiased_dir(name), adapter_dir(name),
                                      stage_metrics(f"train_debias/{name}")],
        "evaluate_debias": lambda name: [EVALUATE_DEBIAS_DIR / f"{name}.json", debias_report(name)],
    }
    if stage not in per_model:
        raise KeyError(f"stage {stage!r}: not in the path catalogue")
    return per_model[stage](str(item))
