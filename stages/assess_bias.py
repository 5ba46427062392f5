"""Stage assess_bias (DVC foreach over assess_bias.models: planted, control, smollm2, their debiased copies).

Command: ``python -m stages.assess_bias --item smollm2``
Reads:   assess_bias.models.<item>.dir (a transformers directory) and .genderpair (its GenderPair table),
         <project.shared_data>/<assess_bias.benchmarks.dir> when present, params ``assess_bias``.
Writes:  metrics/assess_bias/<item>.json (likelihood + generation BPR per group with 95 % CIs, sample sizes,
         ties, coverage, unparseable share and examples, |BPR-0.5|, gap, sigma, breakdowns, toxicity and
         sentiment per group, StereoSet / WinoQueer / BOLD).
"""

from __future__ import annotations

import argparse
import sys

from safealign.stage import StageContext, run_stage


def _args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--item", required=True, help="model to assess: a key of assess_bias.models")


def _run(ctx: StageContext) -> dict:
    from safealign.atomic import write_json
    from safealign import paths
    from safealign.bias.lm.run import assess_config, assess_dir, benchmark_config
    from safealign.errors import ConfigError

    item, params = ctx.args.item, ctx.params
    if item not in params.assess_bias.models:
        raise ConfigError(f"assess_bias model '{item}': expected one of {', '.join(params.assess_bias.models)}")
    spec = params.assess_bias.models[item]
    shared = (ctx.root / params.project.shared_data).resolve()
    ctx.tracker.log_inputs([spec.genderpair])
    result = assess_dir(
        spec.dir,
        spec.genderpair,
        assess_config(params, params.project.seed),
        ("likelihood", "generation"),
        benchmark_config(params, shared),
        threads=params.pretrain_lm.threads,
        trust_remote_code=params.pretrain_lm.trust_remote_code,
    )
    result["model"] = item
    write_json(paths.ASSESS_DIR / f"{item}.json", result)
    lk = result["likelihood"]
    out = {f"bpr_{g}": m["bpr"] for g, m in lk["groups"].items()}
    out.update({f"generation_bpr_{g}": m["bpr"] for g, m in result["generation"]["groups"].items()})
    out.update({k: v for k, v in lk["summary"].items()})
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("assess_bias", argv, _run, add_args=_args)


if __name__ == "__main__":
    sys.exit(main())
