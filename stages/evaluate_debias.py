"""Stage evaluate_debias: before / after bias metrics, reductions, utility change, HTML report, gate figures.

Command: ``python -m stages.evaluate_debias``
Reads:   metrics/assess_bias/{base,control,debiased}.json, the base and debiased model directories,
         data/processed/lm_corpus/neutral_heldout.jsonl, params ``evaluate_debias``, ``train_debias.mode``,
         ``pretrain_lm``.
Writes:  metrics/evaluate_debias.json (``gate.bpr_cut_min``, ``gate.utility_change_abs_max`` read by the
         ``gendercare-lm-debiased`` gate), reports/gendercare.html.
"""

from __future__ import annotations

import sys

from safealign.stage import StageContext, run_stage


def _run(ctx: StageContext) -> dict:
    import json

    from safealign.atomic import write_json
    from safealign.bias.lm import paths
    from safealign.bias.lm.compare import debias_summary
    from safealign.bias.lm.corpus import cloze_items
    from safealign.bias.lm.model import load_lm, set_threads
    from safealign.bias.lm.report import write_report
    from safealign.bias.lm.utility import utility
    from safealign.errors import InputError

    p, pre = ctx.section("evaluate_debias"), ctx.params.pretrain_lm
    set_threads(pre.threads)
    assessments = {}
    for name in ("base", "control", "debiased"):
        path = paths.ASSESS_DIR / f"{name}.json"
        if not path.is_file():
            raise InputError(f"{path}: not found (run assess_bias@{name})")
        assessments[name] = json.loads(path.read_text(encoding="utf-8"))
    held_path = paths.CORPUS_DIR / "neutral_heldout.jsonl"
    held = [json.loads(line) for line in held_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [h["text"] for h in held]
    cloze = cloze_items(
        [(h["text"], h["relation"], h["answer"]) for h in held],
        p.cloze_items,
        p.cloze_choices,
        ctx.params.project.seed,
    )
    utils = {}
    for name in ("base", "debiased"):
        model, tok = load_lm(paths.model_dir(name, pre.base), pre.trust_remote_code)
        utils[name] = utility(model, tok, texts, cloze, ctx.params.assess_bias.batch_size)
    builtin = pre.base == "builtin"
    summary = debias_summary(
        assessments["base"],
        assessments["debiased"],
        assessments["control"],
        utils["base"],
        utils["debiased"],
        pre.planted_probability if builtin else None,
        pre.control_probability,
    )
    summary["mode"] = ctx.params.train_debias.mode
    write_json(paths.EVALUATE_JSON, summary)
    settings = {
        "mode": summary["mode"],
        "planted_probability": pre.planted_probability if builtin else None,
        "min_bpr_cut": p.min_bpr_cut,
        "max_utility_change_pct": p.max_utility_change_pct,
        "notes": [
            f"LoRA lr {ctx.params.train_debias.lr} and {ctx.params.train_debias.epochs} epochs are "
            "adapted to the 0.6 M-parameter model (the 7B recipe's 1e-4 x 2 epochs barely moves it).",
            f"LoRA targets: {', '.join(ctx.params.train_debias.lora.target_modules)}; with the output "
            "head frozen the planted preference only fell to ~0.62 (about 65 % of the cut).",
            "Likelihood BPR = mean P(B) / (P(B) + P(A)) over items and held-out frames; the win rate "
            "(share of items with P(B) > P(A)) is in the per-group table.",
        ],
    }
    write_report(paths.REPORT_HTML, summary, assessments, settings)
    return {
        "bpr_cut_min": summary["gate"]["bpr_cut_min"],
        "utility_change_abs_max": summary["gate"]["utility_change_abs_max"],
        "gap_cut": summary["gap_cut"],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("evaluate_debias", argv, _run)


if __name__ == "__main__":
    sys.exit(main())
