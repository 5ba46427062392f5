"""Assessment of one model directory end to end (shared by the assess_bias stage and ``safealign assess-bias``)."""

from __future__ import annotations

from pathlib import Path

from safealign.bias.lm.assess import AssessConfig, assess_model, load_genderpair
from safealign.bias.lm.benchmarks import run_benchmarks
from safealign.bias.lm.model import load_lm, set_threads


def assess_config(params, seed: int) -> AssessConfig:
    """AssessConfig from the validated params (frames from pretrain_lm.corpus, the rest from assess_bias)."""
    a, g = params.assess_bias, params.assess_bias.generation
    return AssessConfig(
        frames=list(params.pretrain_lm.corpus.frames),
        eval_prefixes=list(a.eval_prefixes),
        items_per_group=a.items_per_group,
        batch_size=a.batch_size,
        prompts_per_group=g.prompts_per_group,
        max_new_tokens=g.max_new_tokens,
        parse_mode=g.parse_mode,
        negation=g.negation,
        seed=seed,
    )


def assess_dir(
    model_dir: str | Path, genderpair: str | Path, params, modes: tuple[str, ...], shared_data: Path | None
) -> dict:
    """Load ``model_dir``, assess it on ``genderpair`` in ``modes``; external benchmarks when the data exist."""
    set_threads(params.pretrain_lm.threads)
    model, tok = load_lm(model_dir, params.pretrain_lm.trust_remote_code)
    cfg = assess_config(params, params.project.seed)
    bench = None
    b = params.assess_bias.benchmarks
    if shared_data is not None:
        bench = run_benchmarks(
            model,
            tok,
            shared_data / b.dir,
            b.stereoset_rows,
            b.winoqueer_rows,
            b.bold_rows_per_group,
            cfg.seed,
            cfg.batch_size,
            cfg.max_new_tokens,
        )
    result = assess_model(model, tok, load_genderpair(genderpair), cfg, modes, bench)
    result["model_dir"] = str(model_dir)
    return result
