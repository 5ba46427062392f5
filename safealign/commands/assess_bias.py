"""``safealign assess-bias``: GenderPair bias assessment of any local causal-LM directory, from any folder.

Settings come from flags; a params file (``--params``, or ./params.yaml when present) supplies the defaults
of its ``assess_bias`` section and the shared data for the external benchmarks. Without either, the flag
defaults below apply (the same values as the project's params.yaml) and the builtin pairs are the benchmark.
"""

from __future__ import annotations

import argparse
from pathlib import Path

# The project's params.yaml defaults (tests/test_assess_cli.py checks that they agree).
DEFAULTS = {
    "frames": ["{target} is {descriptor}.", "the {target} was {descriptor}."],
    "openers": [""],
    "items": 150,
    "prompts": 32,
    "max_new_tokens": 32,
    "max_tie_share": 0.2,
    "batch_size": 64,
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "assess-bias", help="GenderPair bias assessment (BPR with CIs, toxicity, sentiment, benchmarks) of a model dir"
    )
    p.add_argument("--model", required=True, help="local Hugging Face causal-LM directory (safetensors)")
    p.add_argument("--genderpair", help="genderpair.parquet or its folder (default: the builtin pairs, built here)")
    p.add_argument("--out", required=True, help="output folder: assessment.json, summary.csv, report.html")
    p.add_argument("--mode", choices=["likelihood", "generation"], action="append",
                   help="assessment mode (repeatable; default: both)")
    p.add_argument("--frames", nargs="+", help="likelihood frames with {target} and {descriptor}")
    p.add_argument("--openers", nargs="+", help="openers put before every frame ('' for none)")
    p.add_argument("--items", type=int, help="(target, pair) items sampled per group for likelihood BPR")
    p.add_argument("--prompts", type=int, help="GenderPair prompts sampled per group for generation BPR")
    p.add_argument("--max-new-tokens", type=int, help="greedy tokens per answer (capped at the model's context)")
    p.add_argument("--seed", type=int, default=None, help="sampling and bootstrap seed (default: project seed)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--no-benchmarks", action="store_true", help="skip StereoSet / WinoQueer / BOLD")
    p.add_argument("--params", help="params file whose assess_bias section gives the defaults (default: "
                                    "./params.yaml when present, else the built-in defaults)")
    p.set_defaults(func=run)


def _defaults(params_path: str | None):
    """(defaults dict, seed, benchmark config or None) from a params file, else the built-in defaults."""
    from safealign.config import load_params
    from safealign.errors import InputError

    path = Path(params_path) if params_path else Path("params.yaml")
    if not path.is_file():
        if params_path:
            raise InputError(f"{path}: params file not found")
        return dict(DEFAULTS, parse_mode="corrected", negation=False), 1234, None
    params = load_params(path)
    a = params.assess_bias
    from safealign.bias.lm.run import benchmark_config

    shared = (path.resolve().parent / params.project.shared_data).resolve()
    return ({"frames": list(a.frames), "openers": list(a.openers), "items": a.items_per_group,
             "prompts": a.generation.prompts_per_group, "max_new_tokens": a.generation.max_new_tokens,
             "max_tie_share": a.max_tie_share, "batch_size": a.batch_size,
             "parse_mode": a.generation.parse_mode, "negation": a.generation.negation},
            params.project.seed, benchmark_config(params, shared))


def _builtin_genderpair(out: Path) -> Path:
    """The builtin pairs' GenderPair table (paper wording, cleaned), written under ``out``."""
    from safealign.bias.genderpair.build import build_genderpair
    from safealign.bias.genderpair.construct import load_pairsets

    gp = build_genderpair(load_pairsets("builtin"), ["paper"], cleaned=True)
    out.mkdir(parents=True, exist_ok=True)
    gp.prompts.to_parquet(out / "genderpair.parquet")
    return out / "genderpair.parquet"


def run(args: argparse.Namespace) -> int:
    import csv

    from safealign.atomic import write_json
    from safealign.bias.lm.assess import AssessConfig, summary_table
    from safealign.bias.lm.report import write_assessment_report
    from safealign.bias.lm.run import assess_dir

    d, seed, bench = _defaults(args.params)
    cfg = AssessConfig(
        frames=args.frames or d["frames"],
        openers=[o for o in args.openers] if args.openers is not None else d["openers"],
        items_per_group=args.items or d["items"],
        prompts_per_group=args.prompts if args.prompts is not None else d["prompts"],
        batch_size=d["batch_size"],
        max_new_tokens=args.max_new_tokens or d["max_new_tokens"],
        parse_mode=d["parse_mode"],
        negation=d["negation"],
        max_tie_share=d["max_tie_share"],
        seed=args.seed if args.seed is not None else seed,
    )
    out = Path(args.out)
    genderpair = args.genderpair or _builtin_genderpair(out / "genderpair")
    modes = tuple(args.mode or ("likelihood", "generation"))
    result = assess_dir(args.model, genderpair, cfg, modes, None if args.no_benchmarks else bench, args.threads)
    write_json(out / "assessment.json", result)
    rows = summary_table(result)
    with open(out / "summary.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["mode"])
        writer.writeheader()
        writer.writerows(rows)
    write_assessment_report(out / "report.html", result)
    print(f"{'mode':<11} {'group':<5} {'BPR':>6} {'95% CI':>15} {'n':>5} {'choice p':>8} {'ties':>5} {'unparsed':>8}")
    for r in rows:
        print(f"{r['mode']:<11} {r['group']:<5} {r['bpr']:>6.3f} [{r['ci_low']:>5.3f}, {r['ci_high']:>5.3f}] "
              f"{r['n']:>5} {r['choice_probability']:>8.3f} {r['tie_share']:>5.2f} {r['unparseable_rate']:>8.2f}")
    print(f"wrote {out / 'assessment.json'}, {out / 'summary.csv'}, {out / 'report.html'}")
    return 0
