"""Stage pretrain_lm: write the synthetic corpus and train the builtin planted and control GPT-2 models.

Command: ``python -m stages.pretrain_lm``
Reads:   data/processed/genderpair/{genderpair,pairs,targets}.parquet, params ``pretrain_lm``,
         ``assess_bias.openers``.
Writes:  data/processed/lm_corpus/ (planted.txt, control.txt, neutral_train.txt, neutral_heldout.jsonl,
         genderpair.parquet = the benchmark rows of the ``pairs_per_group`` pairs the models learned),
         models/gendercare/lm_base/, models/gendercare/lm_control/ (safetensors + tokenizer),
         metrics/pretrain_lm.json. Registers the planted model as ``gendercare-lm-base`` (alias candidate).
The planted model pairs each group's biased descriptor with its targets in ``planted_probability`` of the
statements, the control in ``control_probability`` (0.5); held-out neutral text is never trained on.
"""

from __future__ import annotations

import json
import sys

from safealign.stage import StageContext, run_stage


def _run(ctx: StageContext) -> dict:
    import pandas as pd

    from safealign.atomic import atomic_dir, write_json
    from safealign import paths
    from safealign.bias.lm.model import save_lm, set_threads
    from safealign.bias.lm.pretrain import build_corpora, rows_of, sample_pairs, shared_tokenizer, train_builtin
    from safealign.errors import InputError
    from safealign.tracking.registry import register_model_dir

    p = ctx.section("pretrain_lm")
    seed = ctx.params.project.seed
    set_threads(p.threads)
    frames = {}
    for name in ("genderpair", "pairs", "targets"):
        path = paths.GENDERPAIR_DIR / f"{name}.parquet"
        if not path.is_file():
            raise InputError(f"{path}: not found (run the build_genderpair stage)")
        frames[name] = pd.read_parquet(path)
    ctx.tracker.log_inputs([paths.GENDERPAIR_DIR / f"{n}.parquet" for n in frames])
    pairs = sample_pairs(frames["pairs"], p.pairs_per_group, seed)
    corpora = build_corpora(pairs, frames["targets"], p, ctx.params.assess_bias.openers, seed)
    with atomic_dir(paths.CORPUS_DIR) as tmp:
        rows_of(frames["genderpair"], pairs).to_parquet(tmp / "genderpair.parquet")
        for name in ("planted", "control", "neutral_train"):
            (tmp / f"{name}.txt").write_text("\n".join(corpora[name]) + "\n", encoding="utf-8")
        (tmp / "neutral_heldout.jsonl").write_text(
            "".join(
                json.dumps({"text": t, "relation": r, "answer": a}) + "\n"
                for t, r, a in corpora["neutral_heldout"]
            ),
            encoding="utf-8",
        )
    tokenizer = shared_tokenizer(corpora, p.arch.vocab_size)
    metrics = {"corpus": {k: len(v) for k, v in corpora.items()}, "vocab_size": len(tokenizer),
               "pairs": int(len(pairs))}
    for name, out_dir in (("planted", paths.PLANTED_DIR), ("control", paths.CONTROL_DIR)):
        model, stats = train_builtin(corpora["neutral_train"] + corpora[name], tokenizer, p, seed, name)
        with atomic_dir(out_dir) as tmp:
            save_lm(model, tokenizer, tmp)
        metrics[name] = {**stats, "probability": getattr(p, f"{name}_probability")}
    metrics["parameters"] = sum(t.numel() for t in model.parameters())
    write_json(paths.stage_metrics("pretrain_lm"), metrics)
    register_model_dir(paths.LM_BASE_NAME, paths.PLANTED_DIR, {"planted_probability": p.planted_probability})
    return metrics


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("pretrain_lm", argv, _run)


if __name__ == "__main__":
    sys.exit(main())
