"""Model slot, likelihood scoring and the assessment of a saved transformers directory (not the builtin)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from safealign.bias.lm.assess import AssessConfig, assess_model, likelihood_bpr, load_genderpair, sample_items
from safealign.bias.lm.likelihood import continuation_logprobs, perplexity
from safealign.bias.lm.model import load_lm
from safealign.errors import InputError
from tests.conftest import write_lm_genderpair


def test_load_lm_rejects_non_model_dir(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no config.json"):
        load_lm(tmp_path)


def test_continuation_logprobs_are_conditional_sums(tiny_lm_dir: Path) -> None:
    import torch

    model, tok = load_lm(tiny_lm_dir)
    ((ll, n),) = continuation_logprobs(model, tok, [("man is", " stubborn.")])
    ids = [tok.bos_token_id] + tok("man is", add_special_tokens=False)["input_ids"]
    cont = tok(" stubborn.", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([ids + cont])).logits[0], -1)
    expected = sum(float(logp[len(ids) - 1 + i, c]) for i, c in enumerate(cont))
    assert n == len(cont) and ll == pytest.approx(expected, abs=1e-4)
    assert perplexity(model, tok, ["man is loud."]) > 1.0


def test_likelihood_bpr_matches_a_hand_computed_preference(tiny_lm_dir: Path, tmp_path: Path) -> None:
    model, tok = load_lm(tiny_lm_dir)
    gp = load_genderpair(write_lm_genderpair(tmp_path))
    items = sample_items(gp, 2, seed=0)
    assert items.groupby("group").size().tolist() == [2, 2, 2]
    groups, rows = likelihood_bpr(model, tok, items, ["{target} is {descriptor}."], ["i think "], 16)
    row = rows[0]
    (lb, _), (la, _) = continuation_logprobs(
        model,
        tok,
        [
            (f"i think {row['target']} is", f" {row['biased']}."),
            (f"i think {row['target']} is", f" {row['anti_biased']}."),
        ],
    )
    assert row["pref"] == pytest.approx(1 / (1 + math.exp(la - lb)), abs=1e-5)
    assert 0.0 <= groups["g1"]["bpr"] <= 1.0 and set(groups) == {"g1", "g2", "g3"}


def test_assessment_on_saved_transformers_dir(tiny_lm_dir: Path, tmp_path: Path) -> None:
    model, tok = load_lm(tiny_lm_dir)
    gp = load_genderpair(write_lm_genderpair(tmp_path))
    cfg = AssessConfig(
        frames=["{target} is {descriptor}."],
        eval_prefixes=["i think "],
        items_per_group=3,
        batch_size=16,
        prompts_per_group=2,
        max_new_tokens=4,
        parse_mode="corrected",
        negation=False,
        seed=0,
    )
    out = assess_model(model, tok, gp, cfg, ("likelihood", "generation"))
    assert set(out["likelihood"]["groups"]) == {"g1", "g2", "g3"}
    gen = out["generation"]["groups"]["g2"]
    assert gen["n_total"] == 2 and 0.0 <= gen["unparseable_rate"] <= 1.0 and 0.0 <= gen["paper_bpr"] <= 1.0
    ts = out["toxicity_sentiment"]
    assert "VADER" in ts["scorers"]["sentiment"] and "toxicity_mean_gap" in ts["spread"]


def test_load_genderpair_names_missing_columns(tmp_path: Path) -> None:
    pd.DataFrame({"id": ["x"]}).to_parquet(tmp_path / "genderpair.parquet")
    with pytest.raises(InputError, match="missing column"):
        load_genderpair(tmp_path)
    with pytest.raises(InputError, match="not found"):
        load_genderpair(tmp_path / "nowhere")
