"""Assessment of one model directory end to end (shared by the assess_bias stage and ``safealign assess-bias``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from safealign.bias.lm.assess import AssessConfig, assess_model, load_genderpair
from safealign.bias.lm.benchmarks import run_benchmarks
from safealign.bias.lm.model import load_lm, set_threads


@dataclass(frozen=True)
class BenchmarkConfig:
    """External benchmarks: directory and how many rows of each are scored."""

    dir: Path
    stereoset_rows: int
    winoqueer_rows: int
    bold_rows_per_group: int


def assess_config(params, seed: int) -> AssessConfig:
    """AssessConfig from the validated params (``assess_bias`` section)."""
    a, g = params.assess_bias, params.assess_bias.generation
    return AssessConfig(
        frames=list(a.frames),
        openers=list(a.openers),
        items_per_group=a.items_per_group,
        prompts_per_group=g.prompts_per_group,
        batch_size=a.batch_size,
        max_new_tokens=g.max_new_tokens,
        parse_mode=g.parse_mode,
        negation=g.negation,
        max_tie_share=a.max_tie_share,
        seed=seed,
    )


def benchmark_config(params, shared_data: Path) -> BenchmarkConfig:
    """BenchmarkConfig from the validated params, its directory under ``shared_data``."""
    b = params.assess_bias.benchmarks
    return BenchmarkConfig(shared_data / b.dir, b.stereoset_rows, b.winoqueer_rows, b.bold_rows_per_group)


def assess_dir(
    model_dir: str | Path,
    genderpair: str | Path,
    cfg: AssessConfig,
    modes: tuple[str, ...],
    bench: BenchmarkConfig | None,
    threads: int = 1,
    trust_remote_code: bool = False,
) -> dict:
    """Load ``model_dir``, assess it on ``genderpair`` in ``modes``; external benchmarks when ``bench`` is set."""
    set_threads(threads)
    model, tok = load_lm(model_dir, trust_remote_code)
    scores = None
    if bench is not None and bench.dir.is_dir():
        scores = run_benchmarks(model, tok, bench.dir, bench.stereoset_rows, bench.winoqueer_rows,
                                bench.bold_rows_per_group, cfg.seed, cfg.batch_size, cfg.max_new_tokens)
    result = assess_model(model, tok, load_genderpair(genderpair), cfg, modes, scores)
    result["model_dir"] = str(model_dir)
    result["config"] = {"frames": cfg.frames, "openers": cfg.openers, "items_per_group": cfg.items_per_group,
                        "prompts_per_group": cfg.prompts_per_group, "seed": cfg.seed}
    return result
