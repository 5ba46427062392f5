"""Validate a pandas DataFrame against a suite defined in code, with an ephemeral GX context.

Callers describe expectations as ``expect("ExpectColumnValuesToNotBeNull", column="id")`` so that GX
(4-5 s to import) is only imported when a validation actually runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safealign.atomic import write_json
from safealign.errors import DataValidationError
from safealign.paths import GX_DIR


@dataclass(frozen=True)
class Expectation:
    """One GX expectation by class name and keyword arguments."""

    type: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def expect(type_name: str, **kwargs: Any) -> Expectation:
    """Shorthand: ``expect("ExpectColumnValuesToBeBetween", column="x", min_value=0, max_value=1)``."""
    return Expectation(type_name, kwargs)


def validate_frame(df: Any, suite: str, expectations: list[Expectation], result_dir: str | Path = GX_DIR,
                   raise_on_failure: bool = True) -> dict[str, Any]:
    """Run ``expectations`` on ``df``; write ``<result_dir>/<suite>.json``; raise a readable error on failure."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (context.data_sources.add_pandas(f"pandas_{suite}").add_dataframe_asset(suite)
             .add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": df}))
    gx_suite = gx.ExpectationSuite(name=suite, expectations=[getattr(gxe, e.type)(**e.kwargs) for e in expectations])
    result = batch.validate(gx_suite)
    summary = {"suite": suite, "success": bool(result.success), "rows": int(len(df)), "results": []}
    for r in result.results:
        info = r.result or {}
        summary["results"].append({
            "expectation": r.expectation_config.type,
            "kwargs": {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"},
            "success": bool(r.success),
            "unexpected_count": info.get("unexpected_count"),
            "unexpected_examples": [str(x) for x in (info.get("partial_unexpected_list") or [])[:5]],
            "observed_value": str(info.get("observed_value")) if "observed_value" in info else None,
        })
    write_json(Path(result_dir) / f"{suite}.json", summary)
    if raise_on_failure and not summary["success"]:
        raise DataValidationError(describe_failures(summary))
    return summary


def describe_failures(summary: dict[str, Any]) -> str:
    """Readable summary of failed expectations: which, on what, how many rows, examples."""
    parts = []
    for r in summary["results"]:
        if r["success"]:
            continue
        where = r["kwargs"].get("column") or r["kwargs"].get("column_list") or "table"
        detail = f"{r['unexpected_count']} of {summary['rows']} rows" if r["unexpected_count"] is not None \
            else f"observed {r['observed_value']}"
        examples = f", e.g. {r['unexpected_examples']}" if r["unexpected_examples"] else ""
        parts.append(f"{r['expectation']}({where}): {detail}{examples}")
    return f"data validation '{summary['suite']}' failed: " + "; ".join(parts)
