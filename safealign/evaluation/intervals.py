"""Confidence intervals for rates measured on few clips."""

from __future__ import annotations

import math


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval (default 95 %) of a proportion with ``k`` successes in ``n`` trials.

    Unlike the normal approximation it stays inside [0, 1] and is not empty at k = 0 or k = n, which matters
    at the 5-20 clips a test split has per action. ``n = 0`` gives (nan, nan).
    """
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"wilson_interval: expected 0 <= k <= n, received k={k}, n={n}")
    if n == 0:
        return math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if k == 0 else max(0.0, centre - half)     # exact ends: no 1e-17 from rounding
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high
