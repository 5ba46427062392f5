"""``safealign assess-bias`` on a saved transformers directory: metrics JSON and a printed table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safealign.cli import main
from tests.conftest import write_lm_genderpair


def test_cli_assesses_a_model_dir(make_project, tiny_lm_dir: Path, capsys) -> None:
    root = make_project({"assess_bias.items_per_group": 2})
    gp = write_lm_genderpair(root / "gp")
    rc = main(
        [
            "assess-bias",
            "--model",
            str(tiny_lm_dir),
            "--genderpair",
            str(gp),
            "--out",
            "out",
            "--mode",
            "likelihood",
            "--no-benchmarks",
        ]
    )
    assert rc == 0
    result = json.loads((root / "out/assessment.json").read_text())
    assert set(result["likelihood"]["groups"]) == {"g1", "g2", "g3"} and "generation" not in result
    printed = capsys.readouterr().out
    assert "likelihood  g1" in printed and "wrote" in printed


def test_cli_reports_a_missing_model(make_project, capsys) -> None:
    make_project({})
    rc = main(["assess-bias", "--model", "nowhere", "--genderpair", "gp", "--out", "out", "--no-benchmarks"])
    assert rc == 1 and "no config.json" in capsys.readouterr().err


def test_debias_summary_reductions_and_undefined_cut() -> None:
    from safealign.bias.lm.compare import debias_summary

    def assessment(bprs: dict[str, float]) -> dict:
        return {
            "likelihood": {
                "groups": {g: {"bpr": v} for g, v in bprs.items()},
                "summary": {"gap": max(bprs.values()) - min(bprs.values())},
            }
        }

    util = {"heldout_ppl": 2.0, "cloze_accuracy": 0.9}
    out = debias_summary(
        assessment({"g1": 0.9, "g2": 0.8}),
        assessment({"g1": 0.52, "g2": 0.47}),
        None,
        util,
        {"heldout_ppl": 2.02, "cloze_accuracy": 0.9},
        0.85,
        None,
    )
    assert out["abs_dev_cut"]["g1"] == pytest.approx(1 - 0.02 / 0.4)
    assert out["gate"]["bpr_cut_min"] == pytest.approx(1 - 0.03 / 0.3)
    assert out["utility_change_pct"]["heldout_ppl"] == pytest.approx(-1.0)  # ppl up 1 % = 1 % worse
    assert out["planted_readback_error"]["g2"] == pytest.approx(-0.05)
    flat = debias_summary(assessment({"g1": 0.5}), assessment({"g1": 0.6}), None, util, util, None, None)
    assert flat["gate"]["bpr_cut_min"] != flat["gate"]["bpr_cut_min"]  # NaN: the gate reads it as missing
