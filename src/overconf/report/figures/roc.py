"""Figs. 3 and 4: ROC curves of confidence as a score.

Fig. 3 (misclassification): positives are correct predictions, negatives wrong ones, within one panel.
Each model's curve is put on a common FPR grid (linear interpolation between the curve's points, the
curve the trapezoidal AUROC integrates), then mean ± std are drawn over the robust and over the normal models.

Fig. 4 (attack detection): positives are *clean, correctly classified* samples, negatives *perturbed,
wrongly classified* samples of the same indices, one curve per model and attack.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from overconf.metrics import attack_detection_auroc, misclassification_auroc, roc_curve
from overconf.report.figures.common import cell_title, group_color, group_name, panel_grid
from overconf.report.load import RunData, safe

FPR_GRID = np.linspace(0.0, 1.0, 201)

CAPTION_MISCLASSIFICATION = (
    "ROC of confidence separating correct (positive) from wrong (negative) predictions: mean ± std "
    "over robust (green) and over normal (purple) models, TPR taken on a common FPR grid; dashed: random. "
    "Legend: mean ± std of the models' AUROC.")
CAPTION_DETECTION = (
    "Attack detection: ROC of confidence separating clean correctly classified samples (positive) "
    "from attacked wrongly classified samples (negative), on the samples the attack ran on; dashed: random.")


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


def finish_roc_axes(ax: Axes, title: str, xlabel: str, ylabel: str, legend_size: float) -> None:
    """The dashed random baseline, unit limits, labels, title and legend shared by both ROC figures."""
    ax.plot([0, 1], [0, 1], linestyle="--", color="0.5", lw=1, label="random (AUC 0.5)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=legend_size)


def figure_misclassification_roc(run: RunData) -> Figure:
    fig, _, cells = panel_grid(run.datasets, run.panels_of)
    for ax, dataset, panel in cells:
        for robust in (False, True):
            curves, aucs = [], []
            for model in run.model_names(dataset, robust):
                conf, correct = run.arrays(model, panel, dataset)
                auc = safe(misclassification_auroc, conf, correct)
                if not np.isfinite(auc):
                    continue
                fpr, tpr, _ = roc_curve(conf, correct)
                curves.append(tpr_on_grid(np.asarray(fpr), np.asarray(tpr)))
                aucs.append(auc)
            if not curves:
                continue
            stack = np.vstack(curves)
            mean, std = stack.mean(axis=0), stack.std(axis=0)
            colour = group_color(robust)
            ax.plot(FPR_GRID, mean, color=colour, lw=1.8,
                    label=f"{group_name(robust)} (n={len(aucs)}, AUC {np.mean(aucs):.3f} ± {np.std(aucs):.3f})")
            ax.fill_between(FPR_GRID, np.clip(mean - std, 0, 1), np.clip(mean + std, 0, 1), color=colour, alpha=0.2,
                            linewidth=0)
        finish_roc_axes(ax, cell_title(run.datasets, dataset, panel), "false positive rate (wrong kept)", "true positive rate (correct kept)", 6.5)
    return fig


def figure_detection_roc(run: RunData) -> Figure | None:
    """One panel per attack and data set, one curve per model; ``None`` when the run has no attack."""
    attacks = run.attacks()
    if not attacks or "clean" not in run.panels:
        return None
    fig, _, cells = panel_grid(run.datasets, lambda _: attacks, width=3.6, height=3.6)
    for ax, dataset, attack in cells:
        for robust in (False, True):
            for k, model in enumerate(run.model_names(dataset, robust)):
                arrays = detection_arrays(run, model, attack)
                auc = safe(attack_detection_auroc, *arrays)
                if not np.isfinite(auc):
                    continue
                clean_conf, clean_correct, attack_conf, attack_correct = arrays
                scores = np.concatenate([clean_conf[clean_correct], attack_conf[~attack_correct]])
                positive = np.concatenate([np.ones(clean_correct.sum(), bool), np.zeros((~attack_correct).sum(), bool)])
                fpr, tpr, _ = roc_curve(scores, positive)
                ax.plot(fpr, tpr, color=group_color(robust), lw=1.4, linestyle=("-", "-.", ":")[k % 3],
                        label=f"{model} (AUC {auc:.3f})")
        finish_roc_axes(ax, cell_title(run.datasets, dataset, attack), "false positive rate (attacked-wrong kept)", "true positive rate (clean-correct kept)", 6)
    return fig
