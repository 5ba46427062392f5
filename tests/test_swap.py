"""Three-way counterfactual swapping (gendercare.md 3.3): pronouns, agreement, names, "her", round trips."""

from __future__ import annotations

import itertools
import random

import pytest

from safealign.bias.genderpair.lexicon import PRONOUN_SETS
from safealign.bias.genderpair.swap import SwapChoice, swap_text

SETS = [(g, s) for g in ("g1", "g2", "g3") for s in PRONOUN_SETS[g]]


def _choice(pset: tuple[str, ...]) -> SwapChoice:
    return SwapChoice(g3_pronouns=pset) if pset in PRONOUN_SETS["g3"] else SwapChoice()


def _sentences(p: tuple[str, ...]) -> list[str]:
    """One sentence per slot; the subject sentence carries agreement (they: plural verbs)."""
    subj, obj, det, pos, refl = p
    plural = subj == "they"
    return [
        f"{subj.capitalize()} {'are' if plural else 'is'} kind and {subj} "
        f"{'run' if plural else 'runs'} daily.",
        f"We thanked {obj} yesterday.",
        f"We read {det} book.",
        f"The book is {pos}.",
        f"{subj.capitalize()} saw {refl}.",
    ]


@pytest.mark.parametrize(
    "src,dst",
    [(a, b) for a, b in itertools.product(SETS, SETS) if a[0] != b[0]],
    ids=lambda s: f"{s[0]}:{s[1][0]}",
)
def test_every_pronoun_form_in_every_direction(src, dst):
    for before, after in zip(_sentences(src[1]), _sentences(dst[1])):
        result = swap_text(before, src[0], dst[0], _choice(dst[1]))
        assert result.text == after and not result.unresolved, (before, result)


@pytest.mark.parametrize(
    "src,dst,text,want",
    [
        (
            "g1",
            "g3",
            "He has a dog and he doesn't smoke; he watches films and he carries bags.",
            "They have a dog and they don't smoke; they watch films and they carry bags.",
        ),
        (
            "g3",
            "g1",
            "They have a dog and they don't smoke; they watch films and they carry bags.",
            "He has a dog and he doesn't smoke; he watches films and he carries bags.",
        ),
        (
            "g3",
            "g2",
            "They were tired, so they always go home and they're happy.",
            "She was tired, so she always goes home and she's happy.",
        ),
        (
            "g2",
            "g3",
            "She was late but she never misses class; she can sing and she sang.",
            "They were late but they never miss class; they can sing and they sang.",
        ),
        ("g3", "g1", "Xe is kind and xe runs.", "He is kind and he runs."),  # singular neopronoun: no change
    ],
)
def test_verb_agreement_for_singular_they(src, dst, text, want):
    assert swap_text(text, src, dst).text == want


def test_contracted_is_or_has_cannot_be_resolved_for_they():
    result = swap_text("He's ready.", "g1", "g3")
    assert result.unresolved and "he's" in result.unresolved[0].lower()


@pytest.mark.parametrize(
    "text,want",
    [
        ("I met her yesterday.", "I met him yesterday."),
        ("Her {kind} heart shows.", "His {kind} heart shows."),
        ("We gave her flowers.", "We gave him flowers."),
        ("We gave her mother flowers.", "We gave his father flowers."),
        ("I told her that her idea was good.", "I told him that his idea was good."),
        ("He thanked her warmly.", "He thanked him warmly."),
        ("This gift is for her.", "This gift is for him."),
        ("The choice was hers, and her own.", "The choice was his, and his own."),
    ],
)
def test_her_is_resolved_by_part_of_speech(text, want):
    assert swap_text(text, "g2", "g1").text == want


def test_his_determiner_versus_possessive_pronoun():
    assert swap_text("His car is his.", "g1", "g2").text == "Her car is hers."
    assert swap_text("His car is his.", "g1", "g3").text == "Their car is theirs."


@pytest.mark.parametrize(
    "src,name,want",
    [
        ("g1", "Liam", {"g2": "Olivia", "g3": "Noah"}),
        ("g2", "Olivia", {"g1": "Liam", "g3": "Noah"}),
        ("g3", "Noah", {"g1": "Liam", "g2": "Olivia"}),
        ("g1", "Noah", {"g2": "Emma", "g3": "Logan"}),
        ("g3", "Rylie", {"g1": "Joseph", "g2": "Lily"}),
        ("g2", "lsabella", {"g1": "William", "g3": "Carter"}),
    ],
)
def test_names_are_rank_aligned_in_all_directions(src, name, want):
    for dst, other in want.items():
        assert swap_text(f"{name} met a friend.", src, dst).text == f"{other} met a friend."


def test_names_match_case_sensitively():
    assert (
        swap_text("The river and the hunter met at dawn.", "g3", "g1").text
        == "The river and the hunter met at dawn."
    )


@pytest.mark.parametrize(
    "src,dst,text,want",
    [
        (
            "g1",
            "g2",
            "The father and his sons met the king, Mr. Lee and two gentlemen.",
            "The mother and her daughters met the queen, Ms. Lee and two gentlewomen.",
        ),
        (
            "g2",
            "g3",
            "My aunt, a transfeminine woman, married her wife.",
            "My pibling, a trans nonbinary person, married their partner.",
        ),
        (
            "g3",
            "g1",
            "The genderqueer person and two nonbinary people met a transgender kid.",
            "The man and two men met a transmasculine boy.",
        ),
        ("g1", "g2", "HE SAID {Father} IS A MAN.", "SHE SAID {Mother} IS A WOMAN."),
    ],
)
def test_titles_identities_plurals_case_and_braces(src, dst, text, want):
    assert swap_text(text, src, dst).text == want


def test_cisgender_man_draws_a_g3_identity_per_row():
    choice = SwapChoice.draw(random.Random(3))
    text = swap_text("The cisgender man and another cisgender man.", "g1", "g3", choice).text
    assert text == f"The {choice.g3_identity} person and another {choice.g3_identity} person."


@pytest.mark.parametrize("src,mid", [("g1", "g2"), ("g2", "g1"), ("g1", "g3"), ("g2", "g3"), ("g3", "g1")])
def test_round_trip_returns_the_original_where_one_to_one(src, mid):
    originals = {
        "g1": "He told his brother he is proud of himself; the book is his. Liam met the king.",
        "g2": "She told her sister she is proud of herself; the book is hers. Olivia met the queen.",
        "g3": "They told their sibling they are proud of themself; the book is theirs. Noah met the monarch.",
    }
    there = swap_text(originals[src], src, mid).text
    assert swap_text(there, mid, src).text == originals[src]


def test_many_to_one_forms_do_not_round_trip():
    assert swap_text(swap_text("My dad", "g1", "g3").text, "g3", "g1").text == "My father"


def test_protected_descriptor_is_kept_and_a_source_term_inside_it_is_reported():
    result = swap_text("He is a {family man}.", "g1", "g2", protect=("family man",))
    assert result.text == "She is a {family man}." and result.unresolved
    assert swap_text("He is {kind}.", "g1", "g2", protect=("kind",)).text == "She is {kind}."


def test_same_group_is_identity_and_unknown_group_fails():
    assert swap_text("He runs.", "g1", "g1").text == "He runs."
    with pytest.raises(ValueError, match="unknown group"):
        swap_text("He runs.", "g1", "g4")
