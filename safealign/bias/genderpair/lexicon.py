"""The three-way alignment table of counterfactual swapping (spec §3.3): nouns, identities, pronouns, names.

``source_lexicon(group)`` maps every gendered form of one group (lower-cased; names as spelled) to an
``Entry`` that says how to render it in each other group. G3 → binary uses the first binary form of a G3 term
(parent → father/mother), so those directions are not one-to-one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from safealign.bias.genderpair.cleaning import TARGET_TYPOS
from safealign.bias.genderpair.targets import GROUPS, IDENTITIES, NAMES

DRAW = "<g3-identity>"  # placeholder: a seeded draw from the non-trans G3 identities
G3_DRAW_IDENTITIES = tuple(i for i in IDENTITIES["g3"] if not i.startswith("trans"))

ALIGNED_NOUNS = [
    ("father", "mother", "parent"),
    ("dad", "mom", "parent"),
    ("brother", "sister", "sibling"),
    ("uncle", "aunt", "pibling"),
    ("nephew", "niece", "nibling"),
    ("son", "daughter", "child"),
    ("grandfather", "grandmother", "grandparent"),
    ("grandpa", "grandma", "grandparent"),
    ("grandson", "granddaughter", "grandchild"),
    ("godfather", "godmother", "godparent"),
    ("godson", "goddaughter", "godchild"),
    ("boyfriend", "girlfriend", "date"),
    ("fiance", "fiancee", "betrothed"),
    ("husband", "wife", "partner"),
    ("sir", "madam", "citizen"),
    ("gentleman", "gentlewoman", "gentleby"),
    ("king", "queen", "monarch"),
    ("prince", "princess", "prin"),
    ("lord", "lady", "lairde"),
    ("khal", "khaleesi", "khalsine"),
    ("god", "goddess", "goddex"),
    ("boy", "girl", "kid"),
    ("schoolboy", "schoolgirl", "schoolkid"),
    ("fanboy", "fangirl", "fanby"),
    ("man", "woman", "nonbinary person"),
    ("cisgender man", "cisgender woman", DRAW + " person"),
]
UNCOUNTABLE = {"Mr.", "Ms.", "Mx."}
ALIGNED_TITLES = [("Mr.", "Ms.", "Mx.")]
ALIGNED_ADJECTIVES = [
    ("male", "female", "nonbinary"),
    ("transmasculine", "transfeminine", "trans"),
    ("cisgender male", "cisgender female", DRAW),
]
# Extra G3 → binary forms (no G3 counterpart is produced from them).
G3_ONLY = (
    [("transgender", "transmasculine", "transfeminine")]
    + [(f"{i} person", "man", "woman") for i in G3_DRAW_IDENTITIES[1:]]
    + [(i, "male", "female") for i in G3_DRAW_IDENTITIES[1:]]
)

SLOTS = ("subj", "obj", "det", "pos", "refl")
PRONOUN_SETS = {
    "g1": [("he", "him", "his", "his", "himself")],
    "g2": [("she", "her", "her", "hers", "herself")],
    "g3": [
        ("they", "them", "their", "theirs", "themself"),
        ("ey", "em", "eir", "eirs", "emself"),
        ("xe", "xir", "xir", "xirs", "xirself"),
        ("fae", "faer", "faer", "faers", "faerself"),
    ],
}
_IRREGULAR_PLURALS = {
    "man": "men",
    "woman": "women",
    "gentleman": "gentlemen",
    "gentlewoman": "gentlewomen",
    "child": "children",
    "grandchild": "grandchildren",
    "godchild": "godchildren",
    "person": "people",
    "nibling": "niblings",
}


@dataclass(frozen=True)
class Entry:
    """One swappable form: its kind, its rendering per destination group, the pronoun slot(s) it can fill."""

    kind: str  # noun | adjective | title | name | pronoun
    dest: dict[str, str] = field(default_factory=dict)
    slots: tuple[str, ...] = ()
    plural: bool = False


def pluralize(noun: str) -> str:
    """Plural of an alignment-table noun (last word inflected: 'nonbinary person' → 'nonbinary people')."""
    head, _, last = noun.rpartition(" ")
    if last in _IRREGULAR_PLURALS:
        plural = _IRREGULAR_PLURALS[last]
    elif last.endswith(("s", "x", "ch", "sh")):
        plural = last + "es"
    else:
        plural = last + "s"
    return f"{head} {plural}" if head else plural


def clean_name(name: str) -> str:
    """Cleaned spelling of a spec name (lsabella → Isabella)."""
    return TARGET_TYPOS.get(name, name)


@lru_cache(maxsize=None)
def source_lexicon(group: str) -> dict[str, Entry]:
    """Every gendered form of ``group`` → how to render it in the other groups."""
    src = GROUPS.index(group)
    others = [g for g in GROUPS if g != group]
    lex: dict[str, Entry] = {}

    def add(key: str, entry: Entry, case_sensitive: bool = False) -> None:
        lex.setdefault(key if case_sensitive else key.lower(), entry)

    for row in ALIGNED_NOUNS:
        add(row[src], Entry("noun", {g: row[GROUPS.index(g)] for g in others}))
        add(pluralize(row[src]), Entry("noun", {g: row[GROUPS.index(g)] for g in others}, plural=True))
    for row in ALIGNED_TITLES:
        add(row[src], Entry("title", {g: row[GROUPS.index(g)] for g in others}))
    for row in ALIGNED_ADJECTIVES:
        add(row[src], Entry("adjective", {g: row[GROUPS.index(g)] for g in others}))
    if group == "g3":
        for g3_form, g1_form, g2_form in G3_ONLY:
            kind = "noun" if g3_form.endswith(" person") else "adjective"
            add(g3_form, Entry(kind, {"g1": g1_form, "g2": g2_form}))
            if kind == "noun":
                add(pluralize(g3_form), Entry(kind, {"g1": g1_form, "g2": g2_form}, plural=True))
    for rank, name in enumerate(NAMES[group]):
        entry = Entry("name", {g: clean_name(NAMES[g][rank]) for g in others})
        add(name, entry, case_sensitive=True)
        add(clean_name(name), entry, case_sensitive=True)
    for pset in PRONOUN_SETS[group]:
        for slot, form in zip(SLOTS, pset):
            key = form.lower()
            old = lex.get(key)
            slots = tuple(dict.fromkeys((old.slots if old and old.kind == "pronoun" else ()) + (slot,)))
            lex[key] = Entry("pronoun", slots=slots)
    if group == "g3":
        lex.setdefault("themselves", Entry("pronoun", slots=("refl",)))
    return lex


@lru_cache(maxsize=None)
def gendered_nouns() -> frozenset[str]:
    """Every aligned noun form of every group, singular and plural (lower case)."""
    return frozenset(k for g in GROUPS for k, e in source_lexicon(g).items() if e.kind == "noun")


def pronoun_number_plural(form: str) -> bool:
    """Singular 'they' takes plural verb agreement; every other subject pronoun takes singular."""
    return form.lower() == "they"
