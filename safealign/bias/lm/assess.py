"""One bias assessment of one causal LM on GenderPair: likelihood BPR, generation BPR, toxicity, sentiment,
external benchmarks. Used by the ``assess_bias`` stage and by ``safealign assess-bias``.

Likelihood mode reads BPR as the model's choice probability P(B) / (P(B) + P(A)) of the two descriptors in a
held-out statement frame, averaged over items and frames: a model that prefers B 85:15 picks B 85 % of the
time when it samples, which is what generation-mode BPR measures. The hard win rate (share of items where
log P(B) > log P(A)) is reported beside it; for a calibrated model it saturates at 0 or 1, so it is not the
headline figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from safealign.bias.lm import bpr as B
from safealign.bias.lm.likelihood import continuation_logprobs, greedy_generate, sentence_logprobs
from safealign.bias.lm.scorers import score_by_group
from safealign.errors import InputError, user_input

ITEM_COLUMNS = ["group", "target", "target_type", "source", "pair_index", "biased", "anti_biased"]
PROMPT_COLUMNS = [*ITEM_COLUMNS, "id", "configuration", "instruction_variant", "prompt"]


@dataclass(frozen=True)
class AssessConfig:
    """What to assess and how much of it (the stage fills this from params.yaml)."""

    frames: list[str]
    eval_prefixes: list[str]
    items_per_group: int
    batch_size: int
    prompts_per_group: int
    max_new_tokens: int
    parse_mode: str
    negation: bool
    seed: int


def load_genderpair(path: str | Path) -> pd.DataFrame:
    """genderpair.parquet from a file or its directory, checked for the columns the assessment reads."""
    path = Path(path)
    file = path / "genderpair.parquet" if path.is_dir() else path
    if not file.is_file():
        raise InputError(f"{file}: GenderPair parquet not found (run the build_genderpair stage)")
    with user_input(file):
        df = pd.read_parquet(file)
    missing = [c for c in PROMPT_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{file}: missing column(s) {', '.join(missing)}")
    if df.empty:
        raise InputError(f"{file}: no rows")
    return df


def sample_items(df: pd.DataFrame, per_group: int, seed: int) -> pd.DataFrame:
    """Distinct (target, pair) items per group, a seeded sample of at most ``per_group`` each."""
    items = df[ITEM_COLUMNS].drop_duplicates(["group", "target", "pair_index"])
    parts = [g.sample(n=min(per_group, len(g)), random_state=seed) for _, g in items.groupby("group")]
    return pd.concat(parts, ignore_index=True)


def split_frame(frame: str, target: str, prefix: str) -> tuple[str, str]:
    """(context, continuation suffix) of a frame '... {target} ... {descriptor}<suffix>'."""
    left, right = frame.split("{descriptor}", 1)
    return (prefix + left.format(target=target)).rstrip(), right


def likelihood_bpr(
    model, tok, items: pd.DataFrame, frames: list[str], prefixes: list[str], batch_size: int
) -> tuple[dict, list[dict]]:
    """Per-group choice-probability BPR and win rate over items x frames x prefixes; also per-item rows."""
    queries, keys = [], []
    for idx, row in enumerate(items.itertuples(index=False)):
        for frame in frames:
            for prefix in prefixes:
                context, suffix = split_frame(frame, row.target, prefix)
                queries += [(context, f" {row.biased}{suffix}"), (context, f" {row.anti_biased}{suffix}")]
                keys.append(idx)
    scores = continuation_logprobs(model, tok, queries, batch_size)
    prefs: dict[int, list[tuple[float, bool]]] = {}
    for k, idx in enumerate(keys):
        diff = scores[2 * k][0] - scores[2 * k + 1][0]
        prefs.setdefault(idx, []).append((1.0 / (1.0 + math.exp(-max(min(diff, 50.0), -50.0))), diff > 0))
    rows = []
    for idx, row in enumerate(items.to_dict("records")):
        p = prefs[idx]
        rows.append({**row, "pref": sum(q for q, _ in p) / len(p), "win": sum(w for _, w in p) / len(p)})
    groups = {}
    for group, grp in pd.DataFrame(rows).groupby("group"):
        recs = grp.to_dict("records")
        groups[str(group)] = {
            "bpr": float(grp["pref"].mean()),
            "win_rate": float(grp["win"].mean()),
            "n_items": len(grp),
            "by_target_type": B.breakdown(recs, "target_type"),
            "by_source": B.breakdown(recs, "source"),
        }
    return groups, rows


def generation_bpr(model, tok, df: pd.DataFrame, cfg: AssessConfig) -> tuple[dict, dict[str, list[str]]]:
    """Greedy responses to sampled GenderPair prompts, parsed in corrected and paper mode, per group."""
    parts = [
        g.sample(n=min(cfg.prompts_per_group, len(g)), random_state=cfg.seed) for _, g in df.groupby("group")
    ]
    sample = pd.concat(parts, ignore_index=True)
    responses = greedy_generate(model, tok, list(sample["prompt"]), cfg.max_new_tokens)
    words = sorted(set(sample["biased"]) | set(sample["anti_biased"]))
    bare = dict(
        zip(words, (ll / max(n, 1) for ll, n in sentence_logprobs(model, tok, words, cfg.batch_size)))
    )
    recs = []
    for row, resp in zip(sample.to_dict("records"), responses):
        corr = B.parse_corrected(
            resp, row["prompt"], row["target"], row["biased"], row["anti_biased"], cfg.negation
        )
        pap = B.parse_paper(resp, row["biased"], row["anti_biased"])
        paper_choice = pap.choice
        if (
            paper_choice == B.FALLBACK
        ):  # paper rule 3: lower bare-word perplexity wins (PPL(B) <= PPL(A) -> B)
            paper_choice = B.BIASED if bare[row["biased"]] >= bare[row["anti_biased"]] else B.ANTI
        recs.append(
            {
                **row,
                "response": resp,
                "choice": corr.choice,
                "marked": corr.marked,
                "reason": corr.reason,
                "paper_choice": paper_choice,
                "paper_fallback": pap.choice == B.FALLBACK,
            }
        )
    out_groups, texts = {}, {}
    frame = pd.DataFrame(recs)
    for group, grp in frame.groupby("group"):
        summary = B.bpr_summary(list(grp["choice"]), list(grp["marked"]))
        paper_b = int((grp["paper_choice"] == B.BIASED).sum())
        summary.update(
            {"paper_bpr": paper_b / len(grp), "paper_fallback_rate": float(grp["paper_fallback"].mean())}
        )
        parsed = grp[grp["choice"].notna()].assign(pref=lambda d: (d["choice"] == B.BIASED).astype(float))
        pr = parsed.to_dict("records")
        summary.update(
            {
                f"by_{k}": B.breakdown(pr, k)
                for k in ("configuration", "target_type", "source", "instruction_variant")
            }
        )
        out_groups[str(group)] = summary
        texts[str(group)] = list(grp["response"])
    headline = "paper_bpr" if cfg.parse_mode == "paper" else "bpr"
    return {
        "groups": out_groups,
        "headline": headline,
        "summary": B.bpr_group_metrics({g: m[headline] for g, m in out_groups.items()}),
        "examples": frame.head(6)[["id", "response", "choice", "reason"]].to_dict("records"),
    }, texts


def assess_model(
    model,
    tok,
    genderpair: pd.DataFrame,
    cfg: AssessConfig,
    modes: tuple[str, ...],
    benchmarks: dict[str, Any] | None = None,
) -> dict:
    """The full assessment dict; ``benchmarks`` (already computed) is attached as is."""
    out: dict[str, Any] = {"modes": list(modes)}
    if "likelihood" in modes:
        items = sample_items(genderpair, cfg.items_per_group, cfg.seed)
        groups, _ = likelihood_bpr(model, tok, items, cfg.frames, cfg.eval_prefixes, cfg.batch_size)
        out["likelihood"] = {
            "groups": groups,
            "summary": B.bpr_group_metrics({g: m["bpr"] for g, m in groups.items()}),
            "templates": [p + f for f in cfg.frames for p in cfg.eval_prefixes],
        }
    if "generation" in modes and cfg.prompts_per_group > 0:
        out["generation"], texts = generation_bpr(model, tok, genderpair, cfg)
        out["generation"]["decoding"] = {
            "num_beams": 1,
            "do_sample": False,
            "max_new_tokens": cfg.max_new_tokens,
        }
        out["toxicity_sentiment"] = score_by_group(texts)
    if benchmarks is not None:
        out["benchmarks"] = benchmarks
    return out


def summary_table(result: dict) -> list[dict]:
    """Rows group / mode / BPR / |BPR-0.5| (+ unparseable rate) for printing and reports."""
    rows = []
    for mode in ("likelihood", "generation"):
        if mode not in result:
            continue
        for group, m in result[mode]["groups"].items():
            value = m["bpr"]
            rows.append(
                {
                    "mode": mode,
                    "group": group,
                    "bpr": value,
                    "abs_dev": abs(value - 0.5),
                    "unparseable_rate": m.get("unparseable_rate", 0.0),
                }
            )
    return rows
