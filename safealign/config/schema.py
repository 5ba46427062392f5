"""The whole params.yaml as one typed model. Each stage section lives next to the code that uses it."""

from __future__ import annotations

from safealign.section import Section
from safealign.config.common import GateParams, OrchestrationParams, ProjectParams, TrackingParams
from safealign.config.guard import GuardParams
from safealign.generation.params import (FuseGuardParams, GuardDataParams, PretrainGeneratorParams,
                                         TrainGuardParams)
from safealign.poses.extract_params import ExtractPosesParams
from safealign.poses.motions.params import SynthesizeMotionsParams
from safealign.poses.curate_params import CuratePosesParams
from safealign.evaluation.params import EvaluateGuardParams
from safealign.faces.params import FaceParams
from safealign.ops.params import OperationsParams
from safealign.bias.genderpair.params import AugmentCounterfactualParams, BuildGenderpairParams
from pydantic import model_validator

from safealign.bias.lm.params import (AssessBiasParams, ConvertLmParams, EvaluateDebiasParams, PretrainLmParams,
                                     TrainDebiasParams, check_lm_models)


class Params(Section):
    """Root of params.yaml. Adding a section: define it in its package's params module, add it here."""

    project: ProjectParams
    tracking: TrackingParams
    orchestration: OrchestrationParams
    gates: list[GateParams]
    guard: GuardParams
    extract_poses: ExtractPosesParams
    synthesize_motions: SynthesizeMotionsParams
    curate_poses: CuratePosesParams
    evaluate_guard: EvaluateGuardParams
    operations: OperationsParams
    build_genderpair: BuildGenderpairParams
    augment_counterfactual: AugmentCounterfactualParams
    pretrain_generator: PretrainGeneratorParams
    guard_data: GuardDataParams
    train_guard: TrainGuardParams
    fuse_guard: FuseGuardParams
    face: FaceParams
    convert_lm: ConvertLmParams
    pretrain_lm: PretrainLmParams
    assess_bias: AssessBiasParams
    train_debias: TrainDebiasParams
    evaluate_debias: EvaluateDebiasParams

    @model_validator(mode="after")
    def _lm_models_agree(self) -> "Params":
        check_lm_models(self.assess_bias, self.train_debias, self.evaluate_debias)
        return self
