"""Stage train_debias (DVC foreach over train_debias.models): peft LoRA SFT of one model on the
augment_counterfactual data (project or paper mode).

Command: ``python -m stages.train_debias --item smollm2``
Reads:   train_debias.models.<item>.base (a transformers directory), data/processed/debias/train.jsonl (rows
         weighted by ``method_weights``, restricted to the pairs of the model's GenderPair table,
         assess_bias.models.<item>.genderpair), data/processed/lm_corpus/neutral_train.txt (``replay: corpus``).
Writes:  models/gendercare/<item>_debiased_adapter/ (peft, safetensors), models/gendercare/<item>_debiased/
         (LoRA fused, safetensors + tokenizer), metrics/train_debias/<item>.json. Registers
         ``gendercare-<item>-debiased`` (alias candidate). Project mode: LoRA-only, loss on response tokens;
         paper mode: rank 128, scaling 1/128, lr 1e-4, 2 epochs, loss on the prompt too (gendercare.md 3.2).
"""

from __future__ import annotations

import argparse
import sys

from safealign.stage import StageContext, run_stage


def _args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--item", required=True, help="model to debias: a key of train_debias.models")


def _run(ctx: StageContext) -> dict:
    import pandas as pd

    from safealign.atomic import write_json
    from safealign import paths
    from safealign.bias.lm.debias import DebiasSpec, debias, read_debias_rows, rows_for_pairs, weighted_rows
    from safealign.bias.lm.model import load_lm, set_threads
    from safealign.errors import ConfigError
    from safealign.tracking.registry import register_model_dir

    name, params = ctx.args.item, ctx.params
    p = params.train_debias
    if name not in p.models:
        raise ConfigError(f"train_debias model '{name}': expected one of {', '.join(p.models)}")
    m, paper = p.models[name], p.mode == "paper"
    set_threads(params.pretrain_lm.threads)
    model, tok = load_lm(m.base, params.pretrain_lm.trust_remote_code)
    data = paths.DEBIAS_DIR / "train.jsonl"
    genderpair = params.assess_bias.models[name].genderpair
    ctx.tracker.log_inputs([data, genderpair])
    pairs = pd.read_parquet(genderpair, columns=["group", "biased", "anti_biased"]).drop_duplicates()
    rows = weighted_rows(rows_for_pairs(read_debias_rows(data), pairs), m.method_weights, params.project.seed)
    neutral = []
    if m.replay == "corpus":
        neutral = (paths.CORPUS_DIR / "neutral_train.txt").read_text(encoding="utf-8").splitlines()
    spec = DebiasSpec(
        lora_r=p.paper_lora.r if paper else m.lora.r,
        lora_alpha=p.paper_lora.alpha if paper else m.lora.alpha,
        lora_dropout=p.paper_lora.dropout if paper else m.lora.dropout,
        target_modules=list(m.lora.target_modules),
        lr=p.paper_lr if paper else m.lr,
        epochs=p.paper_epochs if paper else m.epochs,
        batch_size=m.batch_size,
        max_steps=m.max_steps,
        max_len=m.max_len,
        replay=m.replay,
        replay_fraction=m.replay_fraction,
        replay_prompts=p.self_replay.prompts,
        replay_new_tokens=p.self_replay.max_new_tokens,
        paper=paper,
    )
    metrics = debias(model, tok, rows, neutral, spec, params.project.seed, paths.adapter_dir(name),
                     paths.debiased_dir(name))
    metrics.update({"mode": p.mode, "base_model": m.base, "lora": {"r": spec.lora_r, "alpha": spec.lora_alpha}})
    write_json(paths.stage_metrics(f"train_debias/{name}"), metrics)
    register_model_dir(paths.lm_registry_name(name), paths.debiased_dir(name), {"mode": p.mode, "base": m.base})
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float))}


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("train_debias", argv, _run, add_args=_args)


if __name__ == "__main__":
    sys.exit(main())
