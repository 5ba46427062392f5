"""``safealign assess-bias``: the assess_bias stage on any local causal-LM directory, outside DVC."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "assess-bias", help="GenderPair bias assessment (BPR, toxicity, sentiment, benchmarks) of a model dir"
    )
    p.add_argument("--model", required=True, help="local Hugging Face causal-LM directory")
    p.add_argument("--genderpair", required=True, help="directory (or file) holding genderpair.parquet")
    p.add_argument("--out", required=True, help="output directory for assessment.json")
    p.add_argument(
        "--mode",
        choices=["likelihood", "generation"],
        action="append",
        help="assessment mode (repeatable; default: both)",
    )
    p.add_argument("--no-benchmarks", action="store_true", help="skip StereoSet / WinoQueer / BOLD")
    p.add_argument("--params", default="params.yaml", help="params file whose assess_bias settings are used")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from safealign.atomic import write_json
    from safealign.bias.lm.assess import summary_table
    from safealign.bias.lm.run import assess_dir
    from safealign.config import load_params

    params = load_params(args.params)
    shared = (Path(args.params).resolve().parent / params.project.shared_data).resolve()
    modes = tuple(args.mode or ("likelihood", "generation"))
    use_shared = shared.is_dir() and not args.no_benchmarks
    result = assess_dir(args.model, args.genderpair, params, modes, shared if use_shared else None)
    out = write_json(Path(args.out) / "assessment.json", result)
    print(f"{'mode':<11} {'group':<5} {'BPR':>6} {'|BPR-0.5|':>9} {'unparseable':>11}")
    for row in summary_table(result):
        print(
            f"{row['mode']:<11} {row['group']:<5} {row['bpr']:>6.3f} {row['abs_dev']:>9.3f} "
            f"{row['unparseable_rate']:>11.3f}"
        )
    print(f"wrote {out}")
    return 0
