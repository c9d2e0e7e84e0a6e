"""Figs. 5–6: confidence densities of correct vs wrong predictions (histogram + Gaussian KDE).

Fig. 5 compares training (one figure per pair: the normal model and its robust twin(s)); Fig. 6 compares
building blocks (one figure per ``downsampling`` / ``activation`` choice that varies among a data set's
normally trained models that differ only in that block, see :func:`overconf.report.load.block_groups`). Histograms use every sample; the KDE
(:class:`scipy.stats.gaussian_kde`) is fitted on at most :data:`KDE_MAX_SAMPLES` samples drawn without
replacement by a generator seeded with 0 (deterministic), and skipped for fewer than 3 samples or zero spread.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy.stats import gaussian_kde

from overconf.report.figures.common import (
    CORRECT_COLOR,
    MODELS_PER_PAGE,
    WRONG_COLOR,
    dataset_title,
    empty_note,
    legend_below,
    new_figure,
    panel_title,
    styled,
)
from overconf.report.load import BLOCK_KEYS, RunData, block_groups
from overconf.report.load import n_classes as classes_of

KDE_MAX_SAMPLES = 1000
KDE_GRID = np.linspace(0.0, 1.0, 129)
HIST_BINS = np.linspace(0.0, 1.0, 31)

CAPTION_TRAINING = ("Confidence densities of correct (blue) and wrong (red) predictions, normal vs robust "
                    "twin. Bars: histogram of all samples; lines: Gaussian KDE (reflected at 1/K and 1, the bounds of a confidence) on a deterministic "
                    f"subsample of at most {KDE_MAX_SAMPLES} samples (seed 0).")
CAPTION_BLOCKS = ("Confidence densities of correct (blue) and wrong (red) predictions of the normally trained "
                  "models, grouped by building block ({key}). Bars: histogram of all samples; lines: Gaussian KDE "
                  f"(reflected at 1/K and 1, the bounds of a confidence) on a deterministic subsample of at most {KDE_MAX_SAMPLES} samples (seed 0).")


def kde_curve(values: np.ndarray, grid: np.ndarray = KDE_GRID, max_samples: int = KDE_MAX_SAMPLES,
              lower: float = 0.0) -> np.ndarray | None:
    """Gaussian KDE of ``values`` in [lower, 1] on ``grid``, or ``None`` when undefined (< 3 samples, no spread).

    A confidence (max softmax of K classes) lies in [1/K, 1] and piles up at 1, where a plain KDE would leak
    mass past the bounds; the kernel is reflected at ``lower`` (1/K) and 1 (``f(x) = k(x) + k(2·lower − x) +
    k(2 − x)``, 0 outside [lower, 1]) so the curve integrates to 1 over the support.

    >>> kde_curve(np.full(10, 0.9)) is None, kde_curve(np.array([0.2, 0.5])) is None
    (True, True)
    >>> curve = kde_curve(np.random.default_rng(0).uniform(0.3, 0.7, 500)); bool(curve[64] > curve[5])
    True
    >>> round(float(np.trapezoid(kde_curve(np.random.default_rng(0).beta(20, 1, 500)), KDE_GRID)), 2)
    1.0
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size < 3 or np.ptp(values) < 1e-9:
        return None
    if values.size > max_samples:
        values = np.random.default_rng(0).choice(values, size=max_samples, replace=False)
    try:
        kde = gaussian_kde(values)
    except (np.linalg.LinAlgError, ValueError):
        return None
    direct, below, above = np.split(kde(np.concatenate([grid, 2.0 * lower - grid, 2.0 - grid])), 3)
    return np.where(grid >= lower, direct + below + above, 0.0)


def draw_density(ax: Axes, confidence: np.ndarray, correct: np.ndarray, n_classes: int = 0) -> None:
    """Histogram (density) and KDE (bounded to [1/K, 1], ``n_classes`` = K) of the confidence of correct and of
    wrong predictions on one axes."""
    if confidence.size == 0:
        empty_note(ax)
        return
    for mask, colour, name in ((correct, CORRECT_COLOR, "correct"), (~correct, WRONG_COLOR, "wrong")):
        values = confidence[mask]
        if values.size == 0:
            continue
        ax.hist(values, bins=HIST_BINS.tolist(), density=True, histtype="stepfilled", color=colour, alpha=0.3,
                label=f"{name}: histogram")
        lower = min(1.0 / n_classes, float(confidence.min())) if n_classes >= 2 else 0.0
        curve = kde_curve(values, lower=lower)
        if curve is not None:
            ax.plot(KDE_GRID, curve, color=colour, lw=1.4, label=f"{name}: KDE")
    ax.text(0.03, 0.96, f"n correct {int(correct.sum())}\nn wrong {int((~correct).sum())}", transform=ax.transAxes,
            va="top", fontsize=8, color="0.25")
    ax.set_xlim(0, 1)


@styled
def figure_densities(run: RunData, models: Sequence[str], title: str) -> Figure:
    """Rows: ``models`` (labelled with their building blocks and training); columns: the panels."""
    dataset = run.dataset_of(models[0])
    panels = run.panels_of(dataset)
    n_classes = classes_of(run).get(dataset, 0)  # K, the width of the logits: confidences lie in [1/K, 1]
    fig, axes = new_figure(len(models), len(panels), width=3.0, height=2.5, sharex=True)
    for i, model in enumerate(models):
        for j, panel in enumerate(panels):
            ax = axes[i, j]
            draw_density(ax, *run.arrays(model, panel, dataset), n_classes=n_classes)
            if i == 0:
                ax.set_title(panel_title(panel, dataset), fontsize=9)
            if j == 0:
                ax.set_ylabel(run.describe(model) + "\ndensity", fontsize=8)
            if i == len(models) - 1:
                ax.set_xlabel("confidence")
    fig.suptitle(title, fontsize=10)
    legend_below(fig, axes)
    return fig


def density_groups(run: RunData) -> list[tuple[str, str, list[str]]]:
    """``(figure name, title, models)`` for Fig. 5 (one per pair) and Fig. 6 (one per varying building block)."""
    groups: list[tuple[str, str, list[str]]] = []
    for dataset in run.datasets:
        models = run.models_of(dataset)
        for pair in dict.fromkeys(models["pair"]):
            members = models[models["pair"] == pair].sort_values("robust", kind="stable")["model"].tolist()
            groups.append((f"fig5_density_{dataset}_{pair}", f"{dataset_title(dataset)} · pair {pair}: training", members))
    configs = run.models.set_index("model")["config"]
    for dataset, key, members in block_groups(run.models):
        pages = [members[k:k + MODELS_PER_PAGE] for k in range(0, len(members), MODELS_PER_PAGE)]
        for number, page in enumerate(pages, start=1):
            values = " vs ".join(str(configs.loc[m][key]) for m in page)
            name = f"fig6_density_{dataset}_{key}" if len(pages) == 1 else f"fig6_density_{dataset}_p{number}_{key}"
            more = "" if len(pages) == 1 else f" (page {number} of {len(pages)})"
            groups.append((name, f"{dataset_title(dataset)} · normally trained, {BLOCK_KEYS[key]}: {values}{more}", page))
    return groups
