"""Stage build_genderpair: the GenderPair benchmark prompts (GenderCARE §1).

Command: ``python -m stages.build_genderpair``
Params:  build_genderpair.{pair_sets, variants, cleaned, with_note, max_targets_per_type}, project.shared_data
Inputs:  <project.shared_data>/<pair_sets>/group{1,2,3}_pairset.json, or the builtin pair sets when that
         folder is absent (or pair_sets is 'builtin')
Outputs: data/processed/genderpair/{dataset/ (HF save_to_disk), genderpair.parquet, pairs.parquet,
targets.parquet};
         metrics/genderpair_counts.json (counts per group/type/variant/config/source, spec check, cleaning
         log); metrics/genderpair_criteria.json (the paper's six criteria); metrics/gx/genderpair.json (GX
         suite).
The GX suite failing stops the stage (exit 1) with the failed expectations named.
"""

from __future__ import annotations

import sys

from safealign.paths import GENDERPAIR_COUNTS as COUNTS
from safealign.paths import GENDERPAIR_CRITERIA as CRITERIA
from safealign.paths import GENDERPAIR_DIR as OUT_DIR
from safealign.paths import GX_DIR
from safealign.stage import StageContext, run_stage


def _run(ctx: StageContext) -> dict:
    from safealign.atomic import write_json
    from safealign.bias.genderpair.build import write_genderpair
    from safealign.bias.genderpair.construct import build_checked

    p = ctx.section("build_genderpair")
    shared = (ctx.root / ctx.params.project.shared_data).resolve()

    pair_sets = p.pair_sets
    if pair_sets != "builtin" and not (shared / pair_sets).is_dir():
        print(f"build_genderpair: {shared / pair_sets} absent: the builtin pair sets are the benchmark")
        pair_sets = "builtin"
    if pair_sets != "builtin":
        ctx.tracker.log_inputs([shared / pair_sets])
    gp, criteria = build_checked(
        pair_sets,
        shared,
        list(p.variants),
        p.with_note,
        p.cleaned,
        p.max_targets_per_type,
        gx_dir=ctx.root / GX_DIR,
    )
    paths = write_genderpair(gp, ctx.root / OUT_DIR)
    write_json(ctx.root / COUNTS, {**gp.counts, "pair_sets_used": pair_sets, "cleaning_changes": gp.changes})
    write_json(ctx.root / CRITERIA, criteria)
    ctx.tracker.log_artifact(ctx.root / COUNTS)
    ctx.tracker.log_artifact(ctx.root / CRITERIA)
    print(
        f"build_genderpair: {gp.counts['total']} prompts {gp.counts['per_group']} -> {paths['prompts']}; "
        f"criteria {'all passed' if criteria['all_passed'] else 'NOT all passed'}; "
        f"{len(gp.changes)} cleaning change(s)"
    )
    metrics = {f"prompts_{g}": n for g, n in gp.counts["per_group"].items()}
    metrics.update(
        prompts_total=gp.counts["total"],
        cleaning_changes=len(gp.changes),
        criteria_passed=sum(c["passed"] for k, c in criteria.items() if k != "all_passed"),
    )
    return metrics


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see the module docstring)."""
    return run_stage("build_genderpair", argv, _run)


if __name__ == "__main__":
    sys.exit(main())
