"""Tagger-free grammar rules of swapping: "her"/"his" disambiguation, verb agreement for singular they.

spaCy is not installed, so part of speech comes from a closed-class word list:

* ``her``/``xir``/``faer`` (object or possessive determiner) and ``his`` (determiner or possessive pronoun):
  when the next word is an open-class word (not a function word, not an -ly adverb, not punctuation) the form
  is a determiner ("her {kind} heart" → "his {kind} heart"); otherwise it is the object / possessive pronoun
  ("told her that" → "told him that", "the book is his." → "the book is hers."). After a verb that takes two
  objects ("gave her flowers") the object reading wins unless the next word is a gendered noun ("gave her
  mother flowers").
* Agreement: after a subject pronoun whose number changes (he/she/ey/xe/fae ↔ singular they), adverbs are
  skipped and the next word is re-inflected: auxiliaries by table (is ↔ are, was ↔ were, has ↔ have, does ↔
  do, and their negations), modals and past forms stay, other words are treated as present-tense verbs (runs ↔
  run). A contracted "he's"/"she's" cannot be resolved (is or has) and marks the row unresolved.
"""

from __future__ import annotations

import re

FUNCTION_WORDS = frozenset(
    """
a an the this that these those to for with about at by from in into of on onto over under through after before
during without toward towards around as than like upon within across behind beyond near and or but nor so yet
because if when while although though since until unless whether where why how i you he she it we they me him
her us them my your our their its his hers ours theirs mine yours who whom whose which what himself herself
itself themselves themself someone something everyone everything anyone anything nobody nothing is are was
were be been being am has have had do does did will would can could shall should may might must not never
always too very then there here now today yesterday tomorrow tonight again back away up down out off also just
still even already soon once twice all both
""".split()
)
DOUBLE_OBJECT_VERBS = frozenset(
    """
give gives gave giving tell tells told telling show shows showed send sends sent offer offers offered bring
brings brought teach teaches taught ask asks asked buy buys bought owe owes owed pay pays paid lend lends lent
hand hands handed
""".split()
)
ADVERBS = frozenset(
    """
always never often also still just really usually sometimes only even rarely seldom actually truly clearly
certainly quickly slowly finally already typically generally simply deeply quietly proudly openly
""".split()
)
AUX_TO_PLURAL = {
    "is": "are",
    "was": "were",
    "has": "have",
    "does": "do",
    "isn't": "aren't",
    "wasn't": "weren't",
    "hasn't": "haven't",
    "doesn't": "don't",
}
AUX_TO_SINGULAR = {v: k for k, v in AUX_TO_PLURAL.items()}
INVARIANT = frozenset(
    """
can could will would shall should may might must did didn't had hadn't can't couldn't won't wouldn't shouldn't
""".split()
)
IRREGULAR_PAST = frozenset(
    """
ran said went made took came saw knew got gave found thought told became left felt brought began kept held
wrote stood heard meant met paid sat spoke lay led grew lost fell sent built understood drew broke spent rose
drove bought wore chose won taught caught fought sought thought threw flew forgot forgave hid hung rode rang
sang sank slept slid spun stole struck swam swore took tore woke wove wept
""".split()
)
_WORD = re.compile(r"[{\[(\"']*([A-Za-z][A-Za-z'’-]*)")


def next_word(text: str, pos: int) -> str | None:
    """The word after whitespace (and an opening brace/quote) at ``pos``; None at punctuation or end."""
    m = re.compile(r"\s+").match(text, pos)
    if m is None:
        return None
    w = _WORD.match(text, m.end())
    return w.group(1) if w else None


def previous_word(text: str, pos: int) -> str | None:
    """The word that ends just before ``pos`` (ignoring whitespace), or None."""
    m = re.search(r"([A-Za-z']+)[\s{}]*$", text[:pos])
    return m.group(1) if m else None


def is_open_class(word: str | None) -> bool:
    """True for a word that can follow a determiner: not a function word, not an -ly adverb."""
    if word is None:
        return False
    w = word.lower()
    return w not in FUNCTION_WORDS and not (w.endswith("ly") and len(w) > 4)


def determiner_reading(text: str, start: int, end: int, nouns: frozenset[str] = frozenset()) -> bool:
    """Whether the ambiguous pronoun at ``text[start:end]`` is a possessive determiner (rule in the module
    doc).

    ``nouns`` are words known to be nouns (the alignment table): "gave her mother flowers" reads as
    determiner.
    """
    following = next_word(text, end)
    if not is_open_class(following):
        return False
    if following.lower() in nouns:
        return True
    before = previous_word(text, start)
    return not (before and before.lower() in DOUBLE_OBJECT_VERBS)


def to_base_form(word: str) -> str:
    """3rd-person singular present → base form (runs → run, watches → watch, carries → carry)."""
    w = word.lower()
    if w in AUX_TO_PLURAL:
        return AUX_TO_PLURAL[w]
    if w.endswith("ies") and len(w) > 4:
        return word[:-3] + "y"
    if w.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        return word[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def to_third_singular(word: str) -> str:
    """Base form → 3rd-person singular present; past forms, modals and -ed words stay."""
    w = word.lower()
    if w in AUX_TO_SINGULAR:
        return AUX_TO_SINGULAR[w]
    if w in INVARIANT or w in IRREGULAR_PAST or w.endswith("ed") or w in FUNCTION_WORDS:
        return word
    if w.endswith("y") and len(w) > 2 and w[-2] not in "aeiou":
        return word[:-1] + "ies"
    if w.endswith(("s", "x", "z", "ch", "sh", "o")):
        return word + "es"
    return word + "s"


def reinflect(word: str, to_plural: bool) -> str:
    """Re-inflect the verb after a subject pronoun whose number changed."""
    w = word.lower()
    if w in INVARIANT or w.endswith("ed") or w in IRREGULAR_PAST:
        return word
    if to_plural:
        return word if w in FUNCTION_WORDS and w not in AUX_TO_PLURAL else to_base_form(word)
    return to_third_singular(word)


def match_case(original: str, replacement: str) -> str:
    """Carry the case pattern of ``original`` (UPPER, Capitalised, lower) over to ``replacement``."""
    if len(original) > 1 and original.isupper() and not original.endswith("."):
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement
