"""Robust minus normal: Δo(f), Δu(f) and ΔECE per pair with paired bootstrap confidence intervals.

For a robust model r and its normal twin n in a panel, the samples both were evaluated on (same
perturbation label and sample index) are joined, and ``Δ = metric(r) − metric(n)`` is bootstrapped by
resampling all those joint samples (:mod:`overconf.report.intervals`, vectorised percentile interval). Negative Δo
and ΔECE mean the robust model is less over-confident / better calibrated. The peers report only point
values; the interval says whether the difference could be resampling noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from overconf.report.comparisons import Pair
from overconf.report.figures.common import dataset_title, legend_below, new_figure, panel_title, styled
from overconf.report.load import CORRUPTIONS_PANEL, RunData

DIFFERENCE_METRICS = ("overconfidence", "underconfidence", "ece")
METRIC_LABELS = {"overconfidence": "Δ o(f)", "underconfidence": "Δ u(f)", "ece": "Δ ECE"}
LEGEND_PAIRS = 12
COLUMNS = ["dataset", "panel", "pair", "robust_model", "normal_model", "metric", "estimate", "low", "high", "n"]

CAPTION = ("Robust minus normal twin: Δo(f), Δu(f) and ΔECE per pair and panel with 95% paired percentile bootstrap "
           "intervals (joint resampling of all samples both models saw, the same samples as the point estimate; the "
           "corruptions panel pools every corruption label, resampled within each label; "
           "a point without bar: some resample had no wrong (or no correct) prediction, so the interval is "
           "undefined). Below zero: the robust model is less over-confident / better calibrated.")


def pair_differences(run: RunData, cells: pd.DataFrame, pooled: pd.DataFrame, pairs: list[Pair]) -> pd.DataFrame:
    """One row per (dataset, panel, pair, metric of :data:`DIFFERENCE_METRICS`): estimate, low, high, n.

    Single-label panels (clean, each attack) are rows of ``cells``, the corruptions panel the rows of ``pooled``
    (both from :func:`overconf.report.comparisons.pair_comparisons`).
    """
    rows: list[dict[str, object]] = []
    for dataset in run.datasets:
        for pair in [p for p in pairs if p.dataset == dataset]:
            for panel in run.panels_of(dataset):
                source = pooled if panel == CORRUPTIONS_PANEL else cells
                part = source[(source["pair"] == pair.name) & (source["perturbation"] == panel)
                              & source["metric"].isin(list(DIFFERENCE_METRICS))]
                for r in part.itertuples(index=False):
                    rows.append({"dataset": dataset, "panel": panel, "pair": pair.name, "robust_model": pair.robust,
                                 "normal_model": pair.normal, "metric": r.metric, "estimate": r.estimate,
                                 "low": r.low, "high": r.high, "n": r.n})
    return pd.DataFrame(rows, columns=COLUMNS)


@styled
def figure_differences(differences: pd.DataFrame) -> Figure | None:
    """Columns: Δo, Δu, ΔECE; rows: data sets; x: panels; one point with its interval per twin pair.

    The legend (one entry per pair, at most :data:`LEGEND_PAIRS`) sits below the panels; a pair whose value is
    undefined in a panel is marked ``n/a`` at zero.
    """
    if differences.empty or not np.isfinite(differences["estimate"].to_numpy(float)).any():
        return None
    datasets = list(dict.fromkeys(differences["dataset"]))
    fig, axes = new_figure(len(datasets), len(DIFFERENCE_METRICS), width=4.0, height=3.4)
    for i, dataset in enumerate(datasets):
        part = differences[differences["dataset"] == dataset]
        panels = list(dict.fromkeys(part["panel"]))
        twins = list(dict.fromkeys(zip(part["pair"], part["robust_model"], part["normal_model"])))
        for j, metric in enumerate(DIFFERENCE_METRICS):
            ax = axes[i, j]
            ax.axhline(0.0, color="0.4", lw=0.8)
            for k, (pair, robust, normal) in enumerate(twins):
                sel = part[(part["metric"] == metric) & (part["pair"] == pair)].set_index("panel").reindex(panels)
                offset = (k - (len(twins) - 1) / 2) * 0.8 / max(len(twins), 1)
                x = np.arange(len(panels)) + offset
                est = sel["estimate"].to_numpy(dtype=float)
                err = np.vstack([est - sel["low"].to_numpy(dtype=float), sel["high"].to_numpy(dtype=float) - est])
                label = f"{pair}: {robust} − {normal}" if len(twins) <= LEGEND_PAIRS else None
                ax.errorbar(x, est, yerr=np.nan_to_num(np.abs(err)), fmt="D", ms=4, capsize=2.5, lw=1, label=label)
                for xi in x[~np.isfinite(est)]:
                    ax.text(xi, 0.0, "n/a", rotation=90, ha="center", va="bottom", color="0.35")
                no_interval = np.isfinite(est) & ~np.all(np.isfinite(err), axis=0)
                for xi, yi in zip(x[no_interval], est[no_interval]):  # a point without an interval says why
                    ax.text(xi, yi, " no interval: undefined in a resample", rotation=90, ha="center", va="bottom",
                            color="0.35")
            ax.set_xticks(range(len(panels)), [panel_title(p, dataset) for p in panels], rotation=30, ha="right")
            ax.set_ylabel(METRIC_LABELS[metric] + " (robust − normal)")
            title = METRIC_LABELS[metric]
            ax.set_title(f"{dataset_title(dataset)} · {title}" if len(datasets) > 1 else title)
    legend_below(fig, axes, ncols=2)
    return fig
