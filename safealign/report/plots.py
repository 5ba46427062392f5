"""Standard report plots (matplotlib, Agg canvas, no pyplot state): line curves and grouped bars."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def line_plot(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    xlabel: str,
    ylabel: str,
    title: str,
    ylim: tuple[float, float] | None = None,
) -> Figure:
    """One line (with markers) per named curve ``name -> (xs, ys)``; a legend when there is more than one.

    ``ylim`` fixes the y range (e.g. (0, 1.05) for rates, so flat curves are not blown up)."""
    fig = _new_figure()
    ax = fig.add_subplot(1, 1, 1)
    for name, (xs, ys) in curves.items():
        ax.plot(list(xs), list(ys), marker="o", label=str(name))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if len(curves) > 1:
        ax.legend(fontsize="small")
    return fig


def bar_plot(
    groups: Mapping[str, Mapping[str, float]],
    ylabel: str,
    title: str,
    ylim: tuple[float, float] | None = None,
) -> Figure:
    """Grouped bars: x positions are the group names, one bar colour per series name inside the groups."""
    fig = _new_figure()
    ax = fig.add_subplot(1, 1, 1)
    names = list(groups)
    series: list[str] = []
    for values in groups.values():
        series.extend(s for s in values if s not in series)
    width = 0.8 / max(len(series), 1)
    x = np.arange(len(names))
    for i, s in enumerate(series):
        heights = [float(groups[g].get(s, np.nan)) for g in names]
        ax.bar(x + (i - (len(series) - 1) / 2) * width, heights, width, label=s)
    ax.set_xticks(x, names)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if len(series) > 1:
        ax.legend(fontsize="small")
    return fig


def _new_figure() -> Figure:
    fig = Figure(figsize=(6.0, 3.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig
