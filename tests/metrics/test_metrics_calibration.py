"""Calibration metrics: closed-form cases, the bin-edge convention, degenerate inputs, invariants, and
cross-checks against netcal and torchmetrics (including where they differ from us, and why we are right)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import brier_score_loss, log_loss

from overconf.metrics import (
    accuracy,
    assign_bins,
    bin_edges,
    brier_score,
    expected_calibration_error,
    mean_confidence_correct,
    nll,
    overconfidence,
    reliability_diagram,
    underconfidence,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from netcal.metrics import ACE as NetcalACE
    from netcal.metrics import ECE as NetcalECE
    from netcal.metrics import MCE as NetcalMCE
from torchmetrics.functional.classification import binary_calibration_error, multiclass_calibration_error


def _calibration_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Confidences with a non-monotone miscalibration, so bins are over- AND under-confident."""
    rng = np.random.default_rng(seed)
    conf = rng.beta(5, 2, n)
    p_right = np.clip(conf + 0.25 * np.sin(12 * conf), 0, 1)
    return conf, rng.uniform(size=n) < p_right


def _softmax_data(n: int, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n)
    logits = rng.normal(size=(n, n_classes)) * 2.0
    logits[np.arange(n), labels] += 1.5
    probs = np.exp(logits - logits.max(1, keepdims=True))
    return probs / probs.sum(1, keepdims=True), labels


# --- closed-form cases --------------------------------------------------------------------------------


def test_conditional_means_closed_form() -> None:
    conf, ok = [0.9, 0.8, 0.6, 0.2], [True, False, True, False]
    assert accuracy(ok) == 0.5
    assert overconfidence(conf, ok) == pytest.approx(0.5)  # (0.8 + 0.2) / 2
    assert underconfidence(conf, ok) == pytest.approx(0.25)  # (0.1 + 0.4) / 2
    assert mean_confidence_correct(conf, ok) == pytest.approx(0.75)


def test_ece_closed_form_all_norms() -> None:
    # bin 13 = (13/15, 14/15]: conf 0.9, acc 0.5, gap 0.4;  bin 9 = (9/15, 10/15]: conf 0.65, acc 1, gap 0.35
    conf, ok = [0.9, 0.9, 0.65, 0.65], [True, False, True, True]
    assert expected_calibration_error(conf, ok) == pytest.approx(0.5 * 0.4 + 0.5 * 0.35)
    assert expected_calibration_error(conf, ok, norm="l2") == pytest.approx(
        np.sqrt(0.5 * 0.16 + 0.5 * 0.1225)
    )
    assert expected_calibration_error(conf, ok, norm="max") == pytest.approx(0.4)
    # one bin: ECE = |accuracy − mean confidence|
    assert expected_calibration_error(conf, ok, n_bins=1) == pytest.approx(abs(0.75 - 0.775))


def test_perfectly_calibrated_bins_have_zero_ece() -> None:
    conf = np.repeat([0.3, 0.8], 10)
    ok = np.array([True] * 3 + [False] * 7 + [True] * 8 + [False] * 2)
    for norm in ("l1", "l2", "max"):
        assert expected_calibration_error(conf, ok, norm=norm) == pytest.approx(0.0, abs=1e-12)


def test_nll_and_brier_closed_form() -> None:
    probs, labels = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]), np.array([0, 0, 1])
    assert nll(probs, labels) == pytest.approx(-(np.log(0.5) + np.log(0.9) + np.log(0.8)) / 3)
    assert brier_score(probs, labels) == pytest.approx((0.5 + 0.02 + 0.08) / 3)
    # a zero probability on the true class costs −log(eps), not infinity
    assert nll([[1.0, 0.0]], [1]) == pytest.approx(-np.log(np.finfo(np.float64).eps))
    assert brier_score([[1.0, 0.0]], [1]) == 2.0 and brier_score([[0.0, 1.0]], [1]) == 0.0


# --- the bin-edge convention --------------------------------------------------------------------------


@pytest.mark.parametrize("n_bins", [1, 2, 3, 10, 15, 20, 100])
def test_width_bins_are_right_closed_with_zero_in_the_first_bin(n_bins: int) -> None:
    edges = bin_edges(n_bins)
    assert edges[0] == 0.0 and edges[-1] == 1.0 and np.all(np.diff(edges) > 0)
    ones = np.ones(n_bins + 1, dtype=bool)
    # an exact edge i/B belongs to bin i − 1 (upper edge inclusive); 0 → bin 0; 1.0 → the last bin
    assert assign_bins(edges, ones, n_bins).tolist() == [0, *range(n_bins)]
    above = np.nextafter(edges[:-1], 1.0)  # just above each lower edge: bin i
    assert assign_bins(above, ones[:-1], n_bins).tolist() == list(range(n_bins))


def test_confidence_one_falls_in_the_last_bin_not_a_hidden_extra_one() -> None:
    # torchmetrics bucketizes 1.0 into an extra (B+1)-th bin (PAPER.md pitfall); both samples belong to bin 14
    conf, ok = np.array([1.0, 0.94]), np.array([False, True])
    ours = expected_calibration_error(conf, ok)
    assert ours == pytest.approx(abs(0.5 - 0.97))
    theirs = float(binary_calibration_error(torch.tensor(conf), torch.tensor(ok.astype(int)), n_bins=15))
    assert theirs == pytest.approx(0.5 * 1.0 + 0.5 * 0.06)  # 1.0 alone in its own bin: 0.53, not 0.47
    assert reliability_diagram(conf, ok).counts[-1] == 2


def test_mass_bins_split_sizes_and_ties() -> None:
    # 7 samples in 3 bins: sizes 3, 2, 2 (np.array_split); ties straddle bins, wrong before right
    conf = np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.9, 0.1])
    ok = np.array([True, False, True, False, True, True, True])
    bins = assign_bins(conf, ok, n_bins=3, binning="mass")
    assert np.bincount(bins).tolist() == [3, 2, 2]
    assert bins[6] == 0 and bins[5] == 2
    assert sorted(ok[bins == 0].tolist()) == [False, False, True]  # 0.1 then the two wrong 0.5s
    # fewer samples than bins: the last bins are empty and skipped
    few = assign_bins([0.2, 0.7], [True, False], n_bins=5, binning="mass")
    assert np.bincount(few, minlength=5).tolist() == [1, 1, 0, 0, 0]


# --- degenerate inputs --------------------------------------------------------------------------------


def test_no_wrong_or_no_right_prediction_gives_nan_conditional_means() -> None:
    conf = np.array([0.7, 0.9])
    assert np.isnan(overconfidence(conf, [True, True])) and np.isnan(overconfidence(conf, [1, 1]))
    assert np.isnan(underconfidence(conf, [False, False])) and np.isnan(mean_confidence_correct(conf, [0, 0]))
    assert overconfidence(conf, [False, False]) == pytest.approx(0.8)
    assert underconfidence(conf, [True, True]) == pytest.approx(0.2)


def test_extreme_and_single_sample_inputs() -> None:
    assert expected_calibration_error([1.0, 1.0], [True, True]) == 0.0
    assert expected_calibration_error([0.0, 0.0], [False, False]) == 0.0
    assert expected_calibration_error([1.0], [False]) == 1.0
    assert expected_calibration_error([0.0], [True], norm="max") == 1.0
    for binning in ("width", "mass"):
        assert expected_calibration_error([0.3], [True], binning=binning) == pytest.approx(0.7)
    d = reliability_diagram([0.3], [True], n_bins=4)
    assert d.counts.tolist() == [0, 1, 0, 0] and np.isnan(d.accuracy[0]) and d.accuracy[1] == 1.0


# --- cross-checks against reference implementations ---------------------------------------------------


@pytest.mark.parametrize("n_bins", [5, 15, 30])
def test_ece_and_mce_match_netcal(n_bins: int) -> None:
    conf, ok = _calibration_data(6000, seed=n_bins)
    y = ok.astype(np.int64)
    assert expected_calibration_error(conf, ok, n_bins) == pytest.approx(
        NetcalECE(bins=n_bins, detection=True).measure(conf, y), abs=1e-12
    )
    assert expected_calibration_error(conf, ok, n_bins, norm="max") == pytest.approx(
        NetcalMCE(bins=n_bins, detection=True).measure(conf, y), abs=1e-12
    )
    # equal-mass: netcal cuts at np.quantile; with N a multiple of B both give the same blocks
    assert expected_calibration_error(conf, ok, n_bins, binning="mass") == pytest.approx(
        NetcalECE(bins=n_bins, detection=True, equal_intervals=False).measure(conf, y), abs=1e-12
    )


def test_multiclass_ece_matches_netcal() -> None:
    probs, labels = _softmax_data(3000, 10, seed=1)
    ours = expected_calibration_error(probs.max(1), probs.argmax(1) == labels)
    assert ours == pytest.approx(NetcalECE(bins=15).measure(probs, labels), abs=1e-12)


def test_netcal_treats_two_distinct_labels_as_binary_we_do_not() -> None:
    # 3-class probabilities, but this subset only contains labels 0 and 2: netcal switches to its binary
    # mode (≤ 2 distinct labels) and fails; top-label ECE is still well defined
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1], [0.2, 0.7, 0.1]])
    labels = np.array([0, 2, 2, 0])
    with pytest.raises(RuntimeError, match="binary"):
        NetcalECE(bins=15).measure(probs, labels)
    conf, ok = probs.max(1), probs.argmax(1) == labels  # right, right, wrong, wrong
    # bins: 0.7 → (0.6667, 0.7333]; 0.6 → (0.5333, 0.6]; 0.5 → (0.4667, 0.5]; 0.7 again
    expected = (abs(0.5 - 0.7) * 2 + abs(1 - 0.6) + abs(0 - 0.5)) / 4
    assert expected_calibration_error(conf, ok) == pytest.approx(expected)


def test_netcal_binary_mode_scores_the_positive_class_not_the_top_label() -> None:
    # two-column probabilities: netcal calibrates p(class 1), a different quantity from top-label ECE
    probs, labels = np.array([[0.75, 0.25], [0.25, 0.75]]), np.array([1, 1])
    conf, ok = probs.max(1), probs.argmax(1) == labels  # both 0.75; wrong, right → one bin, gap 0.25
    assert expected_calibration_error(conf, ok) == pytest.approx(0.25)
    # netcal bins p1 = 0.25 (y = 1) and p1 = 0.75 (y = 1) apart: (0.75 + 0.25) / 2
    assert NetcalECE(bins=15).measure(probs, labels) == pytest.approx(0.5)


def test_netcal_ace_is_the_unweighted_average_not_equal_mass_ece() -> None:
    conf, ok = _calibration_data(3000, seed=7)
    ace = NetcalACE(bins=15, detection=True).measure(conf, ok.astype(np.int64))
    d = reliability_diagram(conf, ok)
    filled = d.counts > 0
    assert ace == pytest.approx(np.abs(d.accuracy[filled] - d.mean_confidence[filled]).mean(), abs=1e-12)
    assert ace != pytest.approx(expected_calibration_error(conf, ok, binning="mass"), abs=1e-3)


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_ece_matches_torchmetrics_without_exact_ones(norm: str) -> None:
    probs, labels = _softmax_data(4000, 10, seed=2)
    assert probs.max() < 1.0
    ours = expected_calibration_error(probs.max(1), probs.argmax(1) == labels, norm=norm)
    theirs = multiclass_calibration_error(torch.tensor(probs), torch.tensor(labels), 10, n_bins=15, norm=norm)
    assert ours == pytest.approx(float(theirs), abs=1e-6)  # torchmetrics computes in float32


def test_nll_and_brier_match_scikit_learn() -> None:
    probs, labels = _softmax_data(2000, 5, seed=3)
    assert nll(probs, labels) == pytest.approx(log_loss(labels, probs, labels=range(5)), rel=1e-12)
    assert brier_score(probs, labels) == pytest.approx(
        brier_score_loss(labels, probs, labels=range(5), scale_by_half=False), rel=1e-12
    )


# --- invariants (hypothesis) --------------------------------------------------------------------------

confidences = st.integers(1, 300).flatmap(
    lambda n: st.tuples(
        arrays(np.float64, n, elements=st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(0, 1))),
        arrays(np.bool_, n),
    )
)


@settings(max_examples=60, deadline=None)
@given(confidences, st.integers(1, 40), st.sampled_from(["width", "mass"]))
def test_paper_bound_and_norm_ordering(
    data: tuple[np.ndarray, np.ndarray], n_bins: int, binning: str
) -> None:
    conf, ok = data
    o, u = overconfidence(conf, ok), underconfidence(conf, ok)
    gap = abs((0.0 if np.isnan(o) else o) * (1 - ok.mean()) - (0.0 if np.isnan(u) else u) * ok.mean())
    l1, l2, mx = (expected_calibration_error(conf, ok, n_bins, norm, binning) for norm in ("l1", "l2", "max"))
    assert gap <= l1 + 1e-12  # |o·P(wrong) − u·P(right)| = |mean(ẑ) − acc| ≤ ECE_1 (PAPER.md)
    assert 0.0 <= l1 <= l2 + 1e-12 <= mx + 2e-12 <= 1.0 + 2e-12


@settings(max_examples=40, deadline=None)
@given(confidences, st.integers(1, 20), st.sampled_from(["width", "mass"]), st.randoms(use_true_random=False))
def test_permutation_invariance(data: tuple[np.ndarray, np.ndarray], n_bins: int, binning: str, rnd) -> None:
    conf, ok = data
    order = np.array(rnd.sample(range(conf.size), conf.size))
    for norm in ("l1", "l2", "max"):
        a = expected_calibration_error(conf, ok, n_bins, norm, binning)
        assert a == pytest.approx(
            expected_calibration_error(conf[order], ok[order], n_bins, norm, binning), abs=1e-12
        )
    d, e = (
        reliability_diagram(conf, ok, n_bins, binning),
        reliability_diagram(conf[order], ok[order], n_bins, binning),
    )
    assert np.array_equal(d.counts, e.counts)


@settings(max_examples=40, deadline=None)
@given(confidences, st.integers(1, 20), st.sampled_from(["width", "mass"]))
def test_reliability_diagram_is_consistent_with_ece(data, n_bins: int, binning: str) -> None:
    conf, ok = data
    d = reliability_diagram(conf, ok, n_bins, binning)
    filled = d.counts > 0
    assert d.counts.sum() == conf.size
    assert np.dot(d.counts[filled], d.accuracy[filled]) / conf.size == pytest.approx(ok.mean())
    assert np.dot(d.counts[filled], d.mean_confidence[filled]) / conf.size == pytest.approx(conf.mean())
    gap = np.abs(d.accuracy[filled] - d.mean_confidence[filled])
    ece = expected_calibration_error(conf, ok, n_bins, binning=binning)
    assert np.dot(d.counts[filled], gap) / conf.size == pytest.approx(ece, abs=1e-12)
    if binning == "width":  # every sample's confidence lies inside its bin
        assert np.all(
            (d.mean_confidence[filled] >= d.edges[:-1][filled])
            & (d.mean_confidence[filled] <= d.edges[1:][filled])
        )
