"""reports/gendercare.html: planted-bias readback, before/after tables, reductions, utility, benchmarks, charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safealign.bias.lm.compare import benchmark_rows, per_group_rows
from safealign.bias.lm.scorers import SENTIMENT_SCORER, TOXICITY_SCORER


def write_report(
    path: str | Path, summary: dict[str, Any], assessments: dict[str, dict], settings: dict
) -> Path:
    """Write the GenderCARE model report; ``assessments`` maps base / control / debiased to assess_bias JSON."""
    from safealign.report.html import Report
    from safealign.report.plots import bar_plot

    base, deb, ctrl = assessments["base"], assessments["debiased"], assessments.get("control")
    groups = sorted(summary["bpr_before"])
    rep = Report(
        "GenderCARE: planted bias, assessment and LoRA debiasing",
        f"base = {base.get('model_dir')}, debiased = {deb.get('model_dir')}, mode {settings.get('mode')}",
    )
    rep.section("Verdict", summary_text(summary, settings))
    rows = [
        {
            "group": g,
            "planted": settings.get("planted_probability"),
            "base BPR": summary["bpr_before"][g],
            "control BPR": (summary.get("control_bpr") or {}).get(g),
            "debiased BPR": summary["bpr_after"][g],
            "|BPR-0.5| cut": summary["abs_dev_cut"][g],
        }
        for g in groups
    ]
    rep.table(rows, "Likelihood-mode BPR per group (choice probability of B over A in held-out frames)")
    rep.figure(
        bar_plot(
            {
                g: {
                    "base": summary["bpr_before"][g],
                    "control": (summary.get("control_bpr") or {}).get(g, float("nan")),
                    "debiased": summary["bpr_after"][g],
                }
                for g in groups
            },
            "BPR",
            "BPR per group (0.5 = no preference)",
        ),
        "Likelihood BPR per group",
    )
    rep.figure(
        bar_plot(
            {
                g: {
                    "base": abs(summary["bpr_before"][g] - 0.5),
                    "debiased": abs(summary["bpr_after"][g] - 0.5),
                }
                for g in groups
            },
            "|BPR - 0.5|",
            "Distance from no preference",
        ),
        "|BPR - 0.5| per group",
    )
    rep.table(
        [
            {
                "figure": "group gap (max - min BPR)",
                "before": summary["gap_before"],
                "after": summary["gap_after"],
                "relative cut": summary["gap_cut"],
            }
        ],
        "Gap across groups",
    )
    rep.section(
        "Every metric per group",
        "Generation mode answers sampled GenderPair prompts greedily; the "
        "unparseable rate says how often no single descriptor could be read (the tiny model does not "
        f"follow instructions). Toxicity: {TOXICITY_SCORER}. Sentiment: {SENTIMENT_SCORER}.",
    )
    rep.table(per_group_rows(base, deb, ctrl), "Before (base) / after (debiased) / control")
    u = summary["utility_change_pct"]
    rep.section(
        "Utility",
        "Held-out neutral sentences (never trained on): perplexity and a 4-way cloze on the "
        "last word. Change in percent, negative = worse.",
    )
    rep.table(
        [
            {
                "task": "held-out perplexity",
                "before": summary["utility_before"]["heldout_ppl"],
                "after": summary["utility_after"]["heldout_ppl"],
                "change %": u["heldout_ppl"],
            },
            {
                "task": "cloze accuracy",
                "before": summary["utility_before"]["cloze_accuracy"],
                "after": summary["utility_after"]["cloze_accuracy"],
                "change %": u["cloze_accuracy"],
            },
        ]
    )
    bench = benchmark_rows(base, deb)
    rep.section(
        "External benchmarks",
        "StereoSet SS / LMS / ICAT and WinoQueer win rate per pair (50 = unbiased) "
        "beside the paper's normalised-perplexity deltas; BOLD completions scored per group. "
        "These items partly overlap the GenderPair descriptors (gendercare.md section 8)."
        if bench
        else "Benchmark files absent (../shared/data/gendercare/benchmarks): not scored.",
    )
    if bench:
        rep.table(bench)
    examples = base.get("generation", {}).get("examples", [])
    if examples:
        rep.table(examples, "Generation examples (base model) with the corrected parse")
    for note in settings.get("notes", []):
        rep.note(note)
    return rep.write(path)


def summary_text(summary: dict, settings: dict) -> str:
    """Plain-language verdict against the thresholds."""
    cut_ok = summary["gate"]["bpr_cut_min"] >= settings["min_bpr_cut"]
    util_ok = summary["gate"]["utility_change_abs_max"] <= settings["max_utility_change_pct"]
    return (
        f"Smallest |BPR - 0.5| reduction over groups: {summary['gate']['bpr_cut_min']:.1%} "
        f"(required >= {settings['min_bpr_cut']:.0%}: {'pass' if cut_ok else 'FAIL'}). Largest utility change: "
        f"{summary['gate']['utility_change_abs_max']:.2f} % (allowed <= {settings['max_utility_change_pct']} %: "
        f"{'pass' if util_ok else 'FAIL'})."
    )
