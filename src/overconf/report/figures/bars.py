"""Fig. 2: over-confidence o(f) = E[ẑ | ŷ ≠ y] as bars, each robust model beside its normal twin."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from overconf.metrics import overconfidence
from overconf.report.figures.common import (
    cell_title,
    group_color,
    legend_below,
    not_shown,
    panel_grid,
    styled,
)
from overconf.report.load import RunData, safe

CAPTION = ("Over-confidence o(f) (mean confidence on wrong predictions; lower is better) per pair: the "
           "normal model (purple) beside its robust twin(s) (green). A model without a bar is marked n/a and named in "
           "the panel title with the reason (no records, or no wrong prediction: o(f) undefined).")


@styled
def figure_overconfidence_bars(run: RunData) -> Figure:
    """One panel per perturbation and data set; bar groups by pair, normal model first."""
    n_models = max(len(run.models_of(d)) for d in run.datasets)
    fig, axes, cells = panel_grid(run.datasets, run.panels_of, width=min(max(3.4, 0.45 * n_models + 1.2), 9.0))
    for ax, dataset, panel in cells:
        missing: list[tuple[str, str]] = []
        models = run.models_of(dataset)
        pairs = list(dict.fromkeys(models["pair"]))
        for g, pair in enumerate(pairs):
            members = models[models["pair"] == pair]
            members = members.sort_values("robust", kind="stable")
            width = 0.8 / len(members)
            for k, (model, robust) in enumerate(zip(members["model"], members["robust"])):
                conf, correct = run.arrays(str(model), panel, dataset)
                value = safe(overconfidence, conf, correct)
                x = g - 0.4 + width * (k + 0.5)
                if not np.isfinite(value):
                    missing.append((str(model), "no records" if conf.size == 0 else "no wrong prediction"))
                    ax.text(x, 0.02, "n/a", rotation=90, ha="center", va="bottom", color="0.35")
                    continue
                bar = ax.bar([x], [value], width=width * 0.92, color=group_color(bool(robust)),
                             label="robust" if robust else "normal")
                if len(pairs) <= 12:  # beyond, the values are in tables/pairs.csv
                    ax.bar_label(bar, fmt="%.2f", fontsize=8, padding=1, rotation=90 if len(pairs) > 4 else 0)
        ax.set_xticks(range(len(pairs)), [str(p) for p in pairs], rotation=30 if len(pairs) <= 12 else 90,
                      ha="right" if len(pairs) <= 12 else "center", fontsize=8)
        ax.set_ylim(0, 1.15)
        ax.set_ylabel("o(f)")
        ax.set_title(cell_title(run.datasets, dataset, panel))
        not_shown(ax, missing)
    legend_below(fig, axes)
    return fig
