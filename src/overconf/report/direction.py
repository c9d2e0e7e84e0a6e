"""Calibration direction per model: over- or under-confident overall, so "less over-confident" is never read
as "better calibrated".

On a model's clean records the signed gap ``mean confidence − accuracy = E[ẑ] − P(ŷ = y)`` equals
``o(f)·P(ŷ ≠ y) − u(f)·P(ŷ = y)`` (the paper's decomposition): positive = over-confident overall, negative =
under-confident. Its 95 % interval is a percentile bootstrap of the model's clean records
(:mod:`overconf.report.intervals`); the fitted temperature (T > 1 softens: over-confident; T < 1 sharpens:
under-confident) is shown beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from overconf.report.comparisons import Pair
from overconf.report.intervals import N_RESAMPLES, Linear, linear_sums, percentile_interval
from overconf.report.load import RunData

COLUMNS = ["dataset", "pair", "role", "model", "n", "mean_confidence", "accuracy", "estimate", "low", "high",
           "temperature", "direction"]


def _gap_linear(confidence: np.ndarray, correct: np.ndarray) -> Linear:
    columns = np.column_stack([confidence - correct.astype(np.float64), np.ones(confidence.size)])
    return Linear(columns, lambda sums: sums[:, 0] / np.maximum(sums[:, 1], 1.0))


def direction_of(low: float, high: float) -> str:
    """``over-confident`` when the whole interval is above 0, ``under-confident`` below, else ``undecided``."""
    if np.isfinite(low) and low > 0:
        return "over-confident"
    if np.isfinite(high) and high < 0:
        return "under-confident"
    return "undecided (interval reaches 0)"


def calibration_directions(run: RunData, pairs: list[Pair], summary: pd.DataFrame,
                           n_resamples: int = N_RESAMPLES, seed: int = 0) -> pd.DataFrame:
    """One row per pair member with clean records: its signed gap (``estimate``) with interval, T and direction."""
    clean = summary[summary["perturbation"] == "clean"].set_index("model")
    rows = []
    for pair in pairs:
        for role, model in (("robust", pair.robust), ("normal", pair.normal)):
            cell = run.cell(model, "clean") if model else pd.DataFrame()
            if cell.empty:
                continue
            conf, ok = cell["confidence"].to_numpy(np.float64), cell["correct"].to_numpy(bool)
            points, boots = linear_sums([_gap_linear(conf, ok)], conf.size, n_resamples, seed)
            finish = _gap_linear(conf[:0], ok[:0]).finish
            interval = percentile_interval(float(finish(points[0])[0]), finish(boots[0]), conf.size)
            t = float(clean.loc[model, "temperature"]) if "temperature" in clean.columns and model in clean.index else np.nan
            rows.append({"dataset": pair.dataset, "pair": pair.name, "role": role, "model": model, "n": conf.size,
                         "mean_confidence": float(conf.mean()), "accuracy": float(ok.mean()), "estimate": interval.estimate,
                         "low": interval.low, "high": interval.high, "temperature": t,
                         "direction": direction_of(interval.low, interval.high)})
    return pd.DataFrame(rows, columns=COLUMNS)
