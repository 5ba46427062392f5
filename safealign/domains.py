"""Guard domains: which landmark layout, categories, params and paths the shared generator/guard stages use.

``body`` (default) is PoseGuard on MediaPipe-33 poses and keeps the original paths, registry names and
params; ``face`` is the facial-landmark variant (issue 9): the ``face140`` layout, ``face.categories`` and the
overrides in params ``face.<stage section>`` applied on top of the body sections (re-validated). The stages
pretrain_generator, guard_data, train_guard, fuse_guard and evaluate_guard take ``--domain``; this module is
the only place that maps a domain to its paths.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from safealign.errors import ConfigError
from safealign.layouts import BODY, FACE

DOMAINS = ("body", "face")


@dataclass(frozen=True)
class Domain:
    """Paths and names of one domain's guard chain (all relative to the project root)."""

    name: str
    layout: str
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
    registry: str                # model-name prefix: <registry>-base, -adapter-<cat>, -fused

    def categories(self, params: Any) -> list[str]:
        """The unsafe categories guarded in this domain."""
        return list(params.guard.categories if self.name == "body" else params.face.categories)

    def resolution(self, params: Any) -> int:
        """Working resolution of this domain's frames and condition maps."""
        return int(params.guard.resolution if self.name == "body" else params.face.resolution)

    def section(self, params: Any, key: str) -> Any:
        """Params section ``key`` of this domain: the body section, with ``face.<key>`` and the face paths
        applied for the face domain (validated again, so a bad override names its key)."""
        base = getattr(params, key)
        if self.name == "body":
            return base
        update = dict(getattr(params.face, key, {}) or {})
        update.update(self._fixed(key))
        try:
            return type(base).model_validate(_merged(base, update))
        except Exception as exc:  # pydantic ValidationError: one line naming the key
            raise ConfigError(f"face.{key}: invalid override: {str(exc).splitlines()[0:3]}") from None

    def dvc_stage(self, module: str) -> str:
        """The dvc.yaml stage name of ``stages/<module>.py`` run in this domain (MLflow run name and tag)."""
        return module if self.name == "body" else FACE_STAGES[module]

    def metrics_file(self, stage: str) -> Path:
        """Metrics JSON of ``stage`` (``train_guard/<cat>`` style names allowed)."""
        return self.metrics / f"{stage}.json"

    def _fixed(self, key: str) -> dict:
        if key == "pretrain_generator":
            return {"checkpoint_dir": self.checkpoint.as_posix()}
        if key == "evaluate_guard":
            return {"base_model": self.base.as_posix(), "adapters_dir": self.adapters.as_posix(),
                    "fused_model": self.fused.as_posix(), "poses_dir": self.poses_dir.as_posix(),
                    "extracted_manifest": self.extracted_manifest.as_posix()}
        return {}


def _merged(section: BaseModel, update: dict) -> dict:
    """``section`` dumped with ``update`` applied, into nested sections too (an override names only what
    changes there); a dict-valued param (e.g. per-category weights) is replaced whole."""
    out = section.model_dump()
    for key, value in update.items():
        sub = getattr(section, key, None)
        out[key] = _merged(sub, value) if isinstance(sub, BaseModel) and isinstance(value, dict) else value
    return out


# dvc.yaml names of the shared stages run with --domain face.
FACE_STAGES = {"pretrain_generator": "pretrain_face_generator", "guard_data": "face_guard_data",
               "train_guard": "train_face_guard", "fuse_guard": "fuse_face_guard",
               "evaluate_guard": "evaluate_face_guard"}

BODY_DOMAIN = Domain(
    "body", BODY, Path("data/processed/poses"), Path("data/processed/generator_split.parquet"),
    Path("data/interim/extracted/manifest.parquet"), Path("models/generator/base"),
    Path("models/generator/checkpoint"), Path("reports/figures/pretrain_preview.png"),
    Path("data/processed/guard"), Path("models/guard/adapters"), Path("models/guard/fused_adapter"),
    Path("models/guard/fused"), Path("metrics"), Path("metrics/plots/evaluate_guard"),
    Path("reports/poseguard.html"), "poseguard")
FACE_DOMAIN = Domain(
    "face", FACE, Path("data/processed/faces"), Path("data/processed/face_generator_split.parquet"),
    Path("data/interim/faces_extracted/manifest.parquet"), Path("models/face/generator/base"),
    Path("models/face/generator/checkpoint"), Path("reports/figures/face_pretrain_preview.png"),
    Path("data/processed/face_guard"), Path("models/face/guard/adapters"),
    Path("models/face/guard/fused_adapter"), Path("models/face/guard/fused"), Path("metrics/face"),
    Path("metrics/plots/evaluate_face_guard"), Path("reports/faceguard.html"), "faceguard")


def get_domain(name: str) -> Domain:
    """The domain called ``name`` (body | face)."""
    if name == "body":
        return BODY_DOMAIN
    if name == "face":
        return FACE_DOMAIN
    raise ConfigError(f"--domain {name}: unknown (known: {', '.join(DOMAINS)})")


def add_domain_arg(parser: argparse.ArgumentParser) -> None:
    """``--domain body|face`` (default body) for the shared guard stages."""
    parser.add_argument("--domain", default="body", choices=DOMAINS,
                        help="guard domain: body poses (default) or facial landmarks")
