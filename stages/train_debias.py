"""Stage train_debias: peft LoRA SFT of the base model on counterfactual data (project or paper mode).

Command: ``python -m stages.train_debias``
Reads:   the base model (models/gendercare/lm_base or pretrain_lm.base), data/processed/debias/train.jsonl,
         data/processed/genderpair/{pairs,targets}.parquet, data/processed/lm_corpus/neutral_train.txt,
         params ``train_debias``.
Writes:  models/gendercare/lm_debiased_adapter/ (peft, safetensors), models/gendercare/lm_debiased/
         (LoRA fused, safetensors + tokenizer), metrics/train_debias.json. Registers ``gendercare-lm-debiased``
         (alias candidate). Project mode: LoRA-only trainable weights, loss on response tokens only; paper mode:
         rank 128, scaling 1/128, lr 1e-4, 2 epochs, loss on the prompt too (gendercare.md 3.2).
"""

from __future__ import annotations

import sys

from safealign.stage import StageContext, run_stage


def _run(ctx: StageContext) -> dict:
    import pandas as pd

    from safealign.atomic import atomic_dir, write_json
    from safealign.bias.lm import paths
    from safealign.bias.lm.corpus import bias_statements
    from safealign.bias.lm.debias import (
        build_mixture,
        lora_model,
        read_debias_rows,
        trainable_report,
        weighted_rows,
    )
    from safealign.bias.lm.model import load_lm, set_threads
    from safealign.bias.lm.train import train_lm
    from safealign.errors import SafealignError
    from safealign.tracking.registry import register_model_dir

    p, pre = ctx.section("train_debias"), ctx.params.pretrain_lm
    seed = ctx.params.project.seed
    set_threads(pre.threads)
    paper = p.mode == "paper"
    lora = p.paper_lora if paper else p.lora
    base_dir = paths.base_model_dir(pre.base)
    model, tok = load_lm(base_dir, pre.trust_remote_code)
    inputs = [
        paths.DEBIAS_DIR / "train.jsonl",
        paths.GENDERPAIR_DIR / "pairs.parquet",
        paths.GENDERPAIR_DIR / "targets.parquet",
        paths.CORPUS_DIR / "neutral_train.txt",
    ]
    ctx.tracker.log_inputs(inputs)
    debias = weighted_rows(read_debias_rows(inputs[0]), p.method_weights, seed)
    counterfactual = (
        bias_statements(
            pd.read_parquet(inputs[1]),
            pd.read_parquet(inputs[2]),
            0.5,
            p.balanced_statements,
            pre.corpus.frames,
            pre.corpus.train_prefixes,
            seed,
            exact_pairs=True,
        )
        if p.balanced_statements
        else []
    )
    neutral = inputs[3].read_text(encoding="utf-8").splitlines()
    mixture = build_mixture(counterfactual, debias, neutral, p.replay_fraction, seed)
    peft_model = lora_model(model, lora.r, lora.alpha, lora.dropout, lora.target_modules, seed)
    counts = trainable_report(peft_model)
    if counts["non_lora_trainable"]:
        raise SafealignError(
            f"train_debias: {counts['non_lora_trainable']} non-LoRA parameters are trainable"
        )
    max_len = int(getattr(model.config, "n_positions", 512))
    stats = train_lm(
        peft_model,
        tok,
        mixture,
        epochs=p.paper_epochs if paper else p.epochs,
        batch_size=p.batch_size,
        lr=p.paper_lr if paper else p.lr,
        seed=seed,
        max_len=max_len,
        max_steps=p.max_steps,
        weight_decay=0.1 if paper else 0.0,
        warmup_fraction=0.0 if paper else 0.03,
        mask_prompt=not paper,
        desc="debias",
    )
    with atomic_dir(paths.ADAPTER_DIR) as tmp:
        # only the LoRA weights: the frozen (untied) output head is already in the base model
        peft_model.save_pretrained(tmp, safe_serialization=True, save_embedding_layers=False)
    with atomic_dir(paths.DEBIASED_DIR) as tmp:
        merged = peft_model.merge_and_unload()
        merged.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
    metrics = {
        "mode": p.mode,
        **counts,
        **stats,
        "rows": {
            "counterfactual": len(counterfactual),
            "debias_data": len(debias),
            "replay": len(mixture) - len(counterfactual) - len(debias),
            "total": len(mixture),
        },
        "lora": lora.model_dump(),
        "base_model": str(base_dir),
    }
    write_json("metrics/train_debias.json", metrics)
    register_model_dir(paths.DEBIASED_NAME, paths.DEBIASED_DIR, {"mode": p.mode, "base": str(base_dir)})
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float))}


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("train_debias", argv, _run)


if __name__ == "__main__":
    sys.exit(main())
