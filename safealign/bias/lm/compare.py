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


def debias_summary(
    before: dict,
    after: dict,
    control: dict | None,
    util_before: dict,
    util_after: dict,
    planted: float | None,
    control_p: float | None,
) -> dict[str, Any]:
    """Reductions of |BPR - 0.5| per group and of the gap, utility change, readback errors, gate figures."""
    lb, la = before["likelihood"], after["likelihood"]
    groups = sorted(lb["groups"])
    cut = {g: _cut(abs(lb["groups"][g]["bpr"] - 0.5), abs(la["groups"][g]["bpr"] - 0.5)) for g in groups}
    ppl = relative_change_pct(util_before["heldout_ppl"], util_after["heldout_ppl"], higher_is_better=False)
    cloze = relative_change_pct(
        util_before["cloze_accuracy"], util_after["cloze_accuracy"], higher_is_better=True
    )
    out: dict[str, Any] = {
        "bpr_before": {g: lb["groups"][g]["bpr"] for g in groups},
        "bpr_after": {g: la["groups"][g]["bpr"] for g in groups},
        "abs_dev_cut": cut,
        "gap_before": lb["summary"]["gap"],
        "gap_after": la["summary"]["gap"],
        "gap_cut": _cut(lb["summary"]["gap"], la["summary"]["gap"]),
        "utility_before": util_before,
        "utility_after": util_after,
        "utility_change_pct": {"heldout_ppl": ppl, "cloze_accuracy": cloze},
        # a group without bias before (cut undefined) makes the figure NaN, which the gate reads as missing
        "gate": {
            "bpr_cut_min": min(cut.values()) if all(c == c for c in cut.values()) else float("nan"),
            "utility_change_abs_max": max(abs(ppl), abs(cloze)),
        },
    }
    if planted is not None:
        out["planted_readback_error"] = {g: lb["groups"][g]["bpr"] - planted for g in groups}
    if control is not None and control_p is not None:
        out["control_bpr"] = {g: m["bpr"] for g, m in control["likelihood"]["groups"].items()}
        out["control_readback_error"] = {
            g: m["bpr"] - control_p for g, m in control["likelihood"]["groups"].items()
        }
    return out
