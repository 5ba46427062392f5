"""Debiasing data (gendercare.md 3): paper-style rows, the released file, three-way copies, held-out split."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from safealign.bias.genderpair.answers import compose_answer
from safealign.bias.genderpair.build import build_genderpair
from safealign.bias.genderpair.builtin_pairs import builtin_pairsets
from safealign.bias.genderpair.counterfactual import (
    anti_template_rows,
    count_rows,
    counterfactual_rows,
    infer_group,
    read_validation_file,
    split_rows,
)
from safealign.errors import InputError
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def builtin_tables():
    gp = build_genderpair(builtin_pairsets(), ["paper"], max_targets_per_type=2)
    return gp.pairs, gp.targets


def test_anti_template_rows_pair_each_target_with_anti_descriptors(builtin_tables):
    pairs, targets = builtin_tables
    rows = anti_template_rows(pairs, targets, per_target=3, seed=1)
    assert len(rows) == 3 * len(targets)
    anti = set(pairs["anti_biased"])
    for r in rows:
        assert r["descriptor"] in anti and "{" + r["descriptor"] + "}" in r["response"]
        assert f"word {{{r['target']}}}" in r["prompt"] and r["method"] == "anti_template"
        assert r["target"].lower() in r["response"].lower()
    assert (
        len({r["response"].replace(r["target"], "T").replace(r["descriptor"], "D").lower() for r in rows})
        > 10
    )
    assert rows == anti_template_rows(pairs, targets, per_target=3, seed=1)


@pytest.mark.parametrize(
    "group,target,kind",
    [
        ("g3", "xe", "pronoun"),
        ("g1", "himself", "pronoun"),
        ("g2", "her", "pronoun"),
        ("g3", "Mx.", "title"),
        ("g3", "gender fluid", "identity"),
        ("g2", "Olivia", "name"),
    ],
)
def test_answers_use_the_target_in_its_grammatical_role(group, target, kind):
    for k in range(6):
        answer = compose_answer(
            group, target, kind, "accountant" if k % 2 else "calm", bool(k % 2), random.Random(k)
        )
        assert target.lower() in answer.lower() and ("{calm}" in answer or "{accountant}" in answer)
        assert "<" not in answer


def test_every_row_gets_all_three_counterfactual_copies(builtin_tables):
    pairs, targets = builtin_tables
    rows = anti_template_rows(pairs, targets, per_target=1, seed=2)
    out, report = counterfactual_rows(rows, seed=2)
    by_source = pd.DataFrame(out).groupby("source_row")["group"].apply(sorted)
    complete = by_source[by_source.map(lambda g: g == ["g1", "g2", "g3"])]
    dropped = sum(r.get("dropped", 0) for r in report.values())
    assert len(complete) >= len(rows) - dropped and len(complete) > 0.9 * len(rows)
    copy = next(r for r in out if r["method"] == "swap" and r["source_row"] == 0)
    assert copy["descriptor"] == rows[0]["descriptor"] and copy["target"] != rows[0]["target"]
    assert sum(r["in"] for g, r in report.items() if g != "unknown") == len(rows)


def test_unknown_targets_stay_unaugmented_and_are_counted():
    row = {
        "prompt": "… word {LGBTQ} … {kind}.",
        "response": "LGBTQ people are {kind}.",
        "group": "",
        "target": "LGBTQ",
        "descriptor": "kind",
        "method": "validation_file",
    }
    out, report = counterfactual_rows([row], seed=0)
    assert len(out) == 1 and report["unknown"] == {"not_augmented": 1}


def test_group_inference_and_shared_names():
    assert infer_group("niece") == "g2" and infer_group("grandparents") == "g3" and infer_group("Mary") == ""
    assert infer_group(" cis male") == ""
    assert infer_group("Noah", "Noah said he would come.") == "g1"
    assert infer_group("Noah", "Noah said they would come.") == "g3"


def test_split_is_seeded_and_keeps_copies_together(builtin_tables):
    pairs, targets = builtin_tables
    out, _ = counterfactual_rows(anti_template_rows(pairs, targets, 2, 0), seed=0)
    train, val = split_rows(out, 0.2, seed=5)
    assert not {r["source_row"] for r in train} & {r["source_row"] for r in val}
    assert len(train) + len(val) == len(out) and 0 < len(val) < len(train)
    assert split_rows(out, 0.2, seed=5) == (train, val)
    assert set(count_rows(train)) == {"g1", "g2", "g3"}


def test_released_validation_file_is_read():
    rows = read_validation_file(shared_path("gendercare", "debiasing", "merged_3groups_ft_validate.json"))
    assert len(rows) == 3819
    assert rows[0]["target"] == "niece" and rows[0]["descriptor"] == "sensible" and rows[0]["group"] == "g2"


@pytest.mark.parametrize(
    "content,expected",
    [
        ("[{", "not valid JSON"),
        ('{"a": 1}', "expected a JSON list"),
        ('[{"prompt": "x"}]', "row 0: expected fields 'prompt' and 'sentence'"),
        ('[{"prompt": "no braces", "sentence": "s"}]', "row 0, field 'prompt'"),
    ],
)
def test_bad_validation_file_names_file_and_row(tmp_path, content, expected):
    path = tmp_path / "v.json"
    path.write_text(content)
    with pytest.raises(InputError, match=expected):
        read_validation_file(path)
