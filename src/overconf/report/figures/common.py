"""Shared look of the report's figures, and saving them as PNG and SVG.

Figures are built with matplotlib's object-oriented API on the Agg canvas (``Figure`` +
``FigureCanvasAgg``, never pyplot): no display is needed, nothing global is left open, and every
figure function returns its :class:`~matplotlib.figure.Figure` so tests can inspect its artists.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

ROBUST_COLOR = "#1b7837"  # green
NORMAL_COLOR = "#762a83"  # purple
ROBUST_MARKER = "D"
NORMAL_MARKER = "o"
CORRECT_COLOR = "#2166ac"
WRONG_COLOR = "#d6604d"
PNG_DPI = 110


def group_color(robust: bool) -> str:
    return ROBUST_COLOR if robust else NORMAL_COLOR


def group_name(robust: bool) -> str:
    return "robust" if robust else "normal"


def shade(robust: bool, accuracy: float) -> tuple[float, float, float, float]:
    """Colour of a model's marker: green (robust) or purple (normal), darker for higher accuracy.

    >>> shade(True, 1.0) != shade(True, 0.0)
    True
    """
    cmap = matplotlib.colormaps["Greens" if robust else "Purples"]
    level = 0.35 + 0.65 * (0.5 if not np.isfinite(accuracy) else float(np.clip(accuracy, 0.0, 1.0)))
    return cmap(level)


def panel_title(panel: str) -> str:
    return {"clean": "clean", "corruptions": "corruptions (pooled)"}.get(panel, panel)


def new_figure(rows: int, cols: int, *, width: float = 3.6, height: float = 3.2,
               sharex: bool = False, sharey: bool = False) -> tuple[Figure, np.ndarray]:
    """A figure with a ``rows × cols`` grid of axes (always a 2-D array) on the Agg canvas."""
    fig = Figure(figsize=(max(width * cols, 4.0), height * rows + 0.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=sharex, sharey=sharey)
    return fig, axes


def panel_grid(datasets: list[str], panels_of: Callable[[str], list[str]], *, width: float = 3.4,
               height: float = 3.4) -> tuple[Figure, np.ndarray, list[tuple[Axes, str, str]]]:
    """One row per data set and one column per panel of it (``panels_of(dataset)``): the figure, its axes
    array and the ``(axes, dataset, panel)`` cells in order; axes without a panel are switched off."""
    panels = {dataset: panels_of(dataset) for dataset in datasets}
    fig, axes = new_figure(len(datasets), max(len(p) for p in panels.values()), width=width, height=height)
    cells = [(axes[i, j], dataset, panel) for i, dataset in enumerate(datasets) for j, panel in enumerate(panels[dataset])]
    used = {id(ax) for ax, _, _ in cells}
    for ax in axes.flat:
        if id(ax) not in used:
            ax.set_axis_off()
    return fig, axes, cells


def cell_title(datasets: list[str], dataset: str, panel: str) -> str:
    """A panel's title, prefixed by its data set when the figure has several."""
    return f"{dataset} · {panel_title(panel)}" if len(datasets) > 1 else panel_title(panel)


def empty_note(ax: Axes, text: str = "no data") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")


def save_figure(fig: Figure, out_dir: Path, name: str) -> tuple[Path, Path]:
    """Write ``<out_dir>/<name>.png`` and ``.svg`` (text as paths: no fonts needed; no date: reproducible)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png, svg = out_dir / f"{name}.png", out_dir / f"{name}.svg"
    engine = fig.get_layout_engine()
    if engine is not None:  # lay out once, not once per file format
        engine.execute(fig)
        fig.set_layout_engine("none")
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": name}):
        fig.savefig(png, dpi=PNG_DPI, metadata={"Software": None})
        fig.savefig(svg, metadata={"Date": None})
    return png, svg
