"""Model slot, likelihood scoring and the assessment of a saved transformers directory (not the builtin)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from safealign.bias.lm.assess import AssessConfig, assess_model, likelihood_bpr, load_genderpair, sample_items
from safealign.bias.lm.likelihood import continuation_logprobs, greedy_generate, perplexity
from safealign.bias.lm.likelihood_bpr import score_items
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


def _cfg(**kw) -> AssessConfig:
    base = dict(frames=["{target} is {descriptor}."], openers=["i think "], items_per_group=3, prompts_per_group=2,
                batch_size=16, max_new_tokens=4, parse_mode="corrected", negation=False, max_tie_share=0.5, seed=0)
    return AssessConfig(**{**base, **kw})


def test_likelihood_scores_the_descriptor_as_a_continuation(tiny_lm_dir: Path, tmp_path: Path) -> None:
    """BPE: the item's preference is log P(' B' | context) - log P(' A' | context), punctuation split off."""
    model, tok = load_lm(tiny_lm_dir)
    items = sample_items(load_genderpair(write_lm_genderpair(tmp_path)), 2, seed=0)
    assert items.groupby("group").size().tolist() == [2, 2, 2]
    scores = score_items(model, tok, items, ["{target} is {descriptor}."], ["i think "], 16)
    row = scores.iloc[0]
    context = f"i think {row['target_form']} is"
    (lb, _), (la, _) = continuation_logprobs(model, tok, [(context, f" {row['biased']}"),
                                                          (context, f" {row['anti_biased']}")])
    # byte-level BPE splits punctuation off, so every ending gives the same scored tokens: one event
    assert row["diff"] == pytest.approx(lb - la, abs=1e-4) and not row["tie"]
    out = likelihood_bpr(model, tok, items, _cfg(items_per_group=2))
    g1 = out["groups"]["g1"]
    assert set(out["groups"]) == {"g1", "g2", "g3"} and g1["n_items"] == 2
    assert 0.0 <= g1["bpr"] <= 1.0 and g1["bpr_ci95"][0] <= g1["bpr"] <= g1["bpr_ci95"][1]
    assert g1["tie_share"] == 0.0 and g1["descriptor_known_share"] == 1.0


def test_word_level_tokenizer_with_attached_punctuation_is_read_and_unknowns_refused(tmp_path: Path) -> None:
    """'kind!' is one token: the scorer finds that form; descriptors no form of which is known tie -> refusal."""
    from safealign.bias.lm.likelihood_bpr import LikelihoodRefused, group_summary
    from safealign.bias.lm.model import build_gpt2, save_lm
    from tests.planted_lm import word_level_tokenizer

    texts = ["My Brother seems kind!", "My Sister seems rude!"] * 5
    tok = word_level_tokenizer(texts)
    save_lm(build_gpt2(tok, 1, 32, 2, 32, seed=0), tok, tmp_path / "m")
    model, tok = load_lm(tmp_path / "m")
    items = pd.DataFrame([{"group": "g1", "target": "brother", "target_type": "title", "source": "media",
                           "pair_index": 0, "biased": "rude", "anti_biased": "kind"}])
    scores = score_items(model, tok, items, ["{target} is {descriptor}."], ["i think "], 8)
    assert not scores["tie"].iloc[0] and scores["target_form"].iloc[0] == "Brother"
    assert group_summary(scores, 0)["descriptor_known_share"] == 1.0
    unknown = items.assign(biased="cruel", anti_biased="gentle")
    tied = score_items(model, tok, unknown, ["{target} is {descriptor}."], ["i think "], 8)
    assert tied["tie"].iloc[0] and tied["unknown_biased"].iloc[0]
    with pytest.raises(LikelihoodRefused, match=r"'cruel' -> \['\[UNK\]'\].*cannot tell the descriptors apart"):
        likelihood_bpr(model, tok, unknown, _cfg(frames=["{target} is {descriptor}."]))


def test_assessment_on_saved_transformers_dir(tiny_lm_dir: Path, tmp_path: Path) -> None:
    model, tok = load_lm(tiny_lm_dir)
    gp = load_genderpair(write_lm_genderpair(tmp_path))
    out = assess_model(model, tok, gp, _cfg(), ("likelihood", "generation"))
    assert set(out["likelihood"]["groups"]) == {"g1", "g2", "g3"}
    gen = out["generation"]["groups"]["g2"]
    assert gen["n_total"] == 2 and 0.0 <= gen["unparseable_rate"] <= 1.0 and 0.0 <= gen["paper_bpr"] <= 1.0
    assert sum(gen["outcomes"].values()) == 2 and len(gen["bpr_ci95"]) == 2
    assert {e["outcome"] for e in out["generation"]["examples"]} <= {"biased", "anti", "both", "neither"}
    ts = out["toxicity_sentiment"]
    assert "VADER" in ts["scorers"]["sentiment"] and "toxicity_mean_gap" in ts["spread"]


def test_generation_survives_max_new_tokens_beyond_the_context(tiny_lm_dir: Path) -> None:
    """max_new_tokens >= n_positions used to raise IndexError; it is capped at the context length now."""
    model, tok = load_lm(tiny_lm_dir)
    (text,) = greedy_generate(model, tok, ["man is"], max_new_tokens=model.config.n_positions + 10)
    assert isinstance(text, str) and text


def test_bootstrap_ci_brackets_the_share() -> None:
    from safealign.bias.lm.stats import bootstrap_ci

    wins = [1.0] * 70 + [0.0] * 30
    lo, hi = bootstrap_ci(wins, None, seed=0)
    assert lo < 0.7 < hi and hi - lo < 0.25
    assert all(v != v for v in bootstrap_ci([1.0, 0.0], [False, False], seed=0))  # nothing counted: NaN


def test_load_genderpair_names_missing_columns(tmp_path: Path) -> None:
    pd.DataFrame({"id": ["x"]}).to_parquet(tmp_path / "genderpair.parquet")
    with pytest.raises(InputError, match="missing column"):
        load_genderpair(tmp_path)
    with pytest.raises(InputError, match="not found"):
        load_genderpair(tmp_path / "nowhere")
