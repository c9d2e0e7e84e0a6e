"""Bootstrap intervals and the paired Wilcoxon test (effect size = matched-pairs rank-biserial r)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from overconf.errors import MetricInputError
from overconf.metrics import (
    accuracy,
    bootstrap_ci,
    expected_calibration_error,
    misclassification_auroc,
    paired_test,
)


def test_bootstrap_is_seeded() -> None:
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.3, 1.0, 400)
    ok = rng.uniform(size=400) < conf
    first = bootstrap_ci(expected_calibration_error, conf, ok, n_resamples=300, seed=1)
    assert first == bootstrap_ci(expected_calibration_error, conf, ok, n_resamples=300, seed=1)
    assert first != bootstrap_ci(expected_calibration_error, conf, ok, n_resamples=300, seed=2)
    assert first.estimate == expected_calibration_error(conf, ok)
    assert first.low < first.high
    bca = bootstrap_ci(misclassification_auroc, conf, ok, n_resamples=300, method="BCa")
    assert bca.estimate == misclassification_auroc(conf, ok) and bca.low < bca.high


@pytest.mark.parametrize("method", ["percentile", "BCa"])
def test_bootstrap_of_a_mean_matches_the_normal_interval(method: str) -> None:
    ok = np.arange(2000) % 4 != 0  # accuracy 0.75, sd of the mean = sqrt(0.75 · 0.25 / 2000) ≈ 0.0097
    result = bootstrap_ci(accuracy, ok, n_resamples=2000, method=method)
    half_width = 1.96 * np.sqrt(0.75 * 0.25 / 2000)
    assert result.low == pytest.approx(0.75 - half_width, abs=0.004)
    assert result.high == pytest.approx(0.75 + half_width, abs=0.004)


def test_bootstrap_rejects_bad_input() -> None:
    with pytest.raises(MetricInputError):
        bootstrap_ci(accuracy)
    with pytest.raises(MetricInputError, match="equal length"):
        bootstrap_ci(expected_calibration_error, np.ones(3) * 0.5, np.ones(4, bool))
    with pytest.raises(MetricInputError, match="method"):
        bootstrap_ci(accuracy, np.ones(3, bool), method="basic-ish")


def test_paired_test_matches_scipy_and_rank_biserial_closed_form() -> None:
    robust = np.array([0.20, 0.31, 0.25, 0.10, 0.50, 0.30, 0.41])
    normal = np.array([0.60, 0.50, 0.70, 0.45, 0.40, 0.35, 0.41])  # last pair tied → dropped from ranks
    result = paired_test(robust, normal)
    reference = stats.wilcoxon(robust - normal)
    assert result.statistic == reference.statistic and result.p_value == pytest.approx(reference.pvalue)
    # |d| = .40 .19 .45 .35 .10 .05 → ranks 5 3 6 4 2 1; the +0.10 difference has rank 2: T+ = 2, T− = 19
    assert result.effect_size == pytest.approx((2 - 19) / 21)
    assert result.n == 7 and result.median_difference == pytest.approx(-0.19)


def test_paired_test_extremes_and_nan_pairs() -> None:
    robust, normal = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), np.array([0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    lower = paired_test(robust, normal)
    assert lower.effect_size == -1.0 and lower.p_value == pytest.approx(
        2 / 2**6
    )  # exact: 2 of 64 sign patterns
    assert paired_test(normal, robust).effect_size == 1.0
    same = paired_test(robust, robust)
    assert (same.statistic, same.p_value, same.effect_size, same.n) == (0.0, 1.0, 0.0, 6)
    with_nan = paired_test(np.r_[robust, np.nan], np.r_[normal, 0.3])
    assert with_nan.n == 6 and with_nan.p_value == lower.p_value
    with pytest.raises(MetricInputError, match="equal length"):
        paired_test([0.1, 0.2], [0.3])
    with pytest.raises(MetricInputError, match="no pair"):
        paired_test([np.nan], [0.3])
    with pytest.raises(MetricInputError, match="infinite"):
        paired_test([np.inf], [0.3])
