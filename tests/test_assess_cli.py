"""``safealign assess-bias`` and ``safealign debias`` on saved transformers directories, from any folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from safealign.cli import main
from tests.conftest import REPO, write_lm_genderpair


def test_cli_assesses_a_model_dir_outside_the_repo(tiny_lm_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """No params.yaml in the folder: the flag defaults apply (this used to fail with 'params file not found')."""
    monkeypatch.chdir(tmp_path)
    gp = write_lm_genderpair(tmp_path / "gp")
    rc = main(["assess-bias", "--model", str(tiny_lm_dir), "--genderpair", str(gp), "--out", "out",
               "--mode", "likelihood", "--items", "2", "--frames", "{target} was {descriptor}.",
               "--openers", "", "so "])
    assert rc == 0
    result = json.loads((tmp_path / "out/assessment.json").read_text())
    assert set(result["likelihood"]["groups"]) == {"g1", "g2", "g3"} and "generation" not in result
    assert result["likelihood"]["templates"] == ["{target} was {descriptor}.", "so {target} was {descriptor}."]
    rows = list(csv.DictReader((tmp_path / "out/summary.csv").open()))
    assert len(rows) == 3 and {"bpr", "ci_low", "ci_high", "n", "tie_share"} <= set(rows[0])
    assert "Bias-Pair Ratio" in (tmp_path / "out/report.html").read_text()
    printed = capsys.readouterr().out
    assert "likelihood  g1" in printed and "wrote" in printed


def test_cli_defaults_agree_with_params_yaml() -> None:
    from safealign.commands.assess_bias import DEFAULTS, _defaults

    from_params, _, _ = _defaults(str(REPO / "params.yaml"))
    assert {k: from_params[k] for k in DEFAULTS} == DEFAULTS


def test_cli_reports_a_missing_model_and_params(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    rc = main(["assess-bias", "--model", "nowhere", "--genderpair", "gp", "--out", "out", "--no-benchmarks"])
    assert rc == 1 and "no config.json" in capsys.readouterr().err
    rc = main(["assess-bias", "--model", "nowhere", "--out", "out", "--params", "missing.yaml"])
    assert rc == 1 and "missing.yaml: params file not found" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_debias_writes_a_loadable_model(tiny_lm_dir: Path, tmp_path: Path, capsys) -> None:
    from safealign.bias.lm.model import load_lm

    gp = write_lm_genderpair(tmp_path / "gp")
    rc = main(["debias", "--model", str(tiny_lm_dir), "--genderpair", str(gp), "--out", str(tmp_path / "d"),
               "--steps", "2", "--max-len", "64"])
    assert rc == 0, capsys.readouterr().err
    train = json.loads((tmp_path / "d/train.json").read_text())
    assert train["steps"] == 2 and train["non_lora_trainable"] == 0 and train["replay"] == "self"
    load_lm(tmp_path / "d/model")


def test_debias_summary_cuts_biased_groups_and_reads_collapse() -> None:
    from safealign.bias.lm.compare import collapse_check, debias_summary

    def assessment(bprs: dict[str, tuple[float, float, float]]) -> dict:
        return {"likelihood": {
            "groups": {g: {"bpr": v, "bpr_ci95": [lo, hi], "choice_probability": v} for g, (v, lo, hi) in bprs.items()},
            "summary": {"gap": max(v for v, _, _ in bprs.values()) - min(v for v, _, _ in bprs.values())}}}

    util = {"heldout_ppl": 2.0, "analogy_accuracy": 0.5, "top_token_share": 0.1}
    before = assessment({"g1": (0.9, 0.85, 0.95), "g2": (0.52, 0.4, 0.6)})
    after = assessment({"g1": (0.52, 0.45, 0.6), "g2": (0.47, 0.4, 0.55)})
    ok = collapse_check(util, {**util, "heldout_ppl": 2.02}, 10.0, 0.5)
    out = debias_summary(before, after, None, util, {**util, "heldout_ppl": 2.02}, ok)
    assert out["abs_dev_cut"]["g1"] == pytest.approx(1 - 0.02 / 0.4)
    assert out["biased_before"] == {"g1": True, "g2": False}
    assert out["gate"]["bpr_cut_biased_min"] == pytest.approx(1 - 0.02 / 0.4)  # g2 had no bias to cut
    assert out["utility_change_pct"]["heldout_ppl"] == pytest.approx(-1.0) and out["gate"]["collapsed"] == 0
    # the new user's case: held-out ppl 389,257 -> 2.8 is a collapse of the base, never a +99.999 % gain
    crashed = collapse_check(util, {**util, "heldout_ppl": 30.0, "top_token_share": 0.98}, 10.0, 0.5)
    bad = debias_summary(before, after, None, util, {**util, "heldout_ppl": 30.0}, crashed)
    assert bad["gate"]["collapsed"] == 1 and bad["abs_dev_cut"]["g1"] != bad["abs_dev_cut"]["g1"]
    assert "x15.0" in crashed["reason"] and "98%" in crashed["reason"]
