"""Stages build_genderpair and augment_counterfactual end to end in a tmp project, and the CLI command."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from stages import augment_counterfactual, build_genderpair
from tests.conftest import SHARED_DATA

SMALL = {
    "tracking.enabled": False,
    "build_genderpair.max_targets_per_type": 2,
    "build_genderpair.variants": ["paper", "marker"],
    "augment_counterfactual.descriptors_per_target": 1,
}


def _without_shared(project: Path) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["project"]["shared_data"] = str(project / "no_shared_here")
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_embedded_default_builds_without_the_shared_folder(make_project):
    from datasets import load_from_disk

    project = make_project(SMALL)
    _without_shared(project)
    assert build_genderpair.main([]) == 0
    out = project / "data/processed/genderpair"
    prompts = pd.read_parquet(out / "genderpair.parquet")
    counts = json.loads((project / "metrics/genderpair_counts.json").read_text())
    assert (
        len(load_from_disk(str(out / "dataset"))) == len(prompts) == counts["total"] == 3 * 4 * 2 * 12 * 6 * 2
    )
    assert list(pd.read_parquet(out / "pairs.parquet").columns) == [
        "group",
        "pair_index",
        "biased",
        "anti_biased",
        "source",
    ]
    assert json.loads((project / "metrics/genderpair_criteria.json").read_text())["all_passed"]
    assert json.loads((project / "metrics/gx/genderpair.json").read_text())["success"]

    assert augment_counterfactual.main([]) == 0
    rows = _jsonl(project / "data/processed/debias/train.jsonl") + _jsonl(
        project / "data/processed/debias/validation.jsonl"
    )
    assert {tuple(r) for r in rows} == {("prompt", "response", "group", "target", "descriptor", "method")}
    assert {r["method"] for r in rows} == {"anti_template", "swap", "statement", "choice"}
    metrics = json.loads((project / "metrics/augment_counterfactual.json").read_text())
    assert metrics["validation_file"] == "absent" and metrics["benchmarks"] == "absent"
    assert json.loads((project / "metrics/contamination.json").read_text())["benchmarks"] == "absent"
    assert "absent" in (project / "reports/contamination.md").read_text()


@pytest.mark.slow
def test_released_data_held_out_mode_excludes_contaminated_rows(make_project):
    if not (SHARED_DATA / "gendercare").is_dir():
        pytest.skip(f"needs {SHARED_DATA / 'gendercare'}")
    project = make_project(
        {
            **SMALL,
            "build_genderpair.pair_sets": "gendercare/pair_sets",
            "augment_counterfactual.exclude_contaminated": True,
        }
    )
    assert build_genderpair.main([]) == 0
    assert augment_counterfactual.main([]) == 0
    metrics = json.loads((project / "metrics/augment_counterfactual.json").read_text())
    report = json.loads((project / "metrics/contamination.json").read_text())
    assert metrics["validation_file"] == "read" and report["debias_rows_with_stereoset_word"] == 734
    assert (
        metrics["excluded_contaminated"]
        == report["excluded_rows"]
        == report["training_rows"]["contaminated"]
        > 734
    )
    assert (
        metrics["train_rows"] + metrics["validation_rows"]
        == report["training_rows"]["rows"] - report["excluded_rows"]
    )
    train = _jsonl(project / "data/processed/debias/train.jsonl")
    assert not any(r["descriptor"] == "polite" or r["target"] == "cis people" for r in train)


@pytest.mark.slow
def test_bad_params_and_bad_pair_sets_stop_with_a_message(make_project, tmp_path, capsys):
    make_project({"tracking.enabled": False, "build_genderpair.variants": ["paper", "shouty"]})
    assert build_genderpair.main([]) == 2
    assert "build_genderpair.variants" in capsys.readouterr().err
    bad = tmp_path / "bad_sets"
    bad.mkdir()
    for k in (1, 2, 3):
        (bad / f"group{k}_pairset.json").write_text("[]")
    make_project({"tracking.enabled": False, "build_genderpair.pair_sets": str(bad)}, subdir="proj2")
    assert build_genderpair.main([]) == 1
    assert "group1_pairset.json: empty group g1" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_builds_outside_dvc(tmp_path, capsys):
    from safealign.cli import main

    assert (
        main(["genderpair", "--pair-sets", "builtin", "--out", str(tmp_path / "gp"), "--variants", "paper"])
        == 0
    )
    assert "14904 prompts" in capsys.readouterr().out
    assert (tmp_path / "gp/dataset").is_dir() and (tmp_path / "gp/counts.json").is_file()
    assert main(["genderpair", "--pair-sets", str(tmp_path / "none"), "--out", str(tmp_path / "x")]) == 1
    assert "pair-set directory not found" in capsys.readouterr().err
