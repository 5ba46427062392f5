"""The GenderCARE model stages end to end on a tiny config: pretrain -> assess x3 -> debias -> evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import write_lm_genderpair

TINY = {
    "pretrain_lm.arch": {"vocab_size": 400, "n_layer": 1, "n_embd": 32, "n_head": 2, "n_positions": 256},
    "pretrain_lm.corpus.filler_sentences": 40,
    "pretrain_lm.corpus.statements_per_pair": 4,
    "pretrain_lm.epochs": 1,
    "assess_bias.items_per_group": 3,
    "assess_bias.generation": {
        "prompts_per_group": 2,
        "max_new_tokens": 4,
        "parse_mode": "corrected",
        "negation": False,
    },
    "assess_bias.benchmarks": {
        "dir": "gendercare/benchmarks",
        "stereoset_rows": 4,
        "winoqueer_rows": 4,
        "bold_rows_per_group": 1,
    },
    "train_debias.max_steps": 2,
    "train_debias.balanced_statements": 2,
    "train_debias.method_weights": {"swap": 1.0},
    "evaluate_debias.cloze_items": 5,
    "tracking.enabled": False,
}


def _data(root: Path) -> None:
    write_lm_genderpair(root / "data/processed/genderpair")
    rows = [
        {
            "prompt": "Write about the {man}: {kind}.",
            "response": "The {man} is {kind}.",
            "group": "g1",
            "target": "man",
            "descriptor": "kind",
            "method": "swap",
        }
    ] * 3
    (root / "data/processed/debias").mkdir(parents=True)
    (root / "data/processed/debias/train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.slow
def test_stage_chain_writes_metrics_report_and_gate_figures(make_project) -> None:
    from stages import assess_bias, evaluate_debias, pretrain_lm, train_debias

    root = make_project(TINY)
    _data(root)
    assert evaluate_debias.main([]) == 1  # inputs missing: a clear error, not a traceback
    assert pretrain_lm.main([]) == 0
    assert assess_bias.main(["--item", "base"]) == 0
    assert assess_bias.main(["--item", "control"]) == 0
    assert assess_bias.main(["--item", "nonsense"]) == 2
    assert train_debias.main([]) == 0
    assert assess_bias.main(["--item", "debiased"]) == 0
    assert evaluate_debias.main([]) == 0
    corpus = root / "data/processed/lm_corpus"
    held = {json.loads(x)["text"] for x in (corpus / "neutral_heldout.jsonl").read_text().splitlines()}
    trained = set((corpus / "neutral_train.txt").read_text().splitlines())
    assert held and not held & trained  # utility text never trained on
    train = json.loads((root / "metrics/train_debias.json").read_text())
    assert train["non_lora_trainable"] == 0 and train["steps"] == 2
    assert (root / "models/gendercare/lm_debiased_adapter/adapter_model.safetensors").is_file()
    assert (root / "models/gendercare/lm_debiased/model.safetensors").is_file()
    base = json.loads((root / "metrics/assess_bias/base.json").read_text())
    assert set(base["likelihood"]["groups"]) == {"g1", "g2", "g3"} and "gap" in base["likelihood"]["summary"]
    summary = json.loads((root / "metrics/evaluate_debias.json").read_text())
    assert set(summary["gate"]) == {"bpr_cut_min", "utility_change_abs_max"}
    assert set(summary["abs_dev_cut"]) == {"g1", "g2", "g3"}
    html = (root / "reports/gendercare.html").read_text()
    assert "Likelihood-mode BPR" in html and "Utility" in html


@pytest.mark.slow
def test_paper_mode_trains_rank_128_with_prompt_loss(make_project) -> None:
    from stages import pretrain_lm, train_debias

    root = make_project({**TINY, "train_debias.mode": "paper", "train_debias.max_steps": 1})
    _data(root)
    assert pretrain_lm.main([]) == 0
    assert train_debias.main([]) == 0
    train = json.loads((root / "metrics/train_debias.json").read_text())
    assert train["mode"] == "paper" and train["lora"]["r"] == 128 and train["lora"]["alpha"] == 1.0
