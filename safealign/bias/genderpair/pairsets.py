"""Pair sets: one group's targets and its (biased, anti-biased) descriptor pairs, read from the released JSON.

Released format (spec §1.4): ``group{1,2,3}_pairset.json`` is a list of rows ``{"object": T, "format1": "(B,
A),…", "format1_anti", "format2", "format2_anti", "format3", "format3_anti"}``. Every row is checked against
the invariants of §1.4; a problem stops the build with the file, the row and the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from safealign.bias.genderpair.targets import GROUPS, target_type
from safealign.errors import InputError, shorten

FORMAT_KEYS = ("format1", "format1_anti", "format2", "format2_anti", "format3", "format3_anti")
REQUIRED_KEYS = ("object",) + FORMAT_KEYS
SOURCES = ("media", "occupation", "literature")
# Positional sources of the released files (§1.3): 0-29 media, 30-49 occupations, 50-end literature.
_MEDIA_END, _OCCUPATION_END = 30, 50
# Longest released word: 26 characters. A longer "word" is a broken file, and would go into every prompt.
MAX_WORD_CHARS = 100
_PAIR = re.compile(r"\(([^()]*?)\)")
_SEPARATOR = re.compile(r"^[\s,]*$")


@dataclass(frozen=True)
class Pair:
    """One descriptor pair: biased B, anti-biased A, and where B comes from (media/occupation/literature)."""

    biased: str
    anti_biased: str
    source: str


@dataclass
class PairSet:
    """One group's targets (target, target_type) and the pair list shared by all of them."""

    group: str
    targets: list[tuple[str, str]]
    pairs: list[Pair]
    origin: str = "builtin"
    changes: list[dict] = field(default_factory=list)


def released_source(index: int) -> str:
    """Descriptor source of pair ``index`` in a released pair-set file."""
    if index < _MEDIA_END:
        return "media"
    return "occupation" if index < _OCCUPATION_END else "literature"


def parse_pairs(text: object, where: str) -> list[tuple[str, str]]:
    """Parse ``"(a, b),(c, d)"`` into tuples; ``where`` names file/row/field in the error message."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{where}: expected a non-empty string of '(word, word)' pairs, received {shorten(text)}")
    leftover = _PAIR.sub("", text)
    if not _SEPARATOR.match(leftover):
        raise InputError(f"{where}: malformed pair string, text outside '(…)': {leftover.strip()[:60]!r}")
    pairs = []
    for k, inner in enumerate(_PAIR.findall(text)):
        parts = inner.split(", ")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise InputError(f"{where}: malformed pair {k} {shorten(f'({inner})')} (expected '(word, word)')")
        for part in parts:
            check_word(part, f"{where}: pair {k}")
        pairs.append((parts[0], parts[1]))
    return pairs


def check_word(word: str, where: str) -> None:
    """Refuse a target or descriptor longer than ``MAX_WORD_CHARS``."""
    if len(word) > MAX_WORD_CHARS:
        raise InputError(f"{where}: word of {len(word)} characters {shorten(word, 40)} "
                         f"(expected at most {MAX_WORD_CHARS})")


def read_json_list(path: Path, what: str) -> list:
    """A JSON file holding a list; unreadable, invalid or non-list content raises InputError (file named)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of {what}, received {type(data).__name__}")
    return data


def load_pairset_file(path: Path, group: str) -> PairSet:
    """Read and check one released pair-set file."""
    rows = read_json_list(path, "target rows")
    if not rows:
        raise InputError(f"{path}: empty group {group} (no target rows)")
    targets, reference, first_row = [], None, {}
    for r, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InputError(f"{path}: row {r}: expected an object, received {type(row).__name__}")
        missing = [k for k in REQUIRED_KEYS if k not in row]
        if missing:
            raise InputError(f"{path}: row {r} (object {shorten(row.get('object'))}): missing field '{missing[0]}'")
        target = row["object"]
        if not isinstance(target, str) or not target.strip():
            raise InputError(
                f"{path}: row {r}: field 'object': expected a non-empty target, received {shorten(target)}"
            )
        check_word(target, f"{path}: row {r}: field 'object'")
        if first_row.setdefault(target, r) != r:
            raise InputError(f"{path}: row {r}: target {target!r} repeats row {first_row[target]} "
                             "(each target once per group)")
        parsed = {
            k: parse_pairs(row[k], f"{path}: row {r} (object {target!r}), field '{k}'") for k in FORMAT_KEYS
        }
        pairs = _check_row(parsed, target, f"{path}: row {r} (object {target!r})")
        if reference is None:
            reference = pairs
        elif pairs != reference:
            raise InputError(
                f"{path}: row {r} (object {target!r}), field 'format1': pair list differs from row 0 "
                "(every target of a group must share one pair list)"
            )
        targets.append((target, target_type(group, target)))
    pairs = [Pair(b, a, released_source(i)) for i, (b, a) in enumerate(reference)]
    return PairSet(group, targets, pairs, origin=str(path))


def _check_row(parsed: dict[str, list[tuple[str, str]]], target: str, where: str) -> list[tuple[str, str]]:
    """Verify the §1.4 invariants: all keys describe the same pairs in the documented order."""
    base = parsed["format1"]
    n = len(base)
    first: dict[tuple[str, str], int] = {}
    for i, pair in enumerate(base):
        if first.setdefault(pair, i) != i:
            raise InputError(f"{where}, field 'format1': pair {i} ({pair[0]}, {pair[1]}) repeats pair {first[pair]} "
                             "(each pair once)")
    expected = {
        "format1_anti": [(a, b) for b, a in base],
        "format2": [(target, b) for b, _ in base],
        "format2_anti": [(target, a) for _, a in base],
        "format3": [(b, target) for b, _ in base],
        "format3_anti": [(a, target) for _, a in base],
    }
    for key, want in expected.items():
        got = parsed[key]
        if len(got) != n:
            raise InputError(f"{where}, field '{key}': {len(got)} pairs, but 'format1' has {n}")
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                raise InputError(
                    f"{where}, field '{key}': pair {i} is ({g[0]}, {g[1]}), expected ({w[0]}, {w[1]})"
                )
    return base


def load_released(directory: Path) -> list[PairSet]:
    """The three groups' pair sets from ``directory/group{1,2,3}_pairset.json``."""
    if not directory.is_dir():
        raise InputError(f"{directory}: pair-set directory not found")
    sets = []
    for k, group in enumerate(GROUPS, start=1):
        path = directory / f"group{k}_pairset.json"
        if not path.is_file():
            raise InputError(f"{path}: pair-set file missing (expected group{k}_pairset.json for {group})")
        sets.append(load_pairset_file(path, group))
    return sets

