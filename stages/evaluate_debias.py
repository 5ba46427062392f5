"""Stage evaluate_debias (DVC foreach over train_debias.models): before / after bias metrics, utility change,
collapse check, HTML report, gate figures.

Command: ``python -m stages.evaluate_debias --item smollm2``
Reads:   metrics/assess_bias/{<item>,<item>_debiased[,<control>]}.json, the base and debiased model
         directories; utility text: data/processed/lm_corpus/neutral_heldout.jsonl (``utility: synthetic``) or
         the Lee news corpus and Google analogies packaged with gensim (``utility: real``); params
         ``evaluate_debias``, ``train_debias``, ``pretrain_lm``.
Writes:  metrics/evaluate_debias/<item>.json (``gate.*`` read by the gendercare-<item>-debiased gate),
         reports/gendercare_<item>.html.
"""

from __future__ import annotations

import argparse
import sys

from safealign.stage import StageContext, run_stage


def _args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--item", required=True, help="debiased model to evaluate: a key of train_debias.models")


def _utility(ctx: StageContext, kind: str):
    """(function model, tok -> utility dict, description) for ``synthetic`` or ``real`` utility."""
    import json

    from safealign import paths
    from safealign.bias.lm import utility as U
    from safealign.bias.lm.corpus import cloze_items

    p, batch = ctx.params.evaluate_debias, ctx.params.assess_bias.batch_size
    if kind == "synthetic":
        path = paths.CORPUS_DIR / "neutral_heldout.jsonl"
        held = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        texts = [h["text"] for h in held]
        cloze = cloze_items([(h["text"], h["relation"], h["answer"]) for h in held], p.cloze_items,
                            p.cloze_choices, ctx.params.project.seed)
        return (lambda m, t: U.utility(m, t, texts, cloze, batch),
                "Held-out synthetic sentences (never trained on): perplexity and a 4-way cloze on the last word.")
    analogies = U.analogy_items(p.analogy_items, p.analogy_choices, ctx.params.project.seed)
    news = U.heldout_news(p.heldout_docs)
    return (lambda m, t: U.real_utility(m, t, U.truncate_tokens(t, news, p.heldout_max_tokens), analogies, batch),
            f"Perplexity on {len(news)} Lee news documents (gensim test data; no debiasing row comes from them) and "
            f"accuracy on {len(analogies)} Google analogy questions (Mikolov et al. 2013, gensim's questions-words.txt, "
            "'family' section left out as gendered), 'a is to b as c is to' scored by log-likelihood of "
            f"{p.analogy_choices} choices. Change in percent, negative = worse.")


def _run(ctx: StageContext) -> dict:
    import json

    from safealign.atomic import write_json
    from safealign import paths
    from safealign.bias.lm.compare import collapse_check, debias_summary
    from safealign.bias.lm.model import load_lm, set_threads
    from safealign.bias.lm.report import write_report
    from safealign.errors import ConfigError, InputError

    name, params = ctx.args.item, ctx.params
    if name not in params.train_debias.models:
        raise ConfigError(f"evaluate_debias model '{name}': expected one of {', '.join(params.train_debias.models)}")
    p, pre, spec = params.evaluate_debias, params.pretrain_lm, params.evaluate_debias.models[name]
    set_threads(pre.threads)
    wanted = {"base": name, "debiased": f"{name}_debiased", **({"control": spec.control} if spec.control else {})}
    assessments = {}
    for role, key in wanted.items():
        path = paths.ASSESS_DIR / f"{key}.json"
        if not path.is_file():
            raise InputError(f"{path}: not found (run assess_bias@{key})")
        assessments[role] = json.loads(path.read_text(encoding="utf-8"))
    measure, utility_text = _utility(ctx, spec.utility)
    utils = {}
    for role in ("base", "debiased"):
        model, tok = load_lm(params.assess_bias.models[wanted[role]].dir, pre.trust_remote_code)
        utils[role] = measure(model, tok)
    collapse = collapse_check(utils["base"], utils["debiased"], p.collapse_ppl_ratio, p.collapse_top_token_share)
    truth = None
    if spec.utility == "synthetic":  # the builtin corpus: its planted truth is known
        q = pre.planted_probability
        truth = {"planted": q, "control": pre.control_probability,
                 "planted_win_rate": 1.0 if q > 0.5 else (0.0 if q < 0.5 else 0.5)}
    summary = debias_summary(assessments["base"], assessments["debiased"], assessments.get("control"),
                             utils["base"], utils["debiased"], collapse, truth)
    summary["mode"] = params.train_debias.mode
    summary["model"] = name
    write_json(paths.EVALUATE_DEBIAS_DIR / f"{name}.json", summary)
    settings = {
        "name": name,
        "mode": summary["mode"],
        "min_bpr_cut": p.min_bpr_cut,
        "max_utility_change_pct": p.max_utility_change_pct,
        "utility_text": utility_text,
        "notes": [f"LoRA on {', '.join(params.train_debias.models[name].lora.target_modules)}, "
                  f"lr {params.train_debias.models[name].lr}, replay: {params.train_debias.models[name].replay}."],
    }
    write_report(paths.debias_report(name), summary, assessments, settings)
    return {k: v for k, v in summary["gate"].items()}


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("evaluate_debias", argv, _run, add_args=_args)


if __name__ == "__main__":
    sys.exit(main())
