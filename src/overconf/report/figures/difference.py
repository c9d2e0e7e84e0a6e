"""Robust minus normal: Δo(f), Δu(f) and ΔECE per pair with paired bootstrap confidence intervals.

For a robust model r and its normal twin n in a panel, the samples both were evaluated on (same
perturbation label and sample index) are joined, and ``Δ = metric(r) − metric(n)`` is bootstrapped by
resampling those joint samples (:func:`overconf.metrics.bootstrap_ci`, percentile interval). Negative Δo
and ΔECE mean the robust model is less over-confident / better calibrated. The peers report only point
values; the interval says whether the difference could be resampling noise.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from overconf.errors import MetricInputError
from overconf.metrics import bootstrap_ci, expected_calibration_error, overconfidence, underconfidence
from overconf.report.figures.common import new_figure, panel_title
from overconf.report.load import RunData

DIFFERENCE_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "overconfidence": overconfidence,
    "underconfidence": underconfidence,
    "ece": expected_calibration_error,
}
METRIC_LABELS = {"overconfidence": "Δ o(f)", "underconfidence": "Δ u(f)", "ece": "Δ ECE"}
BOOTSTRAP_MAX_SAMPLES = 2000
N_RESAMPLES = 500

CAPTION = ("Robust minus normal twin: Δo(f), Δu(f) and ΔECE per pair and panel with 95% paired percentile bootstrap "
           "intervals (joint resampling of the samples both models saw; at most "
           f"{BOOTSTRAP_MAX_SAMPLES} samples per cell, drawn with seed 0, enter the bootstrap; the point is the "
           "estimate on all samples; a point without bar: some resample had no wrong (or no correct) prediction, so the "
           "interval is undefined). Below zero: the robust model is less over-confident / better calibrated.")


def _joined(run: RunData, robust: str, normal: str, panel: str, dataset: str) -> pd.DataFrame:
    rec = run.records
    cols = ["perturbation", "index", "confidence", "correct"]
    r = rec.iloc[run._groups.get((dataset, panel, robust), np.empty(0, np.int64))][cols]
    n = rec.iloc[run._groups.get((dataset, panel, normal), np.empty(0, np.int64))][cols]
    return r.merge(n, on=["perturbation", "index"], suffixes=("_r", "_n"))


def _difference(metric: Callable[[np.ndarray, np.ndarray], float]) -> Callable[..., float]:
    def statistic(conf_r: np.ndarray, correct_r: np.ndarray, conf_n: np.ndarray, correct_n: np.ndarray) -> float:
        try:
            return float(metric(conf_r, correct_r.astype(bool)) - metric(conf_n, correct_n.astype(bool)))
        except MetricInputError:
            return float("nan")
    return statistic


def pair_differences(run: RunData, n_resamples: int = N_RESAMPLES, seed: int = 0) -> pd.DataFrame:
    """One row per (dataset, panel, pair, robust model, metric): estimate, low, high, n joined samples."""
    rows = []
    for dataset in run.datasets:
        for pair, robust, normal in run.twins(dataset):
            for panel in run.panels_of(dataset):
                joined = _joined(run, robust, normal, panel, dataset)
                arrays = [joined[c].to_numpy() for c in ("confidence_r", "correct_r", "confidence_n", "correct_n")]
                arrays[1], arrays[3] = arrays[1].astype(bool), arrays[3].astype(bool)
                boot = arrays
                if len(joined) > BOOTSTRAP_MAX_SAMPLES:
                    keep = np.sort(np.random.default_rng(seed).choice(len(joined), BOOTSTRAP_MAX_SAMPLES, replace=False))
                    boot = [a[keep] for a in arrays]
                for name, metric in DIFFERENCE_METRICS.items():
                    statistic = _difference(metric)
                    estimate = statistic(*arrays)
                    low = high = float("nan")
                    if len(joined) >= 2 and np.isfinite(estimate):
                        try:
                            result = bootstrap_ci(statistic, *boot, n_resamples=n_resamples, seed=seed)
                            low, high = float(result.low), float(result.high)
                        except MetricInputError:
                            pass
                    rows.append({"dataset": dataset, "panel": panel, "pair": pair, "robust_model": robust,
                                 "normal_model": normal, "metric": name, "estimate": estimate, "low": low,
                                 "high": high, "n": len(joined)})
    return pd.DataFrame(rows, columns=["dataset", "panel", "pair", "robust_model", "normal_model", "metric",
                                       "estimate", "low", "high", "n"])


def figure_differences(differences: pd.DataFrame) -> Figure | None:
    """Columns: Δo, Δu, ΔECE; rows: data sets; x: panels; one point with its interval per twin pair."""
    if differences.empty:
        return None
    datasets = list(dict.fromkeys(differences["dataset"]))
    fig, axes = new_figure(len(datasets), len(DIFFERENCE_METRICS), width=4.0, height=3.4)
    for i, dataset in enumerate(datasets):
        part = differences[differences["dataset"] == dataset]
        panels = list(dict.fromkeys(part["panel"]))
        twins = list(dict.fromkeys(zip(part["robust_model"], part["normal_model"])))
        for j, metric in enumerate(DIFFERENCE_METRICS):
            ax = axes[i, j]
            ax.axhline(0.0, color="0.4", lw=0.8)
            for k, (robust, normal) in enumerate(twins):
                sel = part[(part["metric"] == metric) & (part["robust_model"] == robust)].set_index("panel").reindex(panels)
                offset = (k - (len(twins) - 1) / 2) * 0.8 / max(len(twins), 1)
                x = np.arange(len(panels)) + offset
                est = sel["estimate"].to_numpy(dtype=float)
                err = np.vstack([est - sel["low"].to_numpy(dtype=float), sel["high"].to_numpy(dtype=float) - est])
                ax.errorbar(x, est, yerr=np.nan_to_num(np.abs(err)), fmt="D", ms=4, capsize=2.5, lw=1,
                            label=f"{robust} − {normal}")
            ax.set_xticks(range(len(panels)), [panel_title(p) for p in panels], rotation=30, ha="right", fontsize=7)
            ax.set_ylabel(METRIC_LABELS[metric] + " (robust − normal)", fontsize=8)
            ax.set_title(f"{dataset} · {METRIC_LABELS[metric]}" if len(datasets) > 1 else METRIC_LABELS[metric])
        axes[i, 0].legend(fontsize=6, loc="best")
    return fig
