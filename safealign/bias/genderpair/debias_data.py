"""The debiasing rows of stage augment_counterfactual (GenderCARE §3) and their contamination report (§8).

``debias_rows`` builds the anti-template rows, adds the released validation file when present, swaps
descriptors three ways, adds the balanced statement / choice rows, measures (and optionally drops) overlap
with the external benchmarks, and splits train / validation. It writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from safealign.bias.genderpair import contamination as cont
from safealign.bias.genderpair import counterfactual as cf
from safealign.bias.genderpair.balanced import balanced_rows
from safealign.bias.genderpair.params import AugmentCounterfactualParams


@dataclass
class DebiasRows:
    """Train and validation rows, the stage metrics, the contamination report, the validation file read."""

    train: list[dict]
    validation: list[dict]
    metrics: dict
    contamination: dict
    validation_path: Path | None


def debias_rows(pairs: pd.DataFrame, targets: pd.DataFrame, p: AugmentCounterfactualParams, shared: Path,
                seed: int) -> DebiasRows:
    """The debiasing rows of the GenderPair ``pairs`` / ``targets`` tables under settings ``p``; the validation
    file and benchmarks are read under ``shared`` when present."""
    rows = cf.anti_template_rows(pairs, targets, p.descriptors_per_target, seed)
    validation_path = shared / p.validation_file if p.validation_file else None
    released = (cf.read_validation_file(validation_path)
                if validation_path and validation_path.is_file() else [])
    rows += released
    swap_report = {}
    if p.swap:
        rows, swap_report = cf.counterfactual_rows(rows, seed)
    else:
        rows = [{**r, "source_row": k} for k, r in enumerate(rows)]
    b = p.balanced
    rows += balanced_rows(pairs, targets, b.statements_per_pair, b.choices_per_pair, list(b.frames),
                          list(b.openers), seed, first_source_row=len(rows))
    bench = cont.load_benchmarks(shared / p.benchmarks)
    frame = pd.DataFrame(rows)
    report = cont.contamination_report(pairs, targets, frame[frame["method"] == "validation_file"], bench)
    mask = cont.contaminated_mask(frame, bench)
    report["training_rows"] = {"rows": int(len(frame)), "contaminated": int(mask.sum())}
    if p.exclude_contaminated:
        rows = [r for r, bad in zip(rows, mask) if not bad]
        report["excluded_rows"] = int(mask.sum())
    train, validation = cf.split_rows(rows, p.validation_fraction, seed)
    metrics = {
        "train": cf.count_rows(train),
        "validation": cf.count_rows(validation),
        "train_rows": len(train),
        "validation_rows": len(validation),
        "swap": swap_report,
        "validation_file": "read" if released else "absent",
        "excluded_contaminated": report.get("excluded_rows", 0),
        "benchmarks": report["benchmarks"],
    }
    return DebiasRows(train, validation, metrics, report, validation_path if released else None)


def jsonl(rows: list[dict]) -> str:
    """The rows as JSON lines with the keys train_debias reads."""
    return "".join(json.dumps({k: r[k] for k in cf.OUTPUT_KEYS}, ensure_ascii=False) + "\n" for r in rows)
