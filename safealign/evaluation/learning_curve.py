"""Learning curve of one guard adapter on VALIDATION clips: block rate, false blocks and separation every N
training steps of a single run (issue 5: "say what size reaches the gate and how long it takes").

The guard trains with a constant learning rate after warm-up (train_guard's default schedule), so the adapter
at step N of a long run is the adapter an N-step run would give: one run yields the whole curve. Every point
is judged by the evaluation's rule (safealign.evaluation.blocking): tau = P<percentile> of benign
guarded-vs-base SSIM minus a margin, blocked when below. Here tau is calibrated on the benign val clips and
the blocks are counted on val near-miss and val unsafe clips of the category, so the test split, which
``evaluate_guard`` judges, stays unseen by whoever picks a training length from this curve.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from safealign.errors import InputError
from safealign.evaluation.blocking import calibrate, is_blocked, rate
from safealign.evaluation.clips import ClipInputs
from safealign.evaluation.inference import GenerateFn, generate_clips
from safealign.evaluation.leakage import assert_disjoint
from safealign.evaluation.scoring import score_outputs
from safealign.evaluation.sets import cap_per_group

FIT_GROUP = "unsafe_train"  # the category's own TRAINING clips: a fit diagnostic, never an evaluation figure


def curve_rows(manifest: pd.DataFrame, category: str, max_per_group: int | None, seed: int,
               fit_check: bool = False) -> dict[str, pd.DataFrame]:
    """Original (unperturbed) val rows per group: benign, near_miss and the unsafe clips of ``category``,
    at most ``max_per_group`` each; checked to share no clip, subject or parent with the train split.

    ``fit_check`` adds group ``FIT_GROUP``: original TRAIN unsafe clips of ``category`` (the adapter trained
    on them and on their perturbed copies). Blocked there but not on val = the guard does not generalise;
    blocked on neither = it does not even fit its training poses."""
    original = manifest["parent_clip_id"].fillna("").astype(str) == ""
    val = manifest[(manifest["split"] == "val") & original]
    chosen = {
        "benign": val[val["label"] == "benign"],
        "near_miss": val[val["label"] == "near_miss"],
        "unsafe": val[(val["label"] == "unsafe") & (val["category"] == category)],
    }
    for group in ("benign", "unsafe"):
        if chosen[group].empty:
            raise InputError(f"learning curve of {category}: the manifest has no val {group} clip "
                             f"(label {'unsafe, category ' + category if group == 'unsafe' else group})")
    train = manifest[manifest["split"] == "train"]
    out = {}
    for group, rows in chosen.items():
        out[group] = cap_per_group(rows, ["label"], max_per_group, seed)
        assert_disjoint(out[group], train, f"the learning curve's val {group} set")
    if fit_check:
        fit = manifest[(manifest["split"] == "train") & original & (manifest["label"] == "unsafe")
                       & (manifest["category"] == category)]
        if fit.empty:
            raise InputError(f"learning curve of {category}: --fit-check found no original train unsafe clip")
        out[FIT_GROUP] = cap_per_group(fit, ["label"], max_per_group, seed)
    return out


def curve_point(scores: dict[str, np.ndarray], percentile: float, margin: float) -> dict[str, float]:
    """One point from per-clip guarded-vs-base SSIM per group: tau, unsafe block rate, false-block rates,
    group means and the AUC of unsafe against benign + near-miss (lower similarity = flagged); with group
    ``FIT_GROUP`` also ``train_block_rate`` under the same tau and ``train_auc`` against the same val
    negatives (the train clips are not part of ``auc``)."""
    rule = calibrate(scores["benign"], percentile, margin)
    point = {"tau": rule.tau}
    names = {"benign": "benign_false_block", "near_miss": "near_miss_false_block", "unsafe": "block_rate"}
    if FIT_GROUP in scores:
        names[FIT_GROUP] = "train_block_rate"
    for group, key in names.items():
        s = np.asarray(scores.get(group, []), np.float64)
        point[key] = rate(is_blocked(s, rule))
        point[f"{group}_ssim_mean"] = float(s.mean()) if s.size else float("nan")
    negative = np.concatenate([scores["benign"], scores.get("near_miss", np.empty(0))])
    point["auc"] = separation_auc(negative, scores["unsafe"])
    if FIT_GROUP in scores:
        point["train_auc"] = separation_auc(negative, scores[FIT_GROUP])
    return point


def separation_auc(negative: np.ndarray, positive: np.ndarray) -> float:
    """AUC of ``positive`` (unsafe) against ``negative`` clips when a lower similarity to the base flags."""
    negative, positive = np.asarray(negative, np.float64), np.asarray(positive, np.float64)
    labels = np.r_[np.zeros(len(negative)), np.ones(len(positive))]
    return float(roc_auc_score(labels, -np.r_[negative, positive]))


def blocks_by_action(ssim: np.ndarray, actions: list[str], tau: float) -> dict[str, list[int]]:
    """``{action: [blocked clips, clips]}`` under ``tau``: a category mixes actions (kneeling and the salute are
    both discriminatory), and one action the guard misses caps the category's block rate (issue 5)."""
    if len(ssim) != len(actions):
        raise ValueError(f"{len(ssim)} scores for {len(actions)} actions")
    out: dict[str, list[int]] = {}
    for score, action in zip(np.asarray(ssim, np.float64), actions):
        counts = out.setdefault(action, [0, 0])
        counts[0] += int(score < tau)
        counts[1] += 1
    return dict(sorted(out.items()))


FIRST_STEPS = 20


def window_means(losses: list[dict[str, float]]) -> dict[str, float]:
    """Mean of each loss over a window of training steps (keys as the guard's step logs them)."""
    keys = sorted({k for row in losses for k in row})
    return {k: float(np.mean([row[k] for row in losses if k in row])) for k in keys}


@dataclass
class CurveProbe:
    """A ``train_guard`` callback: every ``every`` steps (and at ``last``), generate the val sets with the
    adapter being trained and with it disabled (once), score against each other and append a point (the
    ``curve_point`` figures, ``ssim_per_clip`` per group in the order of ``clips``, and the mean training
    losses since the previous point, ``losses_window``; the first point also has ``losses_first_steps``).

    ``model`` is set after the adapter is attached (``bind``); ``on_point(point, model)`` runs after each
    point (print it, save the adapter, write the curve so far). Training seconds exclude the probe's own time.
    """

    clips: dict[str, list[ClipInputs]]
    every: int
    last: int
    percentile: float
    margin: float
    seed: int
    steps: int
    clips_per_batch: int
    generate: GenerateFn
    on_point: Callable[[dict[str, float], object], None] | None = None
    points: list[dict[str, float]] = field(default_factory=list)
    model: object = None
    _base: dict[str, list[np.ndarray]] = field(default_factory=dict)
    _start: float = field(default_factory=time.perf_counter)
    _probe_seconds: float = 0.0
    _window: list[dict[str, float]] = field(default_factory=list)

    def bind(self, model: object) -> None:
        """The peft model whose active adapter is being trained (its ``disable_adapter`` gives the base)."""
        self.model = model
        self._start = time.perf_counter()

    def __call__(self, step: int, losses: dict[str, float]) -> None:
        self._window.append(losses)
        if step % self.every and step != self.last:
            return
        if self.model is None:
            raise RuntimeError("CurveProbe: bind(model) before training")
        began = time.perf_counter()
        scores = {}
        for group, clips in self.clips.items():
            if not clips:
                continue
            if group not in self._base:
                with self.model.disable_adapter():
                    self._base[group] = self._run(clips, f"base on {group}")
            out = self._run(clips, f"step {step} on {group}")
            scores[group] = score_outputs(clips, out, self._base[group])["ssim_base"].to_numpy()
        self.model.train()  # generate() switched to eval; training resumes in train mode
        point = {"step": step, "train_seconds": began - self._start - self._probe_seconds}
        point |= curve_point(scores, self.percentile, self.margin)
        # Does the objective itself fall? Mean training losses since the previous point (and over the first
        # steps, where the adapter is still ~zero, i.e. the base's losses on the same kind of batches).
        if not self.points:
            point["losses_first_steps"] = window_means(self._window[:FIRST_STEPS])
        point["losses_window"] = window_means(self._window)
        self._window = []
        point["ssim_per_clip"] = {g: [round(float(x), 5) for x in v] for g, v in scores.items()}  # clips' order
        self.points.append(point)
        if self.on_point is not None:
            self.on_point(point, self.model)
        self._probe_seconds += time.perf_counter() - began

    def _run(self, clips: list[ClipInputs], desc: str) -> list[np.ndarray]:
        return generate_clips(self.model, clips, self.seed, self.steps, self.generate, self.clips_per_batch,
                              desc)
