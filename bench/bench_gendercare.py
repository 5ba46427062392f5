"""The GenderCARE part of ``make run`` timed stage by stage, against SmolLM2 reference workloads in the same run.

Rows:
- Reference workloads on SmolLM2-135M-Instruct (the budget's unit): greedy generation of 16 tokens for 32
  chat prompts of 64 tokens, one likelihood forward pass over that batch, one LoRA step (r 16 on
  q/k/v/o/gate/up/down, batch 8 x 48 tokens). The note gives the figure measured on 2 idle cores; value /
  idle is how loaded the machine was during this run.
- Every GenderCARE stage forced once (``dvc repro --force -s``, dependency order) in a tmp copy of the
  project, and their total: the figure the 15-minute budget is about. Baseline: the generation reference
  of this run, so the ratio carries over between runs on a busy and an idle machine.
The run's metrics and reports are kept in bench/gendercare_run/ (not tracked).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from bench.bench_orchestration import REPO, copy_project, dvc

GENDERCARE = ("build_genderpair", "augment_counterfactual", "convert_lm", "pretrain_lm", "assess_bias",
              "train_debias", "evaluate_debias")
IDLE_SECONDS = {"generation": 4.7, "likelihood": 3.3, "lora_step": 1.7}  # 2 idle cores (measured once)
BUDGET_SECONDS = 15 * 60
KEPT = ("metrics/assess_bias", "metrics/train_debias", "metrics/evaluate_debias", "reports")  # the run's figures
KEEP_DIR = Path(__file__).resolve().parent / "gendercare_run"


def reference_workloads(model_dir: Path, threads: int = 2) -> dict[str, float]:
    """Seconds of the three SmolLM2 reference workloads (see module docstring)."""
    import torch

    from safealign.bias.lm.debias import lora_model
    from safealign.bias.lm.model import load_lm, set_threads

    set_threads(threads)
    model, tok = load_lm(model_dir)
    text = tok.apply_chat_template([{"role": "user", "content": "word " * 40}], add_generation_prompt=True,
                                   tokenize=False)
    ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"][:, :64].repeat(32, 1)
    out = {}
    with torch.no_grad():
        started = time.perf_counter()
        model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=16, min_new_tokens=16,
                       do_sample=False, pad_token_id=tok.pad_token_id)
        out["generation"] = time.perf_counter() - started
        started = time.perf_counter()
        model(input_ids=ids)
        out["likelihood"] = time.perf_counter() - started
    peft = lora_model(model, 16, 32, 0.05, ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                             "down_proj"])
    batch = ids[:8, :48]
    opt = torch.optim.AdamW([p for p in peft.parameters() if p.requires_grad], lr=1e-4)
    peft.train()
    started = time.perf_counter()
    peft(input_ids=batch, labels=batch).loss.backward()
    opt.step()
    out["lora_step"] = time.perf_counter() - started
    return out


def stage_times(root: Path) -> dict[str, float]:
    """Seconds per GenderCARE stage, each forced once in dependency order."""
    from flows.dag import stage_order

    times = {}
    for name in stage_order(root, list(GENDERCARE)):
        started = time.perf_counter()
        dvc(root, "repro", "--force", "-s", "-q", name)
        times[name] = time.perf_counter() - started
    return times


def run() -> list[dict]:
    """Benchmark rows (see module docstring)."""
    from safealign.offline import go_offline

    go_offline()
    with tempfile.TemporaryDirectory(prefix="bench_gendercare_") as tmp_name:
        copy = copy_project(Path(tmp_name) / "project")
        times = stage_times(copy)
        ref = reference_workloads(copy / "models/gendercare/smollm2")
        shutil.rmtree(KEEP_DIR, ignore_errors=True)
        for rel in KEPT:
            shutil.copytree(copy / rel, KEEP_DIR / rel, dirs_exist_ok=True)
    load = ref["generation"] / IDLE_SECONDS["generation"]
    rows = [{"figure": f"SmolLM2 reference: {k}", "value": v, "baseline": IDLE_SECONDS[k],
             "ratio": v / IDLE_SECONDS[k], "unit": "s",
             "note": "baseline = the figure on 2 idle cores (not this run): ratio = how loaded this run was"}
            for k, v in ref.items()]
    rows += [{"figure": f"stage {name}", "value": t, "baseline": ref["generation"], "ratio": t / ref["generation"],
              "unit": "s", "note": "dvc repro --force -s; baseline: generation reference of this run"}
             for name, t in times.items()]
    total = sum(times.values())
    rows.append({"figure": "GenderCARE part of make run (all its stages)", "value": total,
                 "baseline": ref["generation"], "ratio": total / ref["generation"], "unit": "s",
                 "note": f"{total / load:.0f} s at idle speed (this run was {load:.1f}x loaded); budget "
                         f"{BUDGET_SECONDS} s"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
