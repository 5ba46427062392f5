"""Bootstrap confidence intervals over items (pairs or prompts)."""

from __future__ import annotations

import numpy as np


def bootstrap_ci(
    values: np.ndarray, counted: np.ndarray | None, seed: int, resamples: int = 1000, level: float = 0.95
) -> list[float]:
    """Percentile CI of the mean of ``values`` over the ``counted`` items, items resampled with replacement.

    ``counted`` marks the items that enter the mean (e.g. parsed responses, decided pairs); the resampling
    is over all items, so the uncertainty of how many are counted is included. NaN bounds when nothing is.
    """
    values = np.asarray(values, dtype=float)
    counted = np.ones(len(values), bool) if counted is None else np.asarray(counted, dtype=bool)
    if not counted.any():
        return [float("nan"), float("nan")]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(resamples, len(values)))
    num = np.where(counted, values, 0.0)[idx].sum(axis=1)
    den = counted[idx].sum(axis=1)
    means = num[den > 0] / den[den > 0]
    tail = (1.0 - level) / 2.0
    return [float(np.quantile(means, tail)), float(np.quantile(means, 1.0 - tail))]
