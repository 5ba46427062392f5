"""The GenderCARE model stages end to end on a tiny config: pretrain -> assess x3 -> debias -> evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import write_lm_genderpair

GP = "data/processed/lm_corpus/genderpair.parquet"
LORA = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["c_attn", "c_proj", "c_fc", "lm_head"]}
TINY = {
    "pretrain_lm.arch": {"vocab_size": 400, "n_layer": 1, "n_embd": 32, "n_head": 2, "n_positions": 256},
    "pretrain_lm.corpus.filler_sentences": 40,
    "pretrain_lm.corpus.statements_per_pair": 4,
    "pretrain_lm.epochs": 1,
    "assess_bias.models": {
        "planted": {"dir": "models/gendercare/lm_base", "genderpair": GP},
        "control": {"dir": "models/gendercare/lm_control", "genderpair": GP},
        "planted_debiased": {"dir": "models/gendercare/planted_debiased", "genderpair": GP},
    },
    "assess_bias.items_per_group": 3,
    "assess_bias.generation": {"prompts_per_group": 2, "max_new_tokens": 4, "parse_mode": "corrected",
                               "negation": False},
    "assess_bias.benchmarks": {"dir": "gendercare/benchmarks", "stereoset_rows": 4, "winoqueer_rows": 4,
                               "bold_rows_per_group": 1},
    "train_debias.models": {"planted": {"base": "models/gendercare/lm_base", "genderpair": GP, "lora": LORA,
                                       "lr": 0.005, "epochs": 1, "batch_size": 4, "max_steps": 2, "max_len": 64,
                                       "replay": "corpus", "replay_fraction": 0.5,
                                       "method_weights": {"statement": 1.0}}},
    "evaluate_debias.models": {"planted": {"utility": "synthetic", "control": "control"}},
    "evaluate_debias.cloze_items": 5,
    "tracking.enabled": False,
}


def _data(root: Path) -> None:
    write_lm_genderpair(root / "data/processed/genderpair")
    rows = [
        {"prompt": "", "response": f"man is {d}.", "group": "g1", "target": "man", "descriptor": d,
         "method": "statement"}
        for d in ("stubborn", "open-minded")
    ] * 2
    (root / "data/processed/debias").mkdir(parents=True)
    (root / "data/processed/debias/train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.slow
def test_stage_chain_writes_metrics_report_and_gate_figures(make_project) -> None:
    from stages import assess_bias, evaluate_debias, pretrain_lm, train_debias

    root = make_project(TINY)
    _data(root)
    assert evaluate_debias.main(["--item", "planted"]) == 1  # inputs missing: a clear error, not a traceback
    assert pretrain_lm.main([]) == 0
    assert assess_bias.main(["--item", "planted"]) == 0
    assert assess_bias.main(["--item", "control"]) == 0
    assert assess_bias.main(["--item", "nonsense"]) == 2
    assert train_debias.main(["--item", "planted"]) == 0
    assert assess_bias.main(["--item", "planted_debiased"]) == 0
    assert evaluate_debias.main(["--item", "planted"]) == 0
    corpus = root / "data/processed/lm_corpus"
    held = {json.loads(x)["text"] for x in (corpus / "neutral_heldout.jsonl").read_text().splitlines()}
    trained = set((corpus / "neutral_train.txt").read_text().splitlines())
    assert held and not held & trained  # utility text never trained on
    train = json.loads((root / "metrics/train_debias/planted.json").read_text())
    assert train["non_lora_trainable"] == 0 and train["steps"] == 2 and train["rows"]["counterfactual"] == 4
    assert (root / "models/gendercare/planted_debiased_adapter/adapter_model.safetensors").is_file()
    assert (root / "models/gendercare/planted_debiased/model.safetensors").is_file()
    base = json.loads((root / "metrics/assess_bias/planted.json").read_text())
    assert set(base["likelihood"]["groups"]) == {"g1", "g2", "g3"} and "gap" in base["likelihood"]["summary"]
    assert len(base["likelihood"]["groups"]["g1"]["bpr_ci95"]) == 2
    summary = json.loads((root / "metrics/evaluate_debias/planted.json").read_text())
    assert {"bpr_cut_min", "bpr_cut_biased_min", "utility_change_abs_max", "collapsed",
            "readback_error_abs_max"} <= set(summary["gate"])
    assert set(summary["abs_dev_cut"]) == {"g1", "g2", "g3"}
    html = (root / "reports/gendercare_planted.html").read_text()
    assert "Likelihood BPR (win rate)" in html and "Utility" in html


@pytest.mark.slow
def test_paper_mode_trains_rank_128_with_prompt_loss(make_project) -> None:
    from stages import pretrain_lm, train_debias

    root = make_project({**TINY, "train_debias.mode": "paper"})
    _data(root)
    assert pretrain_lm.main([]) == 0
    assert train_debias.main(["--item", "planted"]) == 0
    train = json.loads((root / "metrics/train_debias/planted.json").read_text())
    assert train["mode"] == "paper" and train["lora"]["r"] == 128 and train["lora"]["alpha"] == 1.0
