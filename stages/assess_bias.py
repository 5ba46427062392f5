"""Stage assess_bias (DVC foreach over assess_bias.models: base, control, debiased).

Command: ``python -m stages.assess_bias --item base``
Reads:   the model directory of the item (base = models/gendercare/lm_base or pretrain_lm.base,
         control = models/gendercare/lm_control, debiased = models/gendercare/lm_debiased),
         data/processed/genderpair/genderpair.parquet, <project.shared_data>/<assess_bias.benchmarks.dir>
         when present, params ``assess_bias``, ``pretrain_lm.corpus.frames``.
Writes:  metrics/assess_bias/<item>.json (likelihood + generation BPR per group with |BPR-0.5|, gap, sigma and
         breakdowns, toxicity and sentiment per group, StereoSet / WinoQueer / BOLD).
"""

from __future__ import annotations

import argparse
import sys

from safealign.stage import StageContext, run_stage


def _args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--item", required=True, help="model to assess: base, control or debiased")


def _run(ctx: StageContext) -> dict:
    from safealign.atomic import write_json
    from safealign.bias.lm import paths
    from safealign.bias.lm.run import assess_dir

    item = ctx.args.item
    model_dir = paths.model_dir(item, ctx.params.pretrain_lm.base)
    shared = (ctx.root / ctx.params.project.shared_data).resolve()
    ctx.tracker.log_inputs([paths.GENDERPAIR_DIR / "genderpair.parquet"])
    result = assess_dir(
        model_dir,
        paths.GENDERPAIR_DIR,
        ctx.params,
        ("likelihood", "generation"),
        shared if shared.is_dir() else None,
    )
    result["model"] = item
    write_json(paths.ASSESS_DIR / f"{item}.json", result)
    lk = result["likelihood"]
    out = {f"bpr_{g}": m["bpr"] for g, m in lk["groups"].items()}
    out.update({k: v for k, v in lk["summary"].items()})
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("assess_bias", argv, _run, add_args=_args)


if __name__ == "__main__":
    sys.exit(main())
