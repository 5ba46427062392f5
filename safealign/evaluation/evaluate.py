"""Run every model on every evaluation set with identical inputs and seeds, then score against the base."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from safealign.evaluation.clips import ClipInputs
from safealign.evaluation.inference import GenerateFn, generate_clips
from safealign.evaluation.scoring import score_outputs
from safealign.evaluation.summary import BASE


@dataclass(frozen=True)
class ModelSpec:
    """A model to evaluate: label, model (dir or URI), optional adapter, and the sets it runs on."""

    name: str
    model: str | Path
    adapter: str | Path | None
    sets: tuple[str, ...]


@dataclass
class EvalInputs:
    """Loaded clips per set and their metadata rows (clip_id, category, label, family, level), same order."""

    clips: dict[str, list[ClipInputs]] = field(default_factory=dict)
    meta: dict[str, pd.DataFrame] = field(default_factory=dict)

    def add(self, name: str, clips: list[ClipInputs], meta: pd.DataFrame) -> None:
        """Register one set; ``meta`` must hold one row per clip, in the same order."""
        if [c.clip_id for c in clips] != list(meta["clip_id"].astype(str)):
            raise ValueError(f"set {name}: clip list and metadata rows are not aligned")
        self.clips[name], self.meta[name] = clips, meta.reset_index(drop=True)


def run_models(
    specs: Sequence[ModelSpec],
    inputs: EvalInputs,
    load: Callable[[ModelSpec], object],
    generate: GenerateFn,
    seed: int,
    steps: int,
    clips_per_batch: int,
    keep_outputs: Mapping[str, Sequence[str]] | None = None,
) -> tuple[pd.DataFrame, dict[tuple[str, str], list[np.ndarray]]]:
    """Scores of every (model, set) pair and the outputs asked for in ``keep_outputs`` (set -> model names).

    The base model must come first: every other model is scored against its outputs on the same set.
    """
    if not specs or specs[0].name != BASE:
        raise ValueError("the base model must be the first model evaluated")
    base_out: dict[str, list[np.ndarray]] = {}
    kept: dict[tuple[str, str], list[np.ndarray]] = {}
    frames = []
    for spec in specs:
        model = load(spec)
        for set_name in spec.sets:
            clips = inputs.clips.get(set_name) or []
            if not clips:
                continue
            out = generate_clips(
                model, clips, seed, steps, generate, clips_per_batch, desc=f"{spec.name} on {set_name}"
            )
            if spec.name == BASE:
                base_out[set_name] = out
            scores = score_outputs(clips, out, base_out[set_name])
            meta = inputs.meta[set_name].drop(columns=["clip_id"])
            frames.append(pd.concat([scores, meta], axis=1).assign(set=set_name, model=spec.name))
            if keep_outputs and spec.name in keep_outputs.get(set_name, ()):
                kept[(set_name, spec.name)] = out
        del model
    return pd.concat(frames, ignore_index=True), kept
