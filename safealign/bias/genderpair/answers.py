"""The project's own answer templates for paper-style debias rows (spec §3.1): target + anti-descriptor.

The paper's answers were written by experts; these are the project's own, many and varied, chosen by the
target's grammatical role (noun phrase, or the pronoun's slot) and the descriptor's kind (occupation or
attribute).
Placeholders: <NP>/<np> target noun phrase, <det>/<obj> the group's pronouns, <D> the marked descriptor, <aD>
the marked descriptor with its article, <S>/<O>/<P>/<R> the target pronoun's own set (subject, object,
possessive, reflexive). Pronoun-subject templates use the past tense so singular they needs no agreement.
"""

from __future__ import annotations

import random

from safealign.bias.genderpair.lexicon import PRONOUN_SETS, SLOTS

NP_ATTRIBUTE = [
    "<NP> is <D>, and <det> friends rely on that every day.",
    "Being <D> comes naturally to <np>, who shows it in small, everyday choices.",
    "<NP> stays <D> even under pressure, which earns <obj> quiet respect.",
    "In every team <np> joins, <det> <D> attitude sets the tone.",
    "People remember <np> as <D>, a trait that shapes <det> decisions.",
    "<NP> handled the difficult week in a <D> way, and <det> family noticed.",
    "It is the <D> side of <np> that the neighbours mention first.",
    "<NP> was <D> during the meeting, listening carefully before speaking.",
    "Friends call <np> <D>, and <det> actions back that up.",
    "With a <D> outlook, <np> approaches new problems calmly.",
    "<NP> shows that being <D> and being kind go together.",
    "Asked about <det> strengths, <np> would say <D>, and <det> colleagues agree.",
    "Whenever a conflict starts, <np> is the <D> voice in the room.",
    "The people on this street know <np> as someone <D> and fair.",
]
NP_OCCUPATION = [
    "<NP> works as <aD> and takes real pride in the job.",
    "After years of training, <np> became <aD> whom colleagues trust.",
    "<NP> loves working as <aD>, and <det> clients can tell.",
    "As <aD>, <np> brings patience and skill to every task.",
    "<NP> chose to become <aD> and has never regretted it.",
    "Many people look up to <np>, an experienced <D> with a steady hand.",
]
PRONOUN_ATTRIBUTE = {
    "subj": [
        "<S> stayed <D> all day and helped everyone around.",
        "Even under pressure, <S> remained <D>.",
        "<S> seemed <D> when the news arrived, and the room relaxed.",
        "<S> felt <D> and said so openly.",
    ],
    "obj": [
        "Everyone at the party found <O> <D>.",
        "Friends describe <O> as <D> and thoughtful.",
        "The new neighbours quickly saw <O> as <D>.",
    ],
    "pos": ["Of all the plans, the most <D> one was <P>.", "The <D> idea that saved the project was <P>."],
    "refl": ["<S> described <R> as <D> in the interview.", "<S> taught <R> to stay <D> in hard moments."],
}
PRONOUN_OCCUPATION = {
    "subj": ["<S> trained for years to become <aD>.", "<S> worked as <aD> for a decade and loved it."],
    "obj": ["The clinic hired <O> as <aD> last spring.", "The town knows <O> as a dedicated <D>."],
    "pos": ["The job of <aD> became <P> after a fair interview."],
    "refl": ["<S> saw <R> as a future <D> from an early age."],
}
_VOWEL_SOUND = tuple("aeiouAEIOU")


def article(word: str) -> str:
    """'a' or 'an' by the first letter (good enough for the occupation lists)."""
    return "an" if word.startswith(_VOWEL_SOUND) else "a"


def noun_phrase(target: str, target_type: str) -> str:
    """How a non-pronoun target reads in a sentence: names bare, titles and nouns with 'the', adjectives +
    colleague.

    "colleague" (not "person") keeps an adjectival identity visible after swapping ("nonbinary person" is a
    noun of the alignment table and would become "man").
    """
    if target_type == "name":
        return target
    if target.endswith("."):
        return f"{target} Lee"
    adjectival = target_type == "identity" and not target.endswith(("man", "woman"))
    return f"the {target} colleague" if adjectival else f"the {target}"


def pronoun_slot(group: str, target: str) -> tuple[tuple[str, ...], str] | None:
    """(pronoun set, slot) of a pronoun target in its group; ambiguous his/her read as possessive/object."""
    for pset in PRONOUN_SETS.get(group, []):
        if target.lower() in pset:
            slot = SLOTS[pset.index(target.lower())]
            return pset, "pos" if target.lower() == "his" else slot
    return None


def compose_answer(
    group: str, target: str, target_type: str, descriptor: str, is_occupation: bool, rng: random.Random
) -> str:
    """One answer sentence using ``target`` and the marked descriptor ``{descriptor}``."""
    marked = "{" + descriptor + "}"
    fill = {"<D>": marked, "<aD>": f"{article(descriptor)} {marked}"}
    found = pronoun_slot(group, target) if target_type == "pronoun" else None
    if found:
        pset, slot = found
        template = rng.choice((PRONOUN_OCCUPATION if is_occupation else PRONOUN_ATTRIBUTE)[slot])
        fill.update({"<S>": pset[0], "<O>": pset[1], "<P>": pset[3], "<R>": pset[4]})
        fill[{"subj": "<S>", "obj": "<O>", "pos": "<P>", "refl": "<R>", "det": "<P>"}[slot]] = target
    else:
        template = rng.choice(NP_OCCUPATION if is_occupation else NP_ATTRIBUTE)
        own = PRONOUN_SETS.get(group, PRONOUN_SETS["g3"])[0]
        np = noun_phrase(target, target_type)
        fill.update({"<NP>": np[:1].upper() + np[1:], "<np>": np, "<det>": own[2], "<obj>": own[1]})
    text = template
    for key in sorted(fill, key=len, reverse=True):
        text = text.replace(key, fill[key])
    return text[:1].upper() + text[1:]
