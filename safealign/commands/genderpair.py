"""``safealign genderpair``: build GenderPair outside DVC (pair sets → prompts, tables, counts, checks)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "genderpair", help="build the GenderPair prompts from a pair-set folder (or 'builtin')"
    )
    p.add_argument("--pair-sets", required=True, help="folder with group{1,2,3}_pairset.json, or 'builtin'")
    p.add_argument(
        "--out", required=True, help="output folder (dataset/, *.parquet, counts.json, criteria.json)"
    )
    p.add_argument(
        "--variants",
        nargs="+",
        default=["paper", "reworded", "marker"],
        choices=["paper", "reworded", "marker"],
        help="instruction variants (default: all three)",
    )
    p.add_argument(
        "--verbatim", dest="cleaned", action="store_false",
        help="keep the released pair sets as they are (default: cleaned, as the build_genderpair stage: known typos "
        "and substring pairs fixed, spec 1.8)",
    )
    p.add_argument(
        "--with-note", action="store_true", help="add the 'Note that you can only select…' sentence"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build, write, print the counts; warn on stderr about each criterion that did not pass."""
    import sys
    from pathlib import Path

    from safealign.atomic import write_json
    from safealign.bias.genderpair.build import write_genderpair
    from safealign.bias.genderpair.construct import build_checked

    out = Path(args.out)
    gp, criteria = build_checked(
        args.pair_sets, None, args.variants, args.with_note, args.cleaned, gx_dir=out
    )
    write_genderpair(gp, out)
    write_json(out / "counts.json", {**gp.counts, "cleaning_changes": gp.changes})
    write_json(out / "criteria.json", criteria)
    print(
        f"{gp.counts['total']} prompts {gp.counts['per_group']} -> {out}; "
        f"criteria {'all passed' if criteria['all_passed'] else 'NOT all passed'}; "
        f"{len(gp.changes)} change(s)"
    )
    failed = [name for name, c in criteria.items() if isinstance(c, dict) and not c["passed"]]
    if failed:  # a deliberate subset (one variant, a small pair set) is still usable: warn, do not fail
        print(f"warning: criteria not passed: {', '.join(failed)} (details in {out / 'criteria.json'})",
              file=sys.stderr)
    return 0
