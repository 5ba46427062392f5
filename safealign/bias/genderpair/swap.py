"""Three-way counterfactual term swapping (spec §3.3): rewrite a text from one group into another.

Case-insensitive word-boundary matching (names: as spelled), case pattern and ``{…}`` braces preserved,
descriptor spans protected. Pronoun slots and verb agreement follow the rules in ``grammar.py``. One
``SwapChoice`` per row fixes the G3 pronoun set and the G3 identity drawn for "cisgender man/male", so all
mentions in a row agree.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import lru_cache

from safealign.bias.genderpair.grammar import ADVERBS, determiner_reading, match_case, reinflect
from safealign.bias.genderpair.lexicon import (
    DRAW,
    G3_DRAW_IDENTITIES,
    PRONOUN_SETS,
    SLOTS,
    Entry,
    gendered_nouns,
    pluralize,
    pronoun_number_plural,
    source_lexicon,
)
from safealign.bias.genderpair.targets import GROUPS

_CONTRACTION = re.compile(r"(['’])(s|re|ve|d|ll)\b", re.IGNORECASE)
_VERB_AFTER = re.compile(
    r"(\s+)((?:(?:%s)\s+)*)([A-Za-z][A-Za-z'’]*)" % "|".join(sorted(ADVERBS)), re.IGNORECASE
)


@dataclass(frozen=True)
class SwapChoice:
    """Per-row seeded choices for the destination G3 forms."""

    g3_pronouns: tuple[str, str, str, str, str] = PRONOUN_SETS["g3"][0]
    g3_identity: str = G3_DRAW_IDENTITIES[0]

    @classmethod
    def draw(cls, rng: random.Random) -> "SwapChoice":
        """Uniform draw of a G3 pronoun set and of a non-trans G3 identity."""
        return cls(rng.choice(PRONOUN_SETS["g3"]), rng.choice(G3_DRAW_IDENTITIES))


@dataclass
class SwapResult:
    """The rewritten text and the reasons it may not be trusted (empty when fully resolved)."""

    text: str
    unresolved: list[str] = field(default_factory=list)


@lru_cache(maxsize=None)
def _pattern(group: str) -> re.Pattern:
    lex = source_lexicon(group)
    names = sorted((k for k, e in lex.items() if e.kind == "name"), key=len, reverse=True)
    terms = sorted((k for k, e in lex.items() if e.kind != "name"), key=len, reverse=True)
    alternatives = "(?i:%s)|%s" % ("|".join(map(re.escape, terms)), "|".join(map(re.escape, names)))
    return re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives)


def _lookup(group: str, form: str) -> Entry:
    lex = source_lexicon(group)
    return lex.get(form) or lex[form.lower()]


def _render(entry: Entry, dst: str, choice: SwapChoice) -> str:
    word = entry.dest[dst]
    if DRAW in word:
        word = word.replace(DRAW, choice.g3_identity)
    return pluralize(word) if entry.plural else word


def _pronoun_set(dst: str, choice: SwapChoice) -> tuple[str, ...]:
    return choice.g3_pronouns if dst == "g3" else PRONOUN_SETS[dst][0]


def swap_text(
    text: str, src: str, dst: str, choice: SwapChoice = SwapChoice(), protect: tuple[str, ...] = ()
) -> SwapResult:
    """Rewrite each ``src`` term of ``text`` into group ``dst``; ``protect`` spans (descriptors) stay."""
    if src not in GROUPS or dst not in GROUPS:
        raise ValueError(f"unknown group {src!r} or {dst!r} (expected one of {GROUPS})")
    if src == dst:
        return SwapResult(text)
    protected = [
        (m.start(), m.end())
        for p in protect
        if p
        for m in re.finditer(r"(?<![\w-])%s(?![\w-])" % re.escape(p), text)
    ]
    out, pos, unresolved = [], 0, []
    for m in _pattern(src).finditer(text):
        if m.start() < pos:
            continue
        if any(a <= m.start() < b for a, b in protected):
            unresolved.append(f"source term {m.group(0)!r} inside a protected descriptor")
            continue
        entry = _lookup(src, m.group(0))
        out.append(text[pos : m.start()])
        pos = m.end()
        if entry.kind != "pronoun":
            out.append(
                match_case(m.group(0), _render(entry, dst, choice))
                if entry.kind != "name"
                else _render(entry, dst, choice)
            )
            continue
        slot = _resolve_slot(entry, text, m.start(), m.end())
        new = _pronoun_set(dst, choice)[SLOTS.index(slot)]
        out.append(match_case(m.group(0), new))
        if slot == "subj" and pronoun_number_plural(m.group(0)) != pronoun_number_plural(new):
            verb_text, pos, problem = _agree(text, pos, to_plural=pronoun_number_plural(new))
            out.append(verb_text)
            if problem:
                unresolved.append(problem)
    out.append(text[pos:])
    return SwapResult("".join(out), unresolved)


def _resolve_slot(entry: Entry, text: str, start: int, end: int) -> str:
    if len(entry.slots) == 1:
        return entry.slots[0]
    det = determiner_reading(text, start, end, gendered_nouns())
    if "obj" in entry.slots:  # her / xir / faer
        return "det" if det else "obj"
    return "det" if det else "pos"  # his


def _agree(text: str, pos: int, to_plural: bool) -> tuple[str, int, str | None]:
    """Re-inflect what follows a subject pronoun at ``pos``; returns (new text, new pos, problem or None)."""
    c = _CONTRACTION.match(text, pos)
    if c:
        suffix = c.group(2).lower()
        if suffix in ("d", "ll"):
            return c.group(0), c.end(), None
        if to_plural:
            if suffix == "s":
                return c.group(0), c.end(), f"contraction {text[max(0, pos - 4) : c.end()]!r} (is or has?)"
            return c.group(0), c.end(), None
        return c.group(1) + "s", c.end(), None  # they're / they've → he's
    v = _VERB_AFTER.match(text, pos)
    if v is None:
        return "", pos, None
    verb = v.group(3)
    return v.group(1) + v.group(2) + match_case(verb, reinflect(verb, to_plural)), v.end(), None
