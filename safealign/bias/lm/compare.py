"""Before / after comparison of two assessments (base vs debiased) plus utility: the evaluate_debias numbers."""

from __future__ import annotations

from typing import Any

from safealign.bias.lm.utility import relative_change_pct


def _cut(before: float, after: float) -> float:
    """Relative reduction 1 - after / before (1 = removed entirely; negative = grew)."""
    return 1.0 - after / before if before > 0 else float("nan")


def per_group_rows(before: dict, after: dict, control: dict | None = None) -> list[dict[str, Any]]:
    """One row per (metric, group) with before, after (and control) values for every per-group metric."""
    specs = [
        ("likelihood", "bpr", "likelihood BPR"),
        ("likelihood", "win_rate", "likelihood win rate"),
        ("generation", "bpr", "generation BPR (corrected)"),
        ("generation", "paper_bpr", "generation BPR (paper)"),
        ("generation", "unparseable_rate", "unparseable rate"),
        ("generation", "marked_rate", "marked rate"),
    ]
    rows = []
    for section, key, label in specs:
        for group, m in before.get(section, {}).get("groups", {}).items():
            row = {
                "metric": label,
                "group": group,
                "before": m.get(key),
                "after": after.get(section, {}).get("groups", {}).get(group, {}).get(key),
            }
            if control is not None:
                row["control"] = control.get(section, {}).get("groups", {}).get(group, {}).get(key)
            rows.append(row)
    for key in ("toxicity_mean", "toxicity_max", "sentiment_mean", "sentiment_negative"):
        for group, m in before.get("toxicity_sentiment", {}).get("groups", {}).items():
            rows.append(
                {
                    "metric": key.replace("_", " "),
                    "group": group,
                    "before": m[key],
                    "after": after.get("toxicity_sentiment", {}).get("groups", {}).get(group, {}).get(key),
                }
            )
    return rows


def benchmark_rows(before: dict, after: dict) -> list[dict[str, Any]]:
    """StereoSet / WinoQueer / BOLD headline numbers before and after (empty when the data were absent)."""
    rows = []
    b, a = before.get("benchmarks") or {}, after.get("benchmarks") or {}
    for bench, keys in (
        ("stereoset", ("ss", "lms", "icat", "paper_delta")),
        ("winoqueer", ("win_rate", "win_abs_dev", "paper_delta")),
    ):
        if b.get(bench) and a.get(bench):
            rows += [
                {"benchmark": bench, "metric": k, "before": b[bench][k], "after": a[bench][k]} for k in keys
            ]
    if b.get("bold") and a.get("bold"):
        for group in b["bold"]["groups"]:
            for k in ("sentiment_mean", "toxicity_mean"):
                rows.append(
                    {
                        "benchmark": f"bold {group}",
                        "metric": k,
                        "before": b["bold"]["groups"][group][k],
                        "after": a["bold"]["groups"][group][k],
                    }
                )
        rows.append(
            {
                "benchmark": "bold",
                "metric": "sentiment sigma",
                "before": b["bold"]["spread"]["sentiment_mean_sigma"],
                "after": a["bold"]["spread"]["sentiment_mean_sigma"],
            }
        )
    return rows


def collapse_check(util_before: dict, util_after: dict, ppl_ratio_limit: float, top_share_limit: float) -> dict:
    """Collapse after training: held-out perplexity up ``ppl_ratio_limit``x or one token taking most of the mass."""
    ratio = util_after["heldout_ppl"] / util_before["heldout_ppl"] if util_before["heldout_ppl"] else float("inf")
    share = util_after.get("top_token_share", 0.0)
    reasons = []
    if not ratio < ppl_ratio_limit:
        reasons.append(f"held-out perplexity x{ratio:.1f} (limit x{ppl_ratio_limit:g})")
    if not share < top_share_limit:
        reasons.append(f"one token takes {share:.0%} of the next-token mass (limit {top_share_limit:.0%})")
    return {"ppl_ratio": ratio, "top_token_share_after": share,
            "top_token_share_before": util_before.get("top_token_share", 0.0),
            "collapsed": bool(reasons), "reason": "; ".join(reasons) or "none"}


def debias_summary(
    before: dict,
    after: dict,
    control: dict | None,
    util_before: dict,
    util_after: dict,
    collapse: dict,
    truth: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Per-group |BPR - 0.5| cuts (win rate), utility change, collapse, readback errors, gate figures.

    A group "has bias" when its CI before excludes 0.5; ``gate.bpr_cut_biased_min`` is the smallest cut over
    those groups (1.0 when none: nothing to cut). After a collapse every cut is NaN: never read as a gain.
    """
    lb, la = before["likelihood"], after["likelihood"]
    groups = sorted(lb["groups"])
    cut = {g: _cut(abs(lb["groups"][g]["bpr"] - 0.5), abs(la["groups"][g]["bpr"] - 0.5)) for g in groups}
    biased = {g: not (lb["groups"][g]["bpr_ci95"][0] <= 0.5 <= lb["groups"][g]["bpr_ci95"][1]) for g in groups}
    higher_better = {"heldout_ppl": False, "cloze_accuracy": True, "analogy_accuracy": True}
    change = {k: relative_change_pct(util_before[k], util_after[k], hb)
              for k, hb in higher_better.items() if k in util_before}
    collapsed = collapse["collapsed"]
    nan = float("nan")
    finite = [c for c in cut.values() if c == c]
    biased_cuts = [cut[g] for g in groups if biased[g]]
    gate = {
        "bpr_cut_min": nan if collapsed or len(finite) < len(cut) else min(finite),
        "bpr_cut_biased_min": nan if collapsed else (min(biased_cuts) if biased_cuts else 1.0),
        "groups_with_bias": sum(biased.values()),
        "utility_change_abs_max": max(abs(v) for v in change.values()),
        "collapsed": int(collapsed),
    }
    out: dict[str, Any] = {
        "bpr_before": {g: lb["groups"][g]["bpr"] for g in groups},
        "bpr_after": {g: la["groups"][g]["bpr"] for g in groups},
        "ci_before": {g: lb["groups"][g]["bpr_ci95"] for g in groups},
        "ci_after": {g: la["groups"][g]["bpr_ci95"] for g in groups},
        "choice_probability_before": {g: lb["groups"][g]["choice_probability"] for g in groups},
        "choice_probability_after": {g: la["groups"][g]["choice_probability"] for g in groups},
        "biased_before": biased,
        "abs_dev_cut": {g: nan if collapsed else c for g, c in cut.items()},
        "gap_before": lb["summary"]["gap"],
        "gap_after": la["summary"]["gap"],
        "gap_cut": nan if collapsed else _cut(lb["summary"]["gap"], la["summary"]["gap"]),
        "utility_before": util_before,
        "utility_after": util_after,
        "utility_change_pct": change,
        "collapse": collapse,
        "gate": gate,
    }
    for mode in ("generation",):
        if mode in before and mode in after:
            out[f"{mode}_bpr_before"] = {g: m["bpr"] for g, m in before[mode]["groups"].items()}
            out[f"{mode}_bpr_after"] = {g: m["bpr"] for g, m in after[mode]["groups"].items()}
    if control is not None:
        out["control_bpr"] = {g: m["bpr"] for g, m in control["likelihood"]["groups"].items()}
    if truth is not None:
        errors = {f"planted_{g}": lb["groups"][g]["choice_probability"] - truth["planted"] for g in groups}
        errors.update({f"planted_win_rate_{g}": lb["groups"][g]["bpr"] - truth["planted_win_rate"] for g in groups})
        if control is not None:
            errors.update({f"control_{g}": m["choice_probability"] - truth["control"]
                           for g, m in control["likelihood"]["groups"].items()})
        out["readback_error"] = errors
        # the choice probability has a calibrated truth (the planted share); the win rate's truth (1.0) holds
        # only where the model learned every pair, so it is reported, not gated
        gate["readback_error_abs_max"] = max(abs(v) for k, v in errors.items() if "win_rate" not in k)
    return out
