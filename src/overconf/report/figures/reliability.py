"""Reliability diagrams: accuracy per confidence bin (bars) against the diagonal of perfect calibration.

Bars below the diagonal are over-confident bins, above it under-confident ones; empty bins are not drawn.
Bins and counts come from :func:`overconf.metrics.reliability_diagram` (equal-width, 15 bins).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from overconf.metrics import accuracy, expected_calibration_error, reliability_diagram
from overconf.report.figures.common import (
    MIN_FONT_PT,
    MODELS_PER_PAGE,
    empty_note,
    group_color,
    new_figure,
    panel_title,
    styled,
)
from overconf.report.load import RunData, safe

N_BINS = 15
CAPTION = (f"Reliability diagrams ({N_BINS} equal-width bins): accuracy per confidence bin (bars) vs the diagonal "
           "of perfect calibration; bars below it are over-confident. The number on a bar: samples in that bin. Title: ECE (L1) and accuracy. "
           "ECE is hard to interpret below 50% accuracy.")


def reliability_pages(run: RunData, dataset: str) -> list[list[str]]:
    """A data set's models in pages of at most :data:`MODELS_PER_PAGE` (pairs kept together where they fit)."""
    models = run.model_names(dataset)
    return [models[k:k + MODELS_PER_PAGE] for k in range(0, len(models), MODELS_PER_PAGE)]


@styled
def figure_reliability(run: RunData, dataset: str, models: list[str] | None = None) -> Figure:
    """Rows: the data set's models (or the given ones: one page of :func:`reliability_pages`); columns: its
    panels."""
    models = run.model_names(dataset) if models is None else models
    panels = run.panels_of(dataset)
    fig, axes = new_figure(len(models), len(panels), width=2.8, height=2.7, sharex=True, sharey=True)
    for i, model in enumerate(models):
        robust = bool(run.models.loc[run.models["model"] == model, "robust"].iloc[0])
        for j, panel in enumerate(panels):
            ax = axes[i, j]
            conf, correct = run.arrays(model, panel, dataset)
            ax.plot([0, 1], [0, 1], linestyle="--", color="0.5", lw=0.8)
            if conf.size == 0:
                empty_note(ax)
            else:
                diagram = reliability_diagram(conf, correct, n_bins=N_BINS)
                heights = np.where(np.asarray(diagram.counts) > 0, np.asarray(diagram.accuracy, dtype=float), np.nan)
                edges, counts = np.asarray(diagram.edges), np.asarray(diagram.counts)
                ax.stairs(heights, edges, fill=True, color=group_color(robust), alpha=0.75, label="accuracy per bin")
                for left, right, count, height in zip(edges[:-1], edges[1:], counts, heights):
                    if count > 0:  # samples per bin: a bar of 3 samples says less than one of 3,000
                        ax.text((left + right) / 2, min(float(height), 0.62) + 0.02, str(int(count)), rotation=90,
                                ha="center", va="bottom", fontsize=MIN_FONT_PT, color="0.2")
                ece = safe(expected_calibration_error, conf, correct)
                ax.set_title(f"{panel_title(panel, dataset)}\nECE {ece:.3f} · acc {safe(accuracy, correct):.2f}",
                             fontsize=8)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            if j == 0:
                ax.set_ylabel(f"{model}\naccuracy", fontsize=8)
            if i == len(models) - 1:
                ax.set_xlabel("confidence", fontsize=8)
    return fig
