"""The vectorised bootstrap: its statistics equal overconf.metrics at unit weights, and its intervals agree with
scipy's bootstrap (overconf.metrics.bootstrap_ci) on the same samples."""

from __future__ import annotations

import numpy as np
import pytest

from overconf import metrics
from overconf.report.intervals import (
    detection_auroc_stat,
    difference_intervals,
    ece_linear,
    ece_stat,
    linear_sums,
    misclassification_auroc_stat,
    overconfidence_linear,
    overconfidence_stat,
    resample_weights,
    resampled,
    underconfidence_linear,
    underconfidence_stat,
)

RNG = np.random.default_rng(3)
N = 700
CONF = np.round(RNG.uniform(0.1, 1.0, N), 2)  # rounded: many ties, as float32 softmax gives
CONF[:5] = 1.0
OK = RNG.random(N) < 0.7
CONF2 = np.round(RNG.uniform(0.1, 1.0, N), 2)
OK2 = RNG.random(N) < 0.3


@pytest.mark.parametrize(("stat", "reference"), [
    (overconfidence_stat(CONF, OK), metrics.overconfidence(CONF, OK)),
    (underconfidence_stat(CONF, OK), metrics.underconfidence(CONF, OK)),
    (ece_stat(CONF, OK), metrics.expected_calibration_error(CONF, OK)),
    (misclassification_auroc_stat(CONF, OK), metrics.misclassification_auroc(CONF, OK)),
    (detection_auroc_stat(CONF, OK, CONF2, OK2), metrics.attack_detection_auroc(CONF, OK, CONF2, OK2)),
])
def test_unit_weights_give_the_metric(stat, reference: float) -> None:
    assert stat(np.ones((1, N)))[0] == pytest.approx(reference, abs=1e-12)


def test_integer_weights_equal_the_metric_on_repeated_samples() -> None:
    w = next(resample_weights(N, 3, seed=1))
    for row in w:
        repeat = np.repeat(np.arange(N), row.astype(int))
        assert overconfidence_stat(CONF, OK)(row[None])[0] == pytest.approx(metrics.overconfidence(CONF[repeat], OK[repeat]))
        assert ece_stat(CONF, OK)(row[None])[0] == pytest.approx(metrics.expected_calibration_error(CONF[repeat], OK[repeat]))
        assert misclassification_auroc_stat(CONF, OK)(row[None])[0] == pytest.approx(
            metrics.misclassification_auroc(CONF[repeat], OK[repeat]))


def test_interval_is_the_percentiles_of_the_resamples_and_agrees_with_scipy_bootstrap() -> None:
    first, second = overconfidence_stat(CONF, OK), overconfidence_stat(CONF2, OK2)
    ours = difference_intervals({"o": (first, second)}, N, n_resamples=2000)["o"]
    replicates = resampled(lambda w: first(w) - second(w), N, 2000)
    assert [ours.low, ours.high] == np.percentile(replicates, [2.5, 97.5]).tolist() and ours.low <= ours.high
    scipy = metrics.bootstrap_ci(lambda a, b, c, d: metrics.overconfidence(a, b) - metrics.overconfidence(c, d),
                                 CONF, OK, CONF2, OK2, n_resamples=2000)
    assert ours.estimate == pytest.approx(scipy.estimate, abs=1e-12)
    assert ours.low == pytest.approx(scipy.low, abs=0.01) and ours.high == pytest.approx(scipy.high, abs=0.01)


def test_undefined_resamples_give_no_interval() -> None:
    ok = np.ones(50, bool)
    ok[0] = False  # one wrong prediction: many resamples have none
    result = difference_intervals({"o": (overconfidence_stat(CONF[:50], ok), None)}, 50, n_resamples=200)["o"]
    assert np.isfinite(result.estimate) and np.isnan(result.low) and not result.defined


def test_linear_metrics_equal_the_weighted_statistics_and_pool_exactly() -> None:
    linear = [overconfidence_linear(CONF, OK), underconfidence_linear(CONF, OK), ece_linear(CONF, OK)]
    weighted = [overconfidence_stat(CONF, OK), underconfidence_stat(CONF, OK), ece_stat(CONF, OK)]
    points, boots = linear_sums(linear, N, 50, seed=4)
    w = np.vstack(list(resample_weights(N, 50, seed=4)))
    for metric, stat, point, boot in zip(linear, weighted, points, boots):
        assert metric.finish(point)[0] == pytest.approx(stat(np.ones((1, N)))[0], abs=1e-12)
        np.testing.assert_allclose(metric.finish(boot), stat(w), atol=1e-12)
    # the sums of two halves pool to the sums of the whole
    half = N // 2
    parts = [ece_linear(CONF[:half], OK[:half]).point(), ece_linear(CONF[half:], OK[half:]).point()]
    assert ece_linear(CONF, OK).finish(parts[0] + parts[1])[0] == pytest.approx(metrics.expected_calibration_error(CONF, OK))
