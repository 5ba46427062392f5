"""``safealign debias``: LoRA debiasing of any local causal-LM directory, outside DVC.

The training rows are the descriptor-swap counterfactuals of the augment_counterfactual stage (same library
function), built from the GenderPair pairs and targets in ``--genderpair``; replay is the model's own answers
to neutral prompts (self-distillation). Writes <out>/model (LoRA merged), <out>/adapter and <out>/train.json.
"""

from __future__ import annotations

import argparse

FRAMES = ["{target} is {descriptor}.", "people say {target} seems {descriptor}.", "the {target} was {descriptor}."]
OPENERS = ["today ", "honestly, ", "as always ", "we heard that ", "in the story "]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("debias", help="LoRA-debias a local causal-LM dir on descriptor-swap counterfactuals")
    p.add_argument("--model", required=True, help="local Hugging Face causal-LM directory (safetensors)")
    p.add_argument("--genderpair", required=True, help="folder with pairs.parquet and targets.parquet "
                                                       "(safealign genderpair or the build_genderpair stage)")
    p.add_argument("--out", required=True, help="output folder: model/, adapter/, train.json")
    p.add_argument("--steps", type=int, default=100, help="LoRA steps (batch 8)")
    p.add_argument("--lr", type=float, default=2e-4, help="learning rate")
    p.add_argument("--target-modules", nargs="+", default=["all-linear"],
                   help="modules that get LoRA (default: every linear layer but the output head)")
    p.add_argument("--max-len", type=int, default=160, help="longest training sequence in tokens")
    p.add_argument("--seed", type=int, default=1234, help="seed of data, adapter and replay")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import pandas as pd

    from safealign.atomic import write_json
    from safealign.bias.genderpair.balanced import balanced_rows
    from safealign.bias.lm.debias import DebiasSpec, debias
    from safealign.bias.lm.model import load_lm, set_threads
    from safealign.errors import InputError

    gp, out = Path(args.genderpair), Path(args.out)
    tables = {}
    for name in ("pairs", "targets"):
        if not (gp / f"{name}.parquet").is_file():
            raise InputError(f"{gp / f'{name}.parquet'}: not found (build it with `safealign genderpair`)")
        tables[name] = pd.read_parquet(gp / f"{name}.parquet")
    rows = balanced_rows(tables["pairs"], tables["targets"], 20, 2, FRAMES, OPENERS, args.seed)
    set_threads(args.threads)
    model, tok = load_lm(args.model)
    spec = DebiasSpec(lora_r=16, lora_alpha=32, lora_dropout=0.05, target_modules=list(args.target_modules),
                      lr=args.lr, epochs=1, batch_size=8, max_steps=args.steps, max_len=args.max_len,
                      replay="self", replay_fraction=0.5, replay_prompts=64, replay_new_tokens=48)
    metrics = debias(model, tok, [(r["prompt"], r["response"]) for r in rows], [], spec, args.seed,
                     out / "adapter", out / "model")
    write_json(out / "train.json", metrics)
    print(f"debiased {args.model}: {metrics['steps']} steps, loss {metrics['loss_first_epoch']:.3f} -> "
          f"{metrics['loss_last_epoch']:.3f}; wrote {out / 'model'} (assess it with `safealign assess-bias`)")
    return 0
