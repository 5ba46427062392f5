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

import json
import sys
from pathlib import Path

from safealign.stage import StageContext, run_stage

GENDERPAIR = Path("data/processed/genderpair")
OUT_DIR = Path("data/processed/debias")
METRICS = Path("metrics/augment_counterfactual.json")
CONTAMINATION = Path("metrics/contamination.json")
REPORT = Path("reports/contamination.md")


def _run(ctx: StageContext) -> dict:
    import pandas as pd

    from safealign.atomic import write_json, write_text
    from safealign.bias.genderpair import contamination as cont
    from safealign.bias.genderpair import counterfactual as cf
    from safealign.bias.genderpair.balanced import balanced_rows
    from safealign.errors import InputError

    p = ctx.section("augment_counterfactual")
    seed = ctx.params.project.seed
    shared = (ctx.root / ctx.params.project.shared_data).resolve()
    try:
        pairs = pd.read_parquet(ctx.root / GENDERPAIR / "pairs.parquet")
        targets = pd.read_parquet(ctx.root / GENDERPAIR / "targets.parquet")
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{GENDERPAIR}: pairs/targets tables unreadable ({exc}); run stage build_genderpair"
        ) from None
    rows = cf.anti_template_rows(pairs, targets, p.descriptors_per_target, seed)
    validation_path = shared / p.validation_file if p.validation_file else None
    released = (
        cf.read_validation_file(validation_path) if validation_path and validation_path.is_file() else []
    )
    if released:
        ctx.tracker.log_inputs([validation_path])
    rows += released
    swap_report = {}
    if p.swap:
        rows, swap_report = cf.counterfactual_rows(rows, seed)
    else:
        rows = [{**r, "source_row": k} for k, r in enumerate(rows)]
    b = p.balanced
    rows += balanced_rows(pairs, targets, b.statements_per_pair, b.choices_per_pair, list(b.frames),
                          list(b.openers), seed, first_source_row=len(rows))
    bench = cont.load_benchmarks(shared / p.benchmarks)
    frame = pd.DataFrame(rows)
    report = cont.contamination_report(pairs, targets, frame[frame["method"] == "validation_file"], bench)
    mask = cont.contaminated_mask(frame, bench)
    report["training_rows"] = {"rows": int(len(frame)), "contaminated": int(mask.sum())}
    if p.exclude_contaminated:
        rows = [r for r, bad in zip(rows, mask) if not bad]
        report["excluded_rows"] = int(mask.sum())
    train, validation = cf.split_rows(rows, p.validation_fraction, seed)
    for name, split in (("train", train), ("validation", validation)):
        write_text(
            ctx.root / OUT_DIR / f"{name}.jsonl",
            "".join(json.dumps({k: r[k] for k in cf.OUTPUT_KEYS}, ensure_ascii=False) + "\n" for r in split),
        )
    metrics = {
        "train": cf.count_rows(train),
        "validation": cf.count_rows(validation),
        "train_rows": len(train),
        "validation_rows": len(validation),
        "swap": swap_report,
        "validation_file": "read" if released else "absent",
        "excluded_contaminated": report.get("excluded_rows", 0),
        "benchmarks": report["benchmarks"],
    }
    write_json(ctx.root / METRICS, metrics)
    write_json(ctx.root / CONTAMINATION, report)
    write_text(ctx.root / REPORT, cont.contamination_markdown(report))
    ctx.tracker.log_artifact(ctx.root / CONTAMINATION)
    print(
        f"augment_counterfactual: {len(train)} train / {len(validation)} validation rows -> {OUT_DIR}; "
        f"validation file {metrics['validation_file']}; benchmarks {report['benchmarks']}; "
        f"{report['training_rows']['contaminated']} contaminated row(s)"
        + (f", {report['excluded_rows']} excluded" if p.exclude_contaminated else "")
    )
    return {
        "train_rows": len(train),
        "validation_rows": len(validation),
        "contaminated_rows": report["training_rows"]["contaminated"],
        "excluded_rows": metrics["excluded_contaminated"],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see the module docstring)."""
    return run_stage("augment_counterfactual", argv, _run)


if __name__ == "__main__":
    sys.exit(main())
