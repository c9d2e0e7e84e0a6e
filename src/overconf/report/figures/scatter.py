"""Fig. 1: mean confidence on correct (x) vs on wrong (y) predictions, one marker per model.

The ideal model sits at (1, 0) (star); a model in the grey region y > x is more confident when it is
wrong than when it is right. Robust models are green diamonds, normal models purple circles; the darker
the marker, the higher the model's accuracy in that panel.
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure

from overconf.metrics import accuracy, mean_confidence_correct, overconfidence
from overconf.report.figures.common import (
    NORMAL_MARKER,
    ROBUST_MARKER,
    cell_title,
    empty_note,
    group_color,
    group_name,
    legend_below,
    not_shown,
    panel_grid,
    shade,
    styled,
)
from overconf.report.load import RunData, safe

CAPTION = ("Mean confidence on correct (x) vs wrong (y) predictions per model. Green diamonds: robust; "
           "purple circles: normal; the colour bars give the accuracy the shade encodes (darker = more accurate). "
           "Star: the ideal point (1, 0); grey: more confident when wrong than when right (y > x). Corruptions are "
           "pooled over all corruption types and severities. A model without wrong (or without correct) "
           "predictions in a panel is named in its title.")


def accuracy_colormap(robust: bool) -> ListedColormap:
    """The colours :func:`shade` gives accuracies 0…1, as a colour map for the colour bar."""
    base = matplotlib.colormaps["Greens" if robust else "Purples"]
    return ListedColormap(base(np.linspace(0.35, 1.0, 256)), name=f"accuracy-{group_name(robust)}")


@styled
def figure_confidence_scatter(run: RunData) -> Figure:
    """One panel per perturbation (columns) and data set (rows); one marker per model with both kinds of
    prediction; two colour bars (robust, normal) map the markers' shade to accuracy."""
    fig, axes, cells = panel_grid(run.datasets, run.panels_of)
    for ax, dataset, panel in cells:
        missing: list[tuple[str, str]] = []
        ax.fill_between([0, 1.05], [0, 1.05], [1.05, 1.05], color="0.88", zorder=0,
                        label="y > x: more confident when wrong")
        ax.plot([0, 1.05], [0, 1.05], color="0.6", lw=0.8, zorder=1)
        for robust in (False, True):
            xs, ys, colours = [], [], []
            for model in run.model_names(dataset, robust):
                conf, correct = run.arrays(model, panel, dataset)
                x = safe(mean_confidence_correct, conf, correct)
                y = safe(overconfidence, conf, correct)
                if np.isfinite(x) and np.isfinite(y):
                    xs.append(x)
                    ys.append(y)
                    colours.append(shade(robust, safe(accuracy, correct)))
                else:
                    missing.append((model, "no records" if conf.size == 0 else
                                    "no wrong prediction" if np.isfinite(x) else "no correct prediction"))
            if xs:
                ax.scatter(xs, ys, c=colours, marker=ROBUST_MARKER if robust else NORMAL_MARKER, s=55,
                           edgecolors=group_color(robust), linewidths=1.0, zorder=3, label=group_name(robust))
        ax.plot([1.0], [0.0], marker="*", markersize=16, color="gold", markeredgecolor="black",
                linestyle="none", zorder=4, label="ideal (1, 0)")
        ax.set_xlim(0, 1.05)
        ax.set_ylim(0, 1.05)
        ax.set_aspect("equal")
        ax.set_title(cell_title(run.datasets, dataset, panel))
        ax.set_xlabel("mean confidence, correct")
        ax.set_ylabel("mean confidence, wrong")
        if not ax.collections[1:]:
            empty_note(ax)
        not_shown(ax, missing)
    for robust in (True, False):
        bar = fig.colorbar(ScalarMappable(Normalize(0.0, 1.0), accuracy_colormap(robust)), ax=axes, shrink=0.8,
                           aspect=30, pad=0.01)
        bar.set_label(f"accuracy, {group_name(robust)}")
    legend_below(fig, axes)
    return fig
