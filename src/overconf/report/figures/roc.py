"""Figs. 3 and 4: ROC curves of confidence as a score.

Fig. 3 (misclassification): positives are correct predictions, negatives wrong ones, within one panel.
Each model's curve is put on a common FPR grid (linear interpolation between the curve's points, the
curve the trapezoidal AUROC integrates), then mean ± sample SD (ddof = 1) are drawn over the robust and over the normal models.

Fig. 4 (attack detection): positives are *clean, correctly classified* samples, negatives *perturbed,
wrongly classified* samples of the same indices; drawn like Fig. 3 (mean ± sample SD (ddof = 1) over robust and over normal
models on the common FPR grid), so it stays readable with 49 pairs; per-model AUCs are in the tables.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from overconf.metrics import attack_detection_auroc, misclassification_auroc, roc_curve
from overconf.report.figures.common import (
    cell_title,
    group_color,
    group_name,
    not_shown,
    panel_grid,
    styled,
)
from overconf.report.load import RunData, safe

FPR_GRID = np.linspace(0.0, 1.0, 201)

CAPTION_MISCLASSIFICATION = (
    "ROC of confidence separating correct (positive) from wrong (negative) predictions: mean ± sample SD (ddof = 1) "
    "over robust (green) and over normal (purple) models, TPR taken on a common FPR grid; dashed: random. "
    "Legend (per panel, below it): number of models and mean ± sample SD (ddof = 1) of their AUROC. A model whose AUROC is "
    "undefined (only right or only wrong predictions) is named in the panel title.")
CAPTION_DETECTION = (
    "Attack detection: ROC of confidence separating clean correctly classified samples (positive) "
    "from attacked wrongly classified samples (negative), on the samples the attack ran on: mean ± sample SD (ddof = 1) over "
    "robust (green) and over normal (purple) models on a common FPR grid; dashed: random. Legend (per panel): "
    "number of models and mean ± sample SD (ddof = 1) of their AUROC; per-model values in tables/summary.csv (detection_auroc).")


def tpr_on_grid(fpr: np.ndarray, tpr: np.ndarray, grid: np.ndarray = FPR_GRID) -> np.ndarray:
    """TPR of a ROC curve at each grid FPR, linear between the curve's points (at a vertical step: its top).

    >>> tpr_on_grid(np.array([0.0, 0.0, 0.5, 1.0]), np.array([0.0, 0.4, 0.8, 1.0]), np.array([0.0, 0.25, 1.0])).round(6).tolist()
    [0.4, 0.6, 1.0]
    """
    return np.interp(grid, fpr, tpr)


def detection_arrays(run: RunData, model: str, attack: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(clean confidence, clean correct, perturbed confidence, perturbed correct)`` on the attacked indices."""
    clean = run.cell(model, "clean")
    attacked = run.cell(model, attack)
    joined = clean.merge(attacked, on="index", suffixes=("_clean", "_attack"))
    return (joined["confidence_clean"].to_numpy(), joined["correct_clean"].to_numpy(dtype=bool),
            joined["confidence_attack"].to_numpy(), joined["correct_attack"].to_numpy(dtype=bool))


def detection_auroc(run: RunData, model: str, attack: str) -> float:
    """Attack-detection AUROC of one model (NaN where undefined), via :func:`overconf.metrics.attack_detection_auroc`."""
    return safe(attack_detection_auroc, *detection_arrays(run, model, attack))


def finish_roc_axes(ax: Axes, title: str, xlabel: str, ylabel: str) -> None:
    """The dashed random baseline, unit limits, labels, title, and the panel's legend below the axes."""
    ax.plot([0, 1], [0, 1], linestyle="--", color="0.5", lw=1, label="random (AUC 0.5)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=8, frameon=False)


def draw_mean_std(ax: Axes, curves: list[np.ndarray], aucs: list[float], robust: bool) -> None:
    """Mean TPR (line) ± sample SD (band, ddof = 1) over models on :data:`FPR_GRID`, labelled with n and mean ±
    sample SD of the AUC (no band and no SD with one model)."""
    if not curves:
        return
    stack = np.vstack(curves)
    mean = stack.mean(axis=0)
    std = stack.std(axis=0, ddof=1) if len(stack) > 1 else np.zeros_like(mean)  # sample SD; one model: no band
    colour = group_color(robust)
    spread = f" ± {np.std(aucs, ddof=1):.3f}" if len(aucs) > 1 else " (one model: no SD)"
    ax.plot(FPR_GRID, mean, color=colour, lw=1.8,
            label=f"{group_name(robust)} (n={len(aucs)}, AUC {np.mean(aucs):.3f}{spread})")
    ax.fill_between(FPR_GRID, np.clip(mean - std, 0, 1), np.clip(mean + std, 0, 1), color=colour, alpha=0.2,
                    linewidth=0)


@styled
def figure_misclassification_roc(run: RunData) -> Figure:
    fig, _, cells = panel_grid(run.datasets, run.panels_of, height=4.2)
    for ax, dataset, panel in cells:
        missing: list[tuple[str, str]] = []
        for robust in (False, True):
            curves, aucs = [], []
            for model in run.model_names(dataset, robust):
                conf, correct = run.arrays(model, panel, dataset)
                auc = safe(misclassification_auroc, conf, correct)
                if not np.isfinite(auc):
                    missing.append((model, "no records" if conf.size == 0 else "only right or only wrong predictions"))
                    continue
                fpr, tpr, _ = roc_curve(conf, correct)
                curves.append(tpr_on_grid(np.asarray(fpr), np.asarray(tpr)))
                aucs.append(auc)
            draw_mean_std(ax, curves, aucs, robust)
        finish_roc_axes(ax, cell_title(run.datasets, dataset, panel), "false positive rate (wrong kept)",
                        "true positive rate (correct kept)")
        not_shown(ax, missing)
    return fig


@styled
def figure_detection_roc(run: RunData) -> Figure | None:
    """One panel per attack and data set, mean ± sample SD (ddof = 1) over robust and over normal models; ``None`` without attack."""
    attacks = run.attacks()
    if not attacks or "clean" not in run.panels:
        return None
    fig, _, cells = panel_grid(run.datasets, lambda _: attacks, width=3.6, height=4.4)
    for ax, dataset, attack in cells:
        missing: list[tuple[str, str]] = []
        for robust in (False, True):
            curves, aucs = [], []
            for model in run.model_names(dataset, robust):
                arrays = detection_arrays(run, model, attack)
                auc = safe(attack_detection_auroc, *arrays)
                if not np.isfinite(auc):
                    missing.append((model, "no clean-correct or no attacked-wrong sample"))
                    continue
                clean_conf, clean_correct, attack_conf, attack_correct = arrays
                scores = np.concatenate([clean_conf[clean_correct], attack_conf[~attack_correct]])
                positive = np.concatenate([np.ones(clean_correct.sum(), bool), np.zeros((~attack_correct).sum(), bool)])
                fpr, tpr, _ = roc_curve(scores, positive)
                curves.append(tpr_on_grid(np.asarray(fpr), np.asarray(tpr)))
                aucs.append(auc)
            draw_mean_std(ax, curves, aucs, robust)
        finish_roc_axes(ax, cell_title(run.datasets, dataset, attack), "false positive rate (attacked-wrong kept)",
                        "true positive rate (clean-correct kept)")
        not_shown(ax, missing)
    return fig
