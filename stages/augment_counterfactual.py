"""Stage augment_counterfactual: debiasing data (GenderCARE §3) and the contamination report (§8).

Command: ``python -m stages.augment_counterfactual``
Params:  augment_counterfactual.{validation_file, benchmarks, descriptors_per_target, swap,
validation_fraction,
         exclude_contaminated, balanced}, project.{shared_data, seed}
Inputs:  data/processed/genderpair/{pairs,targets}.parquet (stage build_genderpair);
         <shared_data>/<validation_file> and <shared_data>/<benchmarks>/ when present (skipped and reported if
         not)
Outputs: data/processed/debias/{train,validation}.jsonl, rows {prompt, response, group, target, descriptor,
method}
         with method in anti_template | validation_file | swap | statement | choice (the descriptor-swap
         counterfactuals train_debias reads by default); metrics/augment_counterfactual.json (rows per
         split/group/method, swap in/out/dropped per group, excluded rows); metrics/contamination.json and
         reports/contamination.md (overlap with StereoSet and WinoQueer).
"""

from __future__ import annotations

import sys

from safealign.paths import CONTAMINATION, CONTAMINATION_REPORT, DEBIAS_DIR, GENDERPAIR_DIR, stage_metrics
from safealign.stage import StageContext, run_stage

METRICS = stage_metrics("augment_counterfactual")


def _run(ctx: StageContext) -> dict:
    import pandas as pd

    from safealign.atomic import write_json, write_text
    from safealign.bias.genderpair.contamination import contamination_markdown
    from safealign.bias.genderpair.debias_data import debias_rows, jsonl
    from safealign.errors import InputError

    p = ctx.section("augment_counterfactual")
    shared = (ctx.root / ctx.params.project.shared_data).resolve()
    try:
        pairs = pd.read_parquet(ctx.root / GENDERPAIR_DIR / "pairs.parquet")
        targets = pd.read_parquet(ctx.root / GENDERPAIR_DIR / "targets.parquet")
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{GENDERPAIR_DIR}: pairs/targets tables unreadable ({exc}); run stage build_genderpair"
        ) from None
    out = debias_rows(pairs, targets, p, shared, ctx.params.project.seed)
    if out.validation_path is not None:
        ctx.tracker.log_inputs([out.validation_path])
    for name, split in (("train", out.train), ("validation", out.validation)):
        write_text(ctx.root / DEBIAS_DIR / f"{name}.jsonl", jsonl(split))
    report, metrics = out.contamination, out.metrics
    write_json(ctx.root / METRICS, metrics)
    write_json(ctx.root / CONTAMINATION, report)
    write_text(ctx.root / CONTAMINATION_REPORT, contamination_markdown(report))
    ctx.tracker.log_artifact(ctx.root / CONTAMINATION)
    print(
        f"augment_counterfactual: {len(out.train)} train / {len(out.validation)} validation rows -> {DEBIAS_DIR}; "
        f"validation file {metrics['validation_file']}; benchmarks {report['benchmarks']}; "
        f"{report['training_rows']['contaminated']} contaminated row(s)"
        + (f", {report['excluded_rows']} excluded" if p.exclude_contaminated else "")
    )
    return {
        "train_rows": len(out.train),
        "validation_rows": len(out.validation),
        "contaminated_rows": report["training_rows"]["contaminated"],
        "excluded_rows": metrics["excluded_contaminated"],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see the module docstring)."""
    return run_stage("augment_counterfactual", argv, _run)


if __name__ == "__main__":
    sys.exit(main())
