"""Post-hoc calibrators fitted on one held-out half of a model's clean records and scored on the other.

Every calibrator is fitted per model on its clean records of *odd* ``index`` and applied to those of *even*
``index`` (the split :func:`overconf.metrics.summary_table` uses for temperature scaling), so the question
"does the robust model's lower o(f) survive calibration?" is asked of three standard calibrators on the same
samples. None changes the predicted class, so ``correct`` stays; only the confidence ẑ is replaced:

- ``ts``: temperature scaling, ẑ = max softmax(z / T), T from the summary's ``temperature`` (needs logits);
- ``iso``: isotonic regression of correct on ẑ (scikit-learn's ``IsotonicRegression``, clipped to [0, 1],
  out-of-range inputs clipped to the fitted range);
- ``hist``: histogram binning (Zadrozny & Elkan 2001), :data:`HIST_BINS` equal-width bins of ẑ on [0, 1],
  ẑ ↦ the fraction correct among the fitting samples of its bin (an empty bin keeps ẑ). Written here: it is
  five lines of NumPy, and netcal (which has it) is not among the pinned dependencies.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from overconf.metrics import apply_temperature
from overconf.report.load import RunData

#: calibrator → the :func:`overconf.report.comparisons.pair_comparisons` metric of o(f) after it, and its name on the page
CALIBRATORS = {"ts": ("overconfidence_ts", "temperature scaling"), "iso": ("overconfidence_iso", "isotonic regression"),
               "hist": ("overconfidence_hist", "histogram binning")}
HIST_BINS = 15
COLUMNS = ["model", "index", "correct", *(f"confidence_{k}" for k in CALIBRATORS)]


def isotonic(confidence: np.ndarray, correct: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The isotonic map ẑ → P(correct | ẑ) fitted on ``(confidence, correct)``.

    >>> f = isotonic(np.array([0.2, 0.4, 0.6, 0.9]), np.array([False, False, True, True]))
    >>> f(np.array([0.3, 0.95])).tolist()
    [0.0, 1.0]
    """
    from sklearn.isotonic import IsotonicRegression  # lazy: start-up time (scikit-learn takes about 1 s)

    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(confidence, correct.astype(np.float64))
    return lambda z: np.asarray(model.predict(z), dtype=np.float64)


def histogram_binning(confidence: np.ndarray, correct: np.ndarray,
                      n_bins: int = HIST_BINS) -> Callable[[np.ndarray], np.ndarray]:
    """ẑ ↦ the fraction correct of the fitting samples in ẑ's equal-width bin (an empty bin keeps ẑ).

    >>> f = histogram_binning(np.array([0.91, 0.95, 0.97, 0.2]), np.array([True, False, True, False]), n_bins=10)
    >>> [round(v, 3) for v in f(np.array([0.93, 0.25, 0.55])).tolist()]
    [0.667, 0.0, 0.55]
    """
    bins = lambda z: np.minimum((np.asarray(z) * n_bins).astype(np.int64), n_bins - 1)
    counts = np.bincount(bins(confidence), minlength=n_bins)
    hits = np.bincount(bins(confidence), weights=correct.astype(np.float64), minlength=n_bins)
    rate = np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)
    return lambda z: np.where(counts[bins(z)] > 0, rate[bins(z)], z)


def calibrated_clean_records(run: RunData, summary: pd.DataFrame) -> pd.DataFrame:
    """Clean records of even ``index`` with the confidence after each calibrator (columns :data:`COLUMNS`;
    ``confidence_ts`` NaN without a fitted temperature); empty without clean records of both halves. Reads one
    model's clean record file at a time."""
    temperatures = (summary[summary["perturbation"] == "clean"].set_index("model")["temperature"]
                    if "temperature" in summary.columns else pd.Series(dtype=float))
    parts = []
    for model in (str(m) for m in run.models["model"]):
        group = run.read(model, "clean", ["index", "confidence", "correct", "logits"])
        if group is None:
            continue
        odd, even = group[group["index"] % 2 == 1], group[group["index"] % 2 == 0]
        if odd.empty or even.empty:
            continue
        fit_conf, fit_ok = odd["confidence"].to_numpy(np.float64), odd["correct"].to_numpy(bool)
        conf = even["confidence"].to_numpy(np.float64)
        scaled = np.full(conf.size, np.nan)
        t = float(temperatures.get(model, float("nan")))
        if np.isfinite(t):
            scaled = apply_temperature(np.stack(even["logits"].to_numpy()).astype(np.float64), t).max(axis=1)
        parts.append(pd.DataFrame({"model": model, "index": even["index"].to_numpy(),
                                   "correct": even["correct"].to_numpy(bool), "confidence_ts": scaled,
                                   "confidence_iso": isotonic(fit_conf, fit_ok)(conf),
                                   "confidence_hist": histogram_binning(fit_conf, fit_ok)(conf)}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
