"""Uncertainty of a metric (bootstrap confidence interval) and a paired test of robust vs normal models."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from overconf.errors import MetricInputError
from overconf.validate import check_name


@dataclass(frozen=True)
class BootstrapResult:
    """A point estimate (the statistic on all samples) and its bootstrap confidence interval [low, high]."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class PairedTestResult:
    """Wilcoxon signed-rank test of ``d_i = robust_i − normal_i``.

    ``statistic``: scipy's two-sided W = min(T⁺, T⁻); ``p_value``: two-sided; ``effect_size``: matched-pairs
    rank-biserial correlation ``r = (T⁺ − T⁻) / (T⁺ + T⁻)`` in [−1, 1] (> 0: robust tends to be larger);
    ``n``: pairs used (NaN pairs dropped); ``median_difference``: ``median(d)``.
    """

    statistic: float
    p_value: float
    effect_size: float
    n: int
    median_difference: float


def bootstrap_ci(
    statistic: Callable[..., float],
    *arrays: ArrayLike,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    seed: int = 0,
    method: str = "percentile",
) -> BootstrapResult:
    """Bootstrap confidence interval of ``statistic(*arrays)``, resampling samples (rows) with replacement.

    The arrays are resampled together (paired: the same indices for each), ``n_resamples`` times with a
    ``numpy.random.default_rng(seed)`` generator, via ``scipy.stats.bootstrap``; ``method`` is
    ``"percentile"`` (default) or ``"BCa"`` (bias-corrected and accelerated; calls ``statistic`` N more
    times for the jackknife). A statistic that is NaN on some resample (e.g. AUROC of an all-correct
    resample) makes the interval NaN: report it, or bootstrap a statistic defined everywhere.

    >>> from overconf.metrics import accuracy
    >>> r = bootstrap_ci(accuracy, np.arange(100) < 80, n_resamples=500)
    >>> r.estimate, 0.70 <= r.low < 0.8 < r.high <= 0.90  # binomial: sd = 0.04
    (0.8, True)
    """
    if not arrays:
        raise MetricInputError("bootstrap_ci needs at least one array to resample")
    data = [np.asarray(a) for a in arrays]
    n = len(data[0])
    if n == 0 or any(len(a) != n for a in data):
        raise MetricInputError(f"arrays must be non-empty and of equal length, got {[len(a) for a in data]}")
    method = check_name("method", method, ("percentile", "BCa"), error=MetricInputError)
    if not 0 < confidence_level < 1:
        raise MetricInputError(f"confidence_level must lie in (0, 1), got {confidence_level}")
    estimate = float(statistic(*data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)  # a constant statistic: low == high
        result = stats.bootstrap(
            data,
            lambda *sample: float(statistic(*sample)),
            n_resamples=n_resamples,
            confidence_level=confidence_level,
            method=method,
            paired=True,
            vectorized=False,
            rng=np.random.default_rng(seed),
        )
    return BootstrapResult(
        estimate, float(result.confidence_interval.low), float(result.confidence_interval.high)
    )


def paired_test(robust_values: ArrayLike, normal_values: ArrayLike) -> PairedTestResult:
    """Two-sided Wilcoxon signed-rank test of robust vs normal values across model pairs.

    ``d_i = robust_i − normal_i``; pairs where either value is NaN are dropped. Zero differences are dropped
    before ranking (``zero_method="wilcox"``); ``|d|`` is ranked with ties averaged; ``T⁺`` (``T⁻``) is the
    rank sum of positive (negative) differences; effect size ``r = (T⁺ − T⁻) / (T⁺ + T⁻)`` (Kerby 2014).
    p from ``scipy.stats.wilcoxon`` (exact for small n without ties, else the normal approximation).
    If every difference is zero: statistic 0, p 1, effect 0.

    >>> r = paired_test([0.2, 0.3, 0.25, 0.1, 0.15, 0.3], [0.6, 0.5, 0.7, 0.45, 0.4, 0.35])
    >>> r.effect_size, round(r.p_value, 4), r.n
    (-1.0, 0.0312, 6)
    """
    robust = np.asarray(robust_values, dtype=np.float64)
    normal = np.asarray(normal_values, dtype=np.float64)
    if robust.ndim != 1 or robust.shape != normal.shape:
        raise MetricInputError(
            f"need two 1-D arrays of equal length, got shapes {robust.shape} and {normal.shape}"
        )
    if np.isinf(robust).any() or np.isinf(normal).any():
        raise MetricInputError("paired_test got infinite values", hint="drop or fix those pairs")
    keep = ~(np.isnan(robust) | np.isnan(normal))
    difference = robust[keep] - normal[keep]
    if difference.size == 0:
        raise MetricInputError(
            "paired_test has no pair with both values defined", hint="pass one value per pair"
        )
    median = float(np.median(difference))
    nonzero = difference[difference != 0]
    if nonzero.size == 0:
        return PairedTestResult(0.0, 1.0, 0.0, int(difference.size), median)
    ranks = stats.rankdata(np.abs(nonzero))
    t_plus, t_minus = float(ranks[nonzero > 0].sum()), float(ranks[nonzero < 0].sum())
    result = stats.wilcoxon(difference, zero_method="wilcox", alternative="two-sided")
    effect = (t_plus - t_minus) / (t_plus + t_minus)
    return PairedTestResult(
        float(result.statistic), float(result.pvalue), effect, int(difference.size), median
    )
