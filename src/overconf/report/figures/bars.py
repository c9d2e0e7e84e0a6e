"""Fig. 2: over-confidence o(f) = E[ẑ | ŷ ≠ y] as bars, each robust model beside its normal twin."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from overconf.metrics import overconfidence
from overconf.report.figures.common import cell_title, group_color, panel_grid
from overconf.report.load import RunData, safe

CAPTION = ("Over-confidence o(f) (mean confidence on wrong predictions; lower is better) per pair: the "
           "normal model (purple) beside its robust twin(s) (green). Missing bars: the model made no wrong "
           "prediction there (o(f) undefined).")


def figure_overconfidence_bars(run: RunData) -> Figure:
    """One panel per perturbation and data set; bar groups by pair, normal model first."""
    n_models = max(len(run.models_of(d)) for d in run.datasets)
    fig, axes, cells = panel_grid(run.datasets, run.panels_of, width=max(3.4, 0.45 * n_models + 1.2))
    for ax, dataset, panel in cells:
        models = run.models_of(dataset)
        pairs = list(dict.fromkeys(models["pair"]))
        for g, pair in enumerate(pairs):
            members = models[models["pair"] == pair]
            members = members.sort_values("robust", kind="stable")
            width = 0.8 / len(members)
            for k, (model, robust) in enumerate(zip(members["model"], members["robust"])):
                value = safe(overconfidence, *run.arrays(str(model), panel, dataset))
                if not np.isfinite(value):
                    continue
                x = g - 0.4 + width * (k + 0.5)
                bar = ax.bar([x], [value], width=width * 0.92, color=group_color(bool(robust)),
                             label="robust" if robust else "normal")
                ax.bar_label(bar, fmt="%.2f", fontsize=6, padding=1)
        ax.set_xticks(range(len(pairs)), [str(p) for p in pairs], rotation=30, ha="right", fontsize=7)
        ax.set_ylim(0, 1.1)
        ax.set_ylabel("o(f)")
        ax.set_title(cell_title(run.datasets, dataset, panel))
    unique = {label: handle for ax in axes.flat for handle, label in zip(*ax.get_legend_handles_labels())}
    fig.legend(unique.values(), unique.keys(), loc="outside lower center", ncols=max(len(unique), 1), fontsize=8)
    return fig
