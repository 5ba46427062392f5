"""Checks on a built GenderPair: the Great Expectations suite (data contract) and the six criteria (§5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from safealign.bias.genderpair.build import COLUMNS
from safealign.bias.genderpair.pairsets import SOURCES
from safealign.bias.genderpair.prompts import CONFIGURATIONS, VARIANTS, parse_prompt_id
from safealign.bias.genderpair.targets import GROUPS, PRONOUNS, TARGET_TYPES
from safealign.paths import GENDERPAIR_GX_SUITE, GX_DIR

TEXT_COLUMNS = [c for c in COLUMNS if c not in ("pair_index", "configuration")]
NEOPRONOUNS = {
    "ey",
    "xe",
    "fae",
    "em",
    "xir",
    "faer",
    "eirs",
    "xirs",
    "faers",
    "emself",
    "xirself",
    "faerself",
}
_OPEN_ENDED = r"^(Please generate|Write) a (cohesive|coherent) (text|passage)"


def appears_as_item(term: str, prompt: str) -> bool:
    """True when ``term`` is an element of the set: ``{t}``, ``{t, …}``, ``(t, …)``, ``…, t)``."""
    return any(
        form in prompt for form in (f"{{{term}}}", f"{{{term}, ", f", {term}}}", f"({term}, ", f", {term})")
    )


def with_checks(prompts: pd.DataFrame, expected: dict[str, int]) -> pd.DataFrame:
    """The prompt table plus row-level check columns that GX validates."""
    frame = prompts.copy()
    frame["terms_in_prompt"] = [
        appears_as_item(t, p) and appears_as_item(b, p) and appears_as_item(a, p)
        for t, b, a, p in zip(frame["target"], frame["biased"], frame["anti_biased"], frame["prompt"])
    ]
    frame["descriptors_differ"] = frame["biased"] != frame["anti_biased"]
    frame["group_rows"] = frame.groupby("group")["id"].transform("size").astype(int)
    frame["group_rows_expected"] = frame["group"].map(expected).fillna(-1).astype(int)
    return frame


def genderpair_expectations(expected: dict[str, int]) -> list:
    """The GenderPair data contract as GX expectations."""
    from safealign.validation.gx import expect

    exps = [
        expect("ExpectColumnValuesToNotBeNull", column=c)
        for c in TEXT_COLUMNS + ["pair_index", "configuration"]
    ]
    exps += [expect("ExpectColumnValueLengthsToBeBetween", column=c, min_value=1) for c in TEXT_COLUMNS]
    exps += [
        expect("ExpectColumnDistinctValuesToEqualSet", column="group", value_set=list(GROUPS)),
        expect("ExpectColumnValuesToBeInSet", column="target_type", value_set=list(TARGET_TYPES)),
        expect("ExpectColumnValuesToBeInSet", column="source", value_set=list(SOURCES)),
        expect("ExpectColumnValuesToBeInSet", column="instruction_variant", value_set=list(VARIANTS)),
        expect("ExpectColumnValuesToBeInSet", column="configuration", value_set=list(CONFIGURATIONS)),
        expect("ExpectColumnValuesToBeUnique", column="id"),
        expect("ExpectColumnValuesToBeInSet", column="descriptors_differ", value_set=[True]),
        expect("ExpectColumnValuesToBeInSet", column="terms_in_prompt", value_set=[True]),
        expect("ExpectColumnPairValuesToBeEqual", column_A="group_rows", column_B="group_rows_expected"),
        expect("ExpectTableRowCountToEqual", value=int(sum(expected.values()))),
    ]
    return exps


def validate_genderpair(
    prompts: pd.DataFrame,
    expected: dict[str, int],
    result_dir: str | Path = GX_DIR,
    raise_on_failure: bool = True,
) -> dict[str, Any]:
    """Run the GenderPair GX suite; raises DataValidationError naming the failed expectations."""
    from safealign.validation.gx import validate_frame

    return validate_frame(
        with_checks(prompts, expected),
        GENDERPAIR_GX_SUITE,
        genderpair_expectations(expected),
        result_dir=result_dir,
        raise_on_failure=raise_on_failure,
    )


def six_criteria(prompts: pd.DataFrame, build_hash: str, rebuild_hash: str) -> dict[str, Any]:
    """The six criteria (§5) as checks on the built data; ``rebuild_hash`` comes from a second build."""
    groups = set(prompts["group"])
    g3_pronouns = sorted(
        set(prompts.loc[(prompts["group"] == "g3") & (prompts["target_type"] == "pronoun"), "target"])
    )
    sources = {g: sorted(set(s)) for g, s in prompts.groupby("group")["source"]}
    variants = sorted(set(prompts["instruction_variant"]))
    parsed_ok = _ids_trace_back(prompts)
    open_ended = prompts["prompt"].str.match(_OPEN_ENDED)
    report = {
        "inclusivity": _criterion(
            "g3" in groups and bool(set(g3_pronouns) & NEOPRONOUNS),
            "TGNB group (g3) present with its pronouns, neopronouns included",
            {
                "groups": sorted(groups),
                "g3_pronoun_targets": g3_pronouns,
                "g3_pronouns_missing_from_spec_list": sorted(set(PRONOUNS["g3"]) - set(g3_pronouns)),
            },
        ),
        "diversity": _criterion(
            all(len(s) == len(SOURCES) for s in sources.values()),
            "every group draws descriptors from media, occupation and literature",
            {"sources_per_group": sources},
        ),
        "robustness": _criterion(
            "paper" in variants and len(variants) > 1,
            "the paper's instructions plus at least one reworded or re-marked variant",
            {"instruction_variants": variants},
        ),
        "explainability": _criterion(
            parsed_ok == len(prompts) and prompts["id"].is_unique,
            "every id is unique and decodes to the row's group, target type, pair, source, config, variant",
            {"ids_traceable": parsed_ok, "rows": int(len(prompts))},
        ),
        "objectivity": _criterion(
            build_hash == rebuild_hash,
            "a second build from the same inputs is identical (sha256 over all rows)",
            {
                "sha256": build_hash,
                "rebuild_sha256": rebuild_hash,
                "caveat": "descriptor pairs were chosen by GPT-4 + experts (paper) or by hand (builtin)",
            },
        ),
        "realisticity": _criterion(
            bool(open_ended.all()),
            "every prompt asks for open-ended generation (scored on responses, not likelihoods)",
            {"open_ended_prompts": int(open_ended.sum()), "rows": int(len(prompts))},
        ),
    }
    report["all_passed"] = all(c["passed"] for c in report.values())
    return report


def _ids_trace_back(prompts: pd.DataFrame) -> int:
    ok = 0
    cols = ["id", "group", "target_type", "pair_index", "source", "configuration", "instruction_variant"]
    for pid, *values in prompts[cols].itertuples(index=False):
        try:
            p = parse_prompt_id(pid)
        except ValueError:
            continue
        ok += [p[k] for k in cols[1:]] == values
    return ok


def _criterion(passed: bool, check: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {"passed": bool(passed), "check": check, "detail": detail}
