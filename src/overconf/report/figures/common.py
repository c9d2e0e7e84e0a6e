"""Shared look of the report's figures, and saving them as PNG and SVG.

Figures are built with matplotlib's object-oriented API on the Agg canvas (``Figure`` +
``FigureCanvasAgg``, never pyplot): no display is needed, nothing global is left open, and every
figure function returns its :class:`~matplotlib.figure.Figure` so tests can inspect its artists.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.typing import RcKeyType

from overconf.report.load import CORRUPTIONS_PANEL

P = ParamSpec("P")

ROBUST_COLOR = "#1b7837"  # green
NORMAL_COLOR = "#762a83"  # purple
ROBUST_MARKER = "D"
NORMAL_MARKER = "o"
CORRECT_COLOR = "#2166ac"
WRONG_COLOR = "#d6604d"
PNG_DPI = 110
MODELS_PER_PAGE = 12
"""Most models (rows) of one figure that has a row per model (reliability diagrams, Fig. 6 densities): more get
several pages, so no image grows with the zoo (12 rows of about 2.7 in at :data:`PNG_DPI` stay near 3,600 px,
far below 16,000)."""
#: the smallest text size (pt) at the saved size; every figure keeps its text at or above it
MIN_FONT_PT = 8.0
#: print widths (in) of the PDFs beside each figure: a paper's one column and two columns
PRINT_WIDTHS = {"1col": 3.25, "2col": 6.75}
STYLE: dict[RcKeyType, Any] = {"font.size": 9.0, "axes.titlesize": 9.5, "axes.labelsize": 9.0, "xtick.labelsize": 8.0,
         "ytick.labelsize": 8.0, "legend.fontsize": 8.0, "figure.titlesize": 10.0}
#: the paper's names for attacks (perturbation label before ``:``) and data sets
ATTACK_NAMES = {"pgd": "PGD", "square": "Squares", "fgsm": "FGSM", "apgd-ce": "APGD-CE", "apgd-t": "APGD-T",
                "autoattack": "AutoAttack"}
DATASET_NAMES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "imagenet": "ImageNet",
                 "fashion-mnist": "Fashion-MNIST"}
CORRUPTED_NAMES = {"cifar10": "CIFAR-10-C", "cifar100": "CIFAR-100-C", "imagenet": "ImageNet-C"}
#: at most this many names are listed in a "not shown" note
NOTE_NAMES = 3


def styled(make: Callable[P, Figure | None]) -> Callable[P, Figure | None]:
    """Decorate a figure function: build it under :data:`STYLE`, then raise every text (titles, labels, tick
    labels, legends, annotations) below :data:`MIN_FONT_PT` to it, so text is ≥ 8 pt at the saved size."""
    @functools.wraps(make)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure | None:
        with matplotlib.rc_context(STYLE):
            fig = make(*args, **kwargs)
        if fig is not None:
            for ax in fig.axes:
                ax.tick_params(labelsize=max(MIN_FONT_PT, STYLE["xtick.labelsize"]))
            for text in fig.findobj(Text):
                size = text.get_fontsize()
                if isinstance(size, int | float) and size < MIN_FONT_PT:
                    text.set_fontsize(MIN_FONT_PT)
        return fig
    return wrapper


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


def dataset_title(dataset: str) -> str:
    """The paper's spelling of a data set name (``cifar10`` → ``CIFAR-10``)."""
    return DATASET_NAMES.get(dataset, dataset)


def panel_title(panel: str, dataset: str | None = None) -> str:
    """A panel's display name: ``Clean``, ``PGD``, ``Squares``, ``CIFAR-10-C (corruptions)``; budgets go to captions.

    >>> panel_title("pgd:steps=20"), panel_title("square:n_queries=200"), panel_title("corruptions", "cifar10")
    ('PGD', 'Squares', 'CIFAR-10-C (corruptions)')
    """
    if panel == "clean":
        return "Clean"
    if panel == CORRUPTIONS_PANEL:
        return f"{CORRUPTED_NAMES[dataset]} (corruptions)" if dataset in CORRUPTED_NAMES else "Corruptions"
    name, _, _ = panel.partition(":")
    return ATTACK_NAMES.get(name, name)


def budgets(panels: list[str], eps: object = None) -> str:
    """The attacks' budgets for a caption, e.g. ``PGD: steps=20; Squares: n_queries=200; ε = 0.1``."""
    parts = [f"{panel_title(p)}: {p.partition(':')[2]}" for p in dict.fromkeys(panels)
             if ":" in p and p.partition(":")[0] in ATTACK_NAMES]
    if isinstance(eps, (int, float)):
        parts.append(f"ε = {eps:.4g}")
    return ("Attack budgets: " + "; ".join(parts) + ".") if parts else ""


def not_shown(ax: Axes, missing: list[tuple[str, str]]) -> None:
    """Say in the axes' title which models are missing from it and why (nothing is dropped silently)."""
    if not missing:
        return
    by_reason: dict[str, list[str]] = {}
    for model, reason in missing:
        by_reason.setdefault(reason, []).append(model)
    lines = []
    for reason, models in by_reason.items():
        names = ", ".join(models[:NOTE_NAMES]) + (f" +{len(models) - NOTE_NAMES} more" if len(models) > NOTE_NAMES else "")
        lines.append(f"not shown ({reason}): {names}")
    ax.set_title(ax.get_title() + "\n" + "\n".join(lines), fontsize=MIN_FONT_PT)


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
    title = panel_title(panel, dataset)
    return f"{dataset_title(dataset)} · {title}" if len(datasets) > 1 else title


def empty_note(ax: Axes, text: str = "no data") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4", fontsize=9)


def legend_below(fig: Figure, axes: np.ndarray | list[Axes], ncols: int | None = None) -> None:
    """One legend for the whole figure, below the panels (never over the data); duplicate labels merged."""
    unique: dict[str, Artist] = {}
    for ax in np.ravel(np.asarray(axes, dtype=object)):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            unique.setdefault(label, handle)
    if unique:
        fig.legend(list(unique.values()), list(unique.keys()), loc="outside lower center",
                   ncols=ncols or min(len(unique), 4), fontsize=MIN_FONT_PT)


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
    save_print_pdfs(fig, out_dir, name)
    return png, svg


def print_size(width: float, height: float, target: float) -> tuple[float, float]:
    """The figure's size at a print width: the aspect ratio kept, but never lower than ``min(height, 2.4)`` in
    (a wide one-row figure keeps room for its panels' text).

    >>> print_size(15.0, 3.4, 3.25), print_size(4.0, 3.0, 6.75)
    ((3.25, 2.4), (6.75, 5.0625))
    """
    return target, max(height * target / width, min(height, 2.4))


def save_print_pdfs(fig: Figure, out_dir: Path, name: str) -> list[Path]:
    """Write ``<name>-1col.pdf`` and ``<name>-2col.pdf``: the figure at :data:`PRINT_WIDTHS` (a paper's one- and
    two-column width), laid out again at that size; text keeps its size in points (≥ :data:`MIN_FONT_PT`), so
    it prints at that size. The figure's own size and layout are restored afterwards."""
    size = tuple(fig.get_size_inches())
    paths = []
    for tag, width in PRINT_WIDTHS.items():
        fig.set_size_inches(*print_size(size[0], size[1], width))
        fig.set_layout_engine("constrained")
        path = Path(out_dir) / f"{name}-{tag}.pdf"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "constrained_layout not applied": many panels, narrow page
            fig.savefig(path, metadata={"CreationDate": None, "Producer": None})
        paths.append(path)
    fig.set_layout_engine("none")
    fig.set_size_inches(*size)
    return paths
