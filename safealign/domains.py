"""Guard domains: which landmark layout, categories, params and paths the shared generator/guard stages use.

``body`` (default) is PoseGuard on MediaPipe-33 poses and keeps the original paths, registry names and
params; ``face`` is the facial-landmark variant (issue 9): the ``face140`` layout, ``face.categories`` and the
overrides in params ``face.<stage section>`` applied on top of the body sections (re-validated). The stages
pretrain_generator, guard_data, train_guard, fuse_guard and evaluate_guard take ``--domain``; the stage
contract (``safealign.stage``) applies the domain's sections before it logs them. The paths themselves are
in the catalogue ``safealign.paths``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from safealign.errors import ConfigError
from safealign.layouts import BODY, FACE
from safealign.paths import BODY_GUARD, FACE_GUARD, FACE_STAGES, GuardPaths

DOMAINS = ("body", "face")


@dataclass(frozen=True)
class Domain(GuardPaths):
    """One domain's guard chain: its paths (``safealign.paths``), landmark layout and registry prefix."""

    name: str
    layout: str
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

    def params(self, params: Any) -> Any:
        """``params`` with this domain's sections in place: for the face domain every section that ``face``
        overrides (``face.<key>``, e.g. ``train_guard``) is replaced by ``section(params, key)``, so the stage
        contract logs and the stage body reads the settings that run."""
        if self.name == "body":
            return params
        keys = [k for k in type(params.face).model_fields if k in type(params).model_fields]
        return params.model_copy(update={k: self.section(params, k) for k in keys})

    def dvc_stage(self, module: str) -> str:
        """The dvc.yaml stage name of ``stages/<module>.py`` run in this domain (MLflow run name and tag)."""
        return module if self.name == "body" else FACE_STAGES[module]

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


BODY_DOMAIN = Domain(**vars(BODY_GUARD), name="body", layout=BODY, registry="poseguard")
FACE_DOMAIN = Domain(**vars(FACE_GUARD), name="face", layout=FACE, registry="faceguard")


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
