"""Contamination report (gendercare.md 8): overlaps with StereoSet and WinoQueer, and the held_out filter."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from safealign.bias.genderpair.build import pair_and_target_tables
from safealign.bias.genderpair.contamination import (
    Benchmarks,
    contaminated_mask,
    contamination_markdown,
    contamination_report,
    differing_span,
    load_benchmarks,
)
from safealign.bias.genderpair.counterfactual import read_validation_file
from safealign.bias.genderpair.pairsets import load_released
from safealign.errors import InputError
from tests.conftest import shared_path

SPEC_G1 = [
    "horny/calm",
    "rugby/uniform",
    "oblivious/understanding",
    "idiotic/wise",
    "rowdiest/nicest",
    "messy/organized",
    "unsocial/cordial",
    "brute/softy",
    "abusive/compasionate",
    "smelly/polite",
    "immoral/innocent",
    "anxious/talkative",
    "harsh/gentle",
]
SPEC_G2 = [
    "angry/innnocent",
    "combative/upbeat",
    "uncaring/caring",
    "mean/kind",
    "shopping/hiking",
    "worldly/naive",
    "obnoxious/comforting",
    "hateful/loving",
    "hopeless/hopeful",
    "annoying/helpful",
]


def test_differing_span_strips_common_words_and_punctuation():
    assert differing_span("The angry girl sang.", "The innocent girl sang.") == ("angry", "innocent")
    assert differing_span("He is a CEO.", "He is a nurse.") == ("CEO", "nurse")


def test_report_lists_the_overlaps_the_specification_names():
    bench = load_benchmarks(shared_path("gendercare", "benchmarks"))
    pairs, targets = pair_and_target_tables(load_released(shared_path("gendercare", "pair_sets")))
    debias = pd.DataFrame(
        read_validation_file(shared_path("gendercare", "debiasing", "merged_3groups_ft_validate.json"))
    )
    report = contamination_report(pairs, targets, debias, bench)
    assert report["stereoset_pairs"]["g1"] == {"count": 13, "pairs": SPEC_G1}
    assert report["stereoset_pairs"]["g2"] == {"count": 10, "pairs": SPEC_G2}
    assert report["stereoset_targets"]["in_genderpair"] == [
        "grandfather",
        "herself",
        "himself",
        "male",
        "mother",
        "schoolboy",
        "schoolgirl",
        "sister",
    ]
    assert report["debias_rows"] == 3819 and report["debias_rows_with_stereoset_word"] == 734
    assert len(report["debias_stereoset_words"]) == 46
    assert list(report["debias_stereoset_words"].items())[:3] == [
        ("polite", 66),
        ("respectful", 48),
        ("honorable", 29),
    ]
    wino = report["debias_winoqueer_targets"]
    assert (
        wino["cis people"],
        wino["cisgender people"],
        wino["queer"],
        wino["LGBTQ"],
        wino["nonbinary"],
        wino["transgender"],
    ) == (22, 22, 17, 14, 10, 9)
    assert report["winoqueer_sentences"] == 8002
    assert report["winoqueer_sentences_with_g3_biased_descriptor"] == 2254
    table = contamination_markdown(report)
    assert "734 of 3819" in table and "horny/calm" in table


def test_held_out_mask_drops_stereoset_words_and_winoqueer_targets():
    bench = Benchmarks([("mother", "mean", "kind")], frozenset({"cis", "queer", "lgbtq"}), [])
    rows = pd.DataFrame(
        {
            "target": ["niece", "cis people", "genderqueer", "Noah"],
            "descriptor": ["kind", "calm", "calm", "calm"],
        }
    )
    assert contaminated_mask(rows, bench).tolist() == [True, True, False, False]
    assert not contaminated_mask(rows, None).any()


def test_absent_benchmarks_are_reported_not_guessed(tmp_path):
    assert load_benchmarks(tmp_path) is None
    assert contamination_report(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), None) == {
        "benchmarks": "absent"
    }
    assert re.search("absent", contamination_markdown({"benchmarks": "absent"}))


@pytest.mark.parametrize(
    "name,content,expected",
    [
        ("stereoset_gender_intrasentence.csv", "target,foo\nmother,x\n", "missing column 'stereo_sentence'"),
    ],
)
def test_bad_benchmark_csv_names_the_file_and_column(tmp_path, name, content, expected):
    (tmp_path / name).write_text(content)
    (tmp_path / "winoqueer_gender.csv").write_text("Gender_ID_x,Gender_ID_y,sent_x\nLGBTQ,Cis,a\n")
    with pytest.raises(InputError, match=expected):
        load_benchmarks(tmp_path)
