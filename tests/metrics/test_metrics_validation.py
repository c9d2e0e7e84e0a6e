"""Bad input raises MetricInputError (a ValueError) that names what was wrong — for every metric."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from overconf.errors import MetricInputError
from overconf.metrics import (
    accuracy,
    attack_detection_auroc,
    aurc,
    brier_score,
    energy_score,
    expected_calibration_error,
    fpr_at_95_tpr,
    max_logit_score,
    mean_confidence_correct,
    misclassification_aupr,
    misclassification_auroc,
    msp_score,
    nll,
    ood_auroc,
    overconfidence,
    reliability_diagram,
    risk_coverage_curve,
    underconfidence,
)

CONFIDENCE_METRICS: list[Callable] = [
    expected_calibration_error,
    overconfidence,
    underconfidence,
    mean_confidence_correct,
    misclassification_auroc,
    misclassification_aupr,
    aurc,
    risk_coverage_curve,
    reliability_diagram,
    lambda c, k: attack_detection_auroc(c, k, [0.5], [False]),
    lambda c, k: attack_detection_auroc([0.5], [True], c, k),
]
GOOD_CONF, GOOD_OK = np.array([0.2, 0.9, 0.6]), np.array([False, True, True])

BAD_CONFIDENCE = [
    ([], [], "empty"),
    ([0.2, np.nan, 0.6], GOOD_OK, "NaN or infinite"),
    ([0.2, np.inf, 0.6], GOOD_OK, "NaN or infinite"),
    ([0.2, 1.2, 0.6], GOOD_OK, r"\[0, 1\]"),
    ([-0.1, 0.9, 0.6], GOOD_OK, r"\[0, 1\]"),
    (GOOD_CONF, [True, False], "lengths must match|2 values"),
    (GOOD_CONF, [0, 2, 1], "True/False"),
    (GOOD_CONF[:, None], GOOD_OK, "1-D"),
    (["a", "b", "c"], GOOD_OK, "numeric"),
]


@pytest.mark.parametrize("metric", CONFIDENCE_METRICS)
@pytest.mark.parametrize(("conf", "ok", "message"), BAD_CONFIDENCE)
def test_confidence_metrics_reject_bad_input(metric: Callable, conf, ok, message: str) -> None:
    with pytest.raises(MetricInputError, match=message) as error:
        metric(conf, ok)
    assert isinstance(error.value, ValueError)


# That 0/1 integers give the same values as booleans is checked for every metric taking ``correct`` in
# test_metrics_common.py::test_zero_one_integers_equal_booleans.


def test_accuracy_and_options_reject_bad_input() -> None:
    with pytest.raises(MetricInputError, match="empty"):
        accuracy([])
    with pytest.raises(MetricInputError, match="n_bins"):
        expected_calibration_error(GOOD_CONF, GOOD_OK, n_bins=0)
    with pytest.raises(MetricInputError, match="norm"):
        expected_calibration_error(GOOD_CONF, GOOD_OK, norm="l3")
    with pytest.raises(MetricInputError, match="binning"):
        expected_calibration_error(GOOD_CONF, GOOD_OK, binning="adaptive-ish")
    with pytest.raises(MetricInputError, match="positive"):
        misclassification_aupr(GOOD_CONF, GOOD_OK, positive="wrong")


PROBS = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])


@pytest.mark.parametrize("metric", [nll, brier_score])
@pytest.mark.parametrize(
    ("probs", "labels", "message"),
    [
        (PROBS, [0, 3], r"\[0, 2\]"),
        (PROBS, [-1, 0], r"\[0, 2\]"),
        (PROBS, [0], "lengths must match|1 values"),
        (PROBS, [0.5, 1.0], "integer"),
        (PROBS * 1.01, [0, 1], "sum to 1"),
        (PROBS - 0.2, [0, 1], r"\[0, 1\]"),
        (np.where(PROBS == 0.7, np.nan, PROBS), [0, 1], "NaN"),
        (PROBS[0], [0], "2-D"),
        (np.zeros((0, 3)), [], "2-D"),
    ],
)
def test_probability_metrics_reject_bad_input(metric: Callable, probs, labels, message: str) -> None:
    with pytest.raises(MetricInputError, match=message):
        metric(probs, labels)


def test_probability_sum_tolerance_accepts_float32_rounding() -> None:
    probs32 = (PROBS + np.array([[1e-7, 0, 0], [0, -5e-5, 0]])).astype(np.float32)
    assert np.isfinite(nll(probs32, [0, 2])) and np.isfinite(brier_score(probs32, [0, 2]))


@pytest.mark.parametrize("metric", [ood_auroc, fpr_at_95_tpr])
def test_ood_metrics_reject_bad_scores(metric: Callable) -> None:
    with pytest.raises(MetricInputError, match="in_scores is empty"):
        metric([], [0.3])
    with pytest.raises(MetricInputError, match="out_scores holds 1 NaN"):
        metric([0.3], [np.nan])
    assert metric([5.0, 7.0], [-3.0]) == metric([0.5, 0.7], [0.1])  # any real score is fine


@pytest.mark.parametrize("score", [msp_score, max_logit_score, energy_score])
def test_logit_scores_reject_bad_logits(score: Callable) -> None:
    with pytest.raises(MetricInputError, match="2-D"):
        score(np.ones(3))
    with pytest.raises(MetricInputError, match="NaN"):
        score(np.array([[1.0, np.inf]]))
