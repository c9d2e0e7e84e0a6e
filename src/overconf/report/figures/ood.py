"""OOD detection (not in the paper): AUROC of confidence separating clean from OOD inputs, per model, robust vs normal."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from overconf.report.figures.common import (
    dataset_title,
    group_color,
    legend_below,
    new_figure,
    not_shown,
    styled,
)

CAPTION = ("OOD detection (ours, not in the paper): AUROC of the confidence separating the model's clean inputs "
           "(positive) from the OOD inputs (0.5 = chance, dashed), the normal model (purple) beside its robust "
           "twin (green), one panel per OOD set. Bars are point estimates on all samples; the robust − normal "
           "differences with 95% paired bootstrap intervals are the claims ood-auroc:* (and pair_cells.csv).")


@styled
def figure_ood_auroc(summary: pd.DataFrame) -> Figure | None:
    """One panel per data set × OOD set; bar groups by pair, normal model first (None without OOD records)."""
    ood = summary[(summary["family"] == "ood")] if "family" in summary.columns else summary.iloc[:0]
    if ood.empty:
        return None
    panels = list(dict.fromkeys(zip(ood["dataset"].astype(str), ood["perturbation"].astype(str))))
    n_models = int(ood.groupby(["dataset", "perturbation"]).size().max())
    fig, axes = new_figure(1, len(panels), width=min(max(3.0, 0.4 * n_models + 1.2), 6.5), height=3.0)
    for ax, (dataset, label) in zip(axes.flat, panels):
        rows = ood[(ood["dataset"].astype(str) == dataset) & (ood["perturbation"].astype(str) == label)]
        pairs = list(dict.fromkeys(rows["pair"].astype(str)))
        missing: list[tuple[str, str]] = []
        for g, pair in enumerate(pairs):
            members = rows[rows["pair"].astype(str) == pair].sort_values("robust", kind="stable")
            width = 0.8 / len(members)
            for k, r in enumerate(members.itertuples(index=False)):
                x = g - 0.4 + width * (k + 0.5)
                if not np.isfinite(r.ood_auroc):
                    missing.append((str(r.model), "AUROC undefined"))
                    continue
                ax.bar([x], [r.ood_auroc], width=width * 0.92, color=group_color(bool(r.robust)),
                       label="robust" if r.robust else "normal")
        ax.axhline(0.5, color="0.4", linestyle="--", linewidth=0.8)
        ax.set_xticks(range(len(pairs)), pairs, rotation=30, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("OOD AUROC")
        ax.set_title(f"{dataset_title(dataset)} · {label}" if len({d for d, _ in panels}) > 1 else label)
        not_shown(ax, missing)
    legend_below(fig, axes)
    return fig
