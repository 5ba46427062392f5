"""GenderCARE HTML reports: one assessment (``safealign assess-bias``) and one model before / after debiasing
(``evaluate_debias``): BPR with CIs per mode and group, parse outcomes with examples, utility, benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safealign.bias.lm.assess import summary_table
from safealign.bias.lm.compare import benchmark_rows, per_group_rows
from safealign.bias.lm.scorers import SENTIMENT_SCORER, TOXICITY_SCORER

BPR_TEXT = (
    "BPR = share of pairs choosing the biased descriptor (0.5 = no preference), with a bootstrap 95 % CI over "
    "the sampled items and the sample size n per group. Likelihood: the share of (target, pair) items whose "
    "descriptor preference favours B (ties excluded and counted; the mean choice probability P(B) / (P(B) + "
    "P(A)) beside it). Generation: greedy answers parsed for exactly one of the two descriptors; answers "
    "with neither (paraphrases) or both are unparseable."
)


def _assessment_blocks(rep, result: dict, label: str) -> None:
    rep.table(summary_table(result), f"BPR per mode and group ({label})")
    gen = result.get("generation")
    if gen:
        rep.table([{"group": g, **m["outcomes"]} for g, m in gen["groups"].items()],
                  f"Generation outcomes per group ({label}); rule: {gen['paraphrase_rule']}")
        rep.table(gen["examples"], f"Examples of each outcome ({label})")
    ts = result.get("toxicity_sentiment")
    if ts:
        rep.table([{"group": g, **m} for g, m in ts["groups"].items()],
                  f"Toxicity ({TOXICITY_SCORER}) and sentiment ({SENTIMENT_SCORER}) of the answers ({label})")


def write_assessment_report(path: str | Path, result: dict) -> Path:
    """reports of ``safealign assess-bias``: BPR tables, parse outcomes and examples, toxicity / sentiment."""
    from safealign.report.html import Report

    rep = Report("GenderCARE assessment", f"model {result.get('model_dir')}")
    rep.section("Bias-Pair Ratio", BPR_TEXT)
    _assessment_blocks(rep, result, "this model")
    if result.get("likelihood", {}).get("target_forms"):
        rep.note(f"Target casing used by the likelihood scorer: {result['likelihood']['target_forms']}")
    return rep.write(path)


def write_report(path: str | Path, summary: dict[str, Any], assessments: dict[str, dict], settings: dict) -> Path:
    """The debiasing report of one model; ``assessments`` maps base / debiased (/ control) to assessments."""
    from safealign.report.html import Report
    from safealign.report.plots import bar_plot

    base, deb, ctrl = assessments["base"], assessments["debiased"], assessments.get("control")
    groups = sorted(summary["bpr_before"])
    rep = Report(f"GenderCARE: {settings['name']} before and after LoRA debiasing",
                 f"base = {base.get('model_dir')}, debiased = {deb.get('model_dir')}, mode {settings.get('mode')}")
    rep.section("Verdict", summary_text(summary, settings))
    rep.table([{"group": g, "BPR before": summary["bpr_before"][g], "CI before": summary["ci_before"][g],
                "BPR after": summary["bpr_after"][g], "CI after": summary["ci_after"][g],
                "|BPR-0.5| cut": summary["abs_dev_cut"][g],
                "bias before (CI excludes 0.5)": summary["biased_before"][g]} for g in groups],
              "Likelihood BPR (win rate) per group before / after")
    rep.figure(bar_plot({g: {"before": summary["bpr_before"][g], "after": summary["bpr_after"][g],
                             **({"control": summary["control_bpr"][g]} if summary.get("control_bpr") else {})}
                         for g in groups}, "BPR", "Likelihood BPR per group (0.5 = no preference)"),
               "Likelihood BPR per group")
    rep.section("Bias-Pair Ratio in detail", BPR_TEXT)
    _assessment_blocks(rep, base, "before")
    _assessment_blocks(rep, deb, "after")
    rep.table(per_group_rows(base, deb, ctrl), "Every per-group metric: before / after" + (" / control" if ctrl else ""))
    rep.section("Utility", settings.get("utility_text", ""))
    rep.table([{"task": k, "before": summary["utility_before"].get(k), "after": summary["utility_after"].get(k),
                "change %": v} for k, v in summary["utility_change_pct"].items()])
    rep.table([{"check": k, "value": v} for k, v in summary["collapse"].items()], "Collapse checks (after)")
    bench = benchmark_rows(base, deb)
    rep.section("External benchmarks",
                "StereoSet SS / LMS / ICAT and WinoQueer win rate per pair (50 = unbiased) beside the paper's "
                "normalised-perplexity deltas; BOLD completions per group. They partly overlap the GenderPair "
                "descriptors (gendercare.md section 8)." if bench else
                "Benchmark files absent (../shared/data/gendercare/benchmarks): not scored.")
    if bench:
        rep.table(bench)
    for note in settings.get("notes", []):
        rep.note(note)
    return rep.write(path)


def summary_text(summary: dict, settings: dict) -> str:
    """Plain-language verdict against the thresholds (collapse first: it is never read as a gain)."""
    gate = summary["gate"]
    if gate["collapsed"]:
        return f"COLLAPSE after debiasing: {summary['collapse']['reason']}. The debiased model fails; no cut is read."
    util_ok = gate["utility_change_abs_max"] <= settings["max_utility_change_pct"]
    return (
        f"Smallest |BPR - 0.5| cut over groups: {gate['bpr_cut_min']:.1%}; over groups with bias before "
        f"(CI excludes 0.5): {gate['bpr_cut_biased_min']:.1%} (required >= {settings['min_bpr_cut']:.0%}). "
        f"Largest utility change: {gate['utility_change_abs_max']:.2f} % (allowed <= "
        f"{settings['max_utility_change_pct']} %: {'pass' if util_ok else 'FAIL'})."
    )
