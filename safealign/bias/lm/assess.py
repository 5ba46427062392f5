"""One bias assessment of one causal LM on GenderPair: likelihood BPR, generation BPR, toxicity, sentiment,
external benchmarks. Used by the ``assess_bias`` stage and by ``safealign assess-bias``.

Both modes report BPR as the paper defines it, the share of pairs (likelihood: items whose descriptor
preference favours B; generation: parsed answers that chose B), with a bootstrap 95 % CI over the items
and the sample size per group. Likelihood mode also gives the mean choice probability P(B) / (P(B) + P(A)).
See ``likelihood_bpr`` and ``generation_bpr`` for the scoring rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from safealign.bias.lm import bpr as B
from safealign.bias.lm.generation_bpr import generation_bpr, sample_prompts
from safealign.bias.lm.likelihood_bpr import group_summary, refuse_if_undecidable, score_items
from safealign.bias.lm.scorers import score_by_group
from safealign.errors import InputError, user_input

ITEM_COLUMNS = ["group", "target", "target_type", "source", "pair_index", "biased", "anti_biased"]
PROMPT_COLUMNS = [*ITEM_COLUMNS, "id", "configuration", "instruction_variant", "prompt"]


@dataclass(frozen=True)
class AssessConfig:
    """What to assess and how much of it (the stage fills this from params.yaml, the CLI from flags)."""

    frames: list[str]
    openers: list[str]
    items_per_group: int
    prompts_per_group: int
    batch_size: int
    max_new_tokens: int
    parse_mode: str
    negation: bool
    max_tie_share: float
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


def likelihood_bpr(model, tok, items: pd.DataFrame, cfg: AssessConfig) -> dict[str, Any]:
    """Per-group likelihood BPR (win rate, CI, choice probability, ties, coverage); refuses when undecidable."""
    scores = score_items(model, tok, items, cfg.frames, cfg.openers, cfg.batch_size)
    refuse_if_undecidable(scores, tok, cfg.max_tie_share)
    groups = {}
    for group, grp in scores.groupby("group"):
        summary = group_summary(grp, cfg.seed)
        decided = grp[~grp["tie"]].assign(pref=lambda d: d["win"].astype(float)).to_dict("records")
        summary.update({"by_target_type": B.breakdown(decided, "target_type"),
                        "by_source": B.breakdown(decided, "source")})
        groups[str(group)] = summary
    return {
        "groups": groups,
        "summary": B.bpr_group_metrics({g: m["bpr"] for g, m in groups.items()}),
        "templates": [o + f for f in cfg.frames for o in cfg.openers],
        "target_forms": {str(k): str(v) for k, v in scores.groupby("target")["target_form"].first().items()
                         if k != v},
    }


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
        out["likelihood"] = likelihood_bpr(model, tok, sample_items(genderpair, cfg.items_per_group, cfg.seed), cfg)
    if "generation" in modes and cfg.prompts_per_group > 0:
        sample = sample_prompts(genderpair, cfg.prompts_per_group, cfg.seed)
        out["generation"], texts = generation_bpr(
            model, tok, sample, cfg.max_new_tokens, cfg.batch_size, cfg.negation, cfg.parse_mode, cfg.seed
        )
        out["generation"]["decoding"] = {"num_beams": 1, "do_sample": False, "max_new_tokens": cfg.max_new_tokens}
        out["toxicity_sentiment"] = score_by_group(texts)
    if benchmarks is not None:
        out["benchmarks"] = benchmarks
    return out


def summary_table(result: dict) -> list[dict]:
    """One row per mode and group: BPR, its CI, n, |BPR-0.5|, choice probability, ties, unparseable share."""
    def num(value) -> float:  # JSON turns NaN into null
        return float("nan") if value is None else float(value)

    rows = []
    for mode in ("likelihood", "generation"):
        for group, m in result.get(mode, {}).get("groups", {}).items():
            lo, hi = m.get("bpr_ci95", [None, None])
            rows.append(
                {
                    "mode": mode,
                    "group": group,
                    "bpr": num(m["bpr"]),
                    "ci_low": num(lo),
                    "ci_high": num(hi),
                    "n": m.get("n_items", m.get("n_total")),
                    "abs_dev": abs(num(m["bpr"]) - 0.5),
                    "choice_probability": num(m.get("choice_probability")),
                    "tie_share": num(m.get("tie_share")),
                    "unparseable_rate": num(m.get("unparseable_rate")),
                }
            )
    return rows
