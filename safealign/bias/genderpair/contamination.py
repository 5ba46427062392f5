"""Overlap of GenderPair pairs/targets and the debias data with StereoSet and WinoQueer (spec §8).

StereoSet word pairs are the spans where a stereotype and its anti-stereotype sentence differ (common leading
and trailing words removed, surrounding punctuation stripped, exact match). WinoQueer identity terms are the
``Gender_ID_x``/``Gender_ID_y`` labels (NB = nonbinary); a target counts when one of its words is such a term.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from safealign.errors import InputError

STEREOSET_FILE = "stereoset_gender_intrasentence.csv"
WINOQUEER_FILE = "winoqueer_gender.csv"
_LABEL_WORDS = {"nb": ("nonbinary", "non-binary", "nb")}
_PUNCT = ".,;:!?\"'()"


@dataclass
class Benchmarks:
    """StereoSet (target, stereotype word, anti-stereotype word) triples; WinoQueer terms and sentences."""

    stereoset: list[tuple[str, str, str]]
    winoqueer_terms: frozenset[str]
    winoqueer_sentences: list[str]


def differing_span(a: str, b: str) -> tuple[str, str]:
    """The words where two sentences differ, after removing their common prefix and suffix words."""
    x, y = a.split(), b.split()
    i = 0
    while i < min(len(x), len(y)) and x[i] == y[i]:
        i += 1
    j = 0
    while j < min(len(x), len(y)) - i and x[-1 - j] == y[-1 - j]:
        j += 1
    return " ".join(x[i : len(x) - j]).strip(_PUNCT), " ".join(y[i : len(y) - j]).strip(_PUNCT)


def load_benchmarks(directory: Path) -> Benchmarks | None:
    """Read the two benchmark files from ``directory``; None when the folder or a file is absent."""
    stereo_path, wino_path = directory / STEREOSET_FILE, directory / WINOQUEER_FILE
    if not (stereo_path.is_file() and wino_path.is_file()):
        return None
    stereo = _read_csv(stereo_path, ["target", "stereo_sentence", "antistereo_sentence"])
    triples = [
        (t, *differing_span(s, a))
        for t, s, a in zip(stereo["target"], stereo["stereo_sentence"], stereo["antistereo_sentence"])
    ]
    wino = _read_csv(wino_path, ["Gender_ID_x", "Gender_ID_y", "sent_x"])
    labels = set(wino["Gender_ID_x"].str.lower()) | set(wino["Gender_ID_y"].str.lower())
    terms = frozenset(w for label in labels for w in _LABEL_WORDS.get(label, (label,)))
    return Benchmarks(triples, terms, list(dict.fromkeys(wino["sent_x"])))


def _read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read benchmark CSV ({exc})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column '{missing[0]}' (has {list(frame.columns)})")
    return frame.dropna(subset=columns)


def is_winoqueer_identity(target: str, terms: frozenset[str]) -> bool:
    """True when a word of ``target`` is a WinoQueer identity term ("cis people", "LGBTQ", "transgender")."""
    return any(w in terms for w in re.findall(r"[\w-]+", target.lower()))


def contamination_report(
    pairs: pd.DataFrame, targets: pd.DataFrame, debias: pd.DataFrame, bench: Benchmarks | None
) -> dict:
    """The §8 overlap table; ``debias`` has columns target, descriptor, method (one row per training row)."""
    if bench is None:
        return {"benchmarks": "absent"}
    stereo_pairs = {(s, a) for _, s, a in bench.stereoset}
    anti_words = {a for _, _, a in bench.stereoset}
    pair_hits = {
        g: [f"{b}/{a}" for b, a in zip(df["biased"], df["anti_biased"]) if (b, a) in stereo_pairs]
        for g, df in pairs.groupby("group")
    }
    stereo_targets = sorted({t for t, _, _ in bench.stereoset})
    gp_targets = set(targets["target"])
    descriptor_hits = debias["descriptor"].isin(anti_words)
    word_counts = Counter(debias.loc[descriptor_hits, "descriptor"])
    wino_targets = Counter(t for t in debias["target"] if is_winoqueer_identity(t, bench.winoqueer_terms))
    g3_biased = sorted(set(pairs.loc[pairs["group"] == "g3", "biased"]))
    g3_pattern = (
        re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, g3_biased)), re.IGNORECASE) if g3_biased else None
    )
    wino_hits = sum(bool(g3_pattern and g3_pattern.search(s)) for s in bench.winoqueer_sentences)
    return {
        "benchmarks": "present",
        "stereoset_pairs": {g: {"count": len(h), "pairs": h} for g, h in pair_hits.items()},
        "stereoset_targets": {
            "count": len(stereo_targets),
            "in_genderpair": sorted(gp_targets & set(stereo_targets)),
            "not_in_genderpair": sorted(set(stereo_targets) - gp_targets),
        },
        "debias_rows": int(len(debias)),
        "debias_rows_with_stereoset_word": int(descriptor_hits.sum()),
        "debias_stereoset_words": dict(word_counts.most_common()),
        "debias_rows_with_winoqueer_target": int(sum(wino_targets.values())),
        "debias_winoqueer_targets": dict(wino_targets.most_common()),
        "winoqueer_terms": sorted(bench.winoqueer_terms),
        "winoqueer_sentences": len(bench.winoqueer_sentences),
        "winoqueer_sentences_with_g3_biased_descriptor": int(wino_hits),
    }


def contaminated_mask(debias: pd.DataFrame, bench: Benchmarks | None) -> pd.Series:
    """Rows the held_out mode drops: descriptor is a StereoSet word or target a WinoQueer identity term."""
    if bench is None:
        return pd.Series(False, index=debias.index)
    anti_words = {a for _, _, a in bench.stereoset}
    return debias["descriptor"].isin(anti_words) | debias["target"].map(
        lambda t: is_winoqueer_identity(t, bench.winoqueer_terms)
    )


def contamination_markdown(report: dict) -> str:
    """A short markdown table of the report for reports/."""
    if report.get("benchmarks") != "present":
        return "# Contamination (GenderCARE §8)\n\nBenchmarks absent: no overlap computed.\n"
    lines = ["# Contamination (GenderCARE §8)", "", "| overlap | count | items |", "|---|---|---|"]
    for g, hit in report["stereoset_pairs"].items():
        lines.append(f"| {g} pairs = StereoSet word pairs | {hit['count']} | {', '.join(hit['pairs'])} |")
    st = report["stereoset_targets"]
    lines.append(
        f"| StereoSet targets that are GenderPair targets | {len(st['in_genderpair'])} of {st['count']} | "
        f"{', '.join(st['in_genderpair'])} |"
    )
    words = ", ".join(f"{w} {n}" for w, n in list(report["debias_stereoset_words"].items())[:15])
    lines.append(
        f"| debias rows whose descriptor is a StereoSet word | "
        f"{report['debias_rows_with_stereoset_word']} of "
        f"{report['debias_rows']} ({len(report['debias_stereoset_words'])} words) | {words} |"
    )
    targets = ", ".join(f"{t!r} {n}" for t, n in list(report["debias_winoqueer_targets"].items())[:15])
    lines.append(
        f"| debias rows whose target is a WinoQueer identity term | "
        f"{report['debias_rows_with_winoqueer_target']} | {targets} |"
    )
    lines.append(
        f"| WinoQueer sentences with a G3 biased descriptor | "
        f"{report['winoqueer_sentences_with_g3_biased_descriptor']} of {report['winoqueer_sentences']} | |"
    )
    if "training_rows" in report:
        lines.append(
            f"| training rows (all methods, after swapping) with either overlap | "
            f"{report['training_rows']['contaminated']} of {report['training_rows']['rows']} | |"
        )
    if "excluded_rows" in report:
        lines.append(f"| rows excluded from training (held_out mode) | {report['excluded_rows']} | |")
    return "\n".join(lines) + "\n"
