"""Stage evaluate_guard: base vs single-category adapters vs fused guard on held-out clips.

Command: python -m stages.evaluate_guard [--domain body|face]
Inputs:  data/processed/poses/{manifest.parquet, robustness.parquet, clips/}, models/generator/base,
         models/guard/adapters/<category>, models/guard/fused,
         data/interim/extracted/manifest.parquet (optional),
         real pose render and reference image under project.shared_data (optional)
Params:  evaluate_guard.*, guard.categories, guard.resolution, project.seed, project.device, gates
Outputs: metrics/evaluate_guard.json (flat keys the gate reads),
         metrics/plots/evaluate_guard/robustness_*.csv,
         reports/poseguard.html (self-contained)
Domain face: data/processed/faces, models/face/{generator/base,guard/adapters,guard/fused},
         data/interim/faces_extracted -> metrics/face/evaluate_guard.json,
         metrics/plots/evaluate_face_guard/, reports/faceguard.html; gated model faceguard-fused;
         params with the ``face.evaluate_guard`` overrides (safealign/domains.py).
"""

from __future__ import annotations

import sys

from safealign.atomic import write_json
from safealign.domains import add_domain_arg, get_domain
from safealign.stage import StageContext, run_stage


def _run(ctx: StageContext) -> dict:
    from safealign.evaluation.outputs import write_robustness_plots
    from safealign.evaluation.run_guard_eval import evaluate_guard
    from safealign.generation.device import set_threads

    dom = get_domain(ctx.args.domain)
    set_threads(ctx.params.pretrain_generator.torch_threads)  # the one CPU-thread knob of generator stages
    result = evaluate_guard(ctx.root, ctx.params, dom, ctx.tracker.log_inputs)
    write_robustness_plots(result.robustness, dom.categories(ctx.params), dom.plots)
    metrics_file = dom.metrics_file("evaluate_guard")
    write_json(metrics_file, result.metrics)
    result.report.write(dom.report)
    ctx.tracker.log_artifact(dom.report)
    ctx.tracker.log_artifact(metrics_file)
    print("\n".join(result.gate_lines))
    return {k: v for k, v in result.metrics.items() if k != "threshold_rule"}


def main(argv: list[str] | None = None) -> int:
    """Run the evaluate_guard stage."""
    return run_stage("evaluate_guard", argv, _run, add_args=add_domain_arg)


if __name__ == "__main__":
    sys.exit(main())
