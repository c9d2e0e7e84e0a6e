"""Calibration metrics of top-label confidence: accuracy, ECE (equal-width / equal-mass bins, L1 / L2 / max),
over- and under-confidence, mean confidence on right and wrong predictions, NLL, Brier score, and the
reliability-diagram data.

Notation: ``ẑ`` is the confidence (maximum softmax probability) of a prediction, ``c = 1{ŷ = y}`` its
correctness, ``N`` the number of samples, ``B`` the number of bins, ``n_b`` the samples in bin ``b``.

Degenerate cases (documented and tested): a conditional mean over an empty set — o(f) with no wrong
prediction, u(f) with no right one — is NaN (undefined, not 0: "no wrong prediction" is not "confidence 0
on wrong predictions"); aggregate with ``np.nanmean`` or report the count. Empty bins are skipped by ECE
and reported as NaN by :func:`reliability_diagram`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from overconf.errors import MetricInputError
from overconf.metrics._validation import (
    check_confidence,
    check_confidence_correct,
    check_correct,
    check_labels,
    check_n_bins,
    check_probabilities,
)
from overconf.validate import check_name

NORMS = ("l1", "l2", "max")
BINNINGS = ("width", "mass")


def accuracy(correct: ArrayLike) -> float:
    """Fraction of correct predictions, ``mean(c)``.

    >>> accuracy([True, False, True, True])
    0.75
    """
    return float(check_correct(correct).mean())


def mean_confidence(confidence: ArrayLike) -> float:
    """Mean confidence ``mean(ẑ)`` (e.g. on an out-of-distribution set, where no prediction is right).

    >>> mean_confidence([0.5, 1.0])
    0.75
    """
    return float(check_confidence(confidence).mean())


def mean_confidence_correct(confidence: ArrayLike, correct: ArrayLike) -> float:
    """Mean confidence on correct predictions, ``E[ẑ | ŷ = y]``; NaN if no prediction is correct.

    >>> mean_confidence_correct([0.9, 0.7, 0.6], [True, True, False])
    0.8
    """
    conf, ok = check_confidence_correct(confidence, correct)
    return float(conf[ok].mean()) if ok.any() else float("nan")


def overconfidence(confidence: ArrayLike, correct: ArrayLike) -> float:
    """Over-confidence ``o(f) = E[ẑ | ŷ ≠ y]``, the mean confidence on wrong predictions (lower is better);
    NaN if no prediction is wrong.

    >>> overconfidence([0.9, 0.8, 0.6, 0.2], [True, False, True, False])
    0.5
    """
    conf, ok = check_confidence_correct(confidence, correct)
    return float(conf[~ok].mean()) if not ok.all() else float("nan")


def underconfidence(confidence: ArrayLike, correct: ArrayLike) -> float:
    """Under-confidence ``u(f) = E[1 − ẑ | ŷ = y]`` (lower is better); NaN if no prediction is right.

    >>> round(underconfidence([0.9, 0.8, 0.6, 0.2], [True, False, True, False]), 10)
    0.25
    """
    conf, ok = check_confidence_correct(confidence, correct)
    return float(1.0 - conf[ok].mean()) if ok.any() else float("nan")


def bin_edges(n_bins: int) -> np.ndarray:
    """Equal-width bin edges ``i / B`` for ``i = 0 … B`` (each the correctly rounded float of ``i / B``).

    >>> bin_edges(4).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    n_bins = check_n_bins(n_bins)
    return np.arange(n_bins + 1, dtype=np.float64) / n_bins


def _width_bins(conf: np.ndarray, n_bins: int) -> np.ndarray:
    # searchsorted(side="left") returns i with edges[i-1] < conf <= edges[i]: right-closed bins; 0 → bin 0
    index = np.searchsorted(bin_edges(n_bins), conf, side="left") - 1
    return np.maximum(index, 0)


def _mass_bins(conf: np.ndarray, ok: np.ndarray, n_bins: int) -> np.ndarray:
    # sort by (confidence, correct): wrong before right among equal confidences, so ties that straddle a
    # bin boundary are split the same way whatever the input order (the result is permutation invariant)
    order = np.lexsort((ok, conf))
    n = conf.size
    sizes = np.full(n_bins, n // n_bins, dtype=np.int64)
    sizes[: n % n_bins] += 1
    bins = np.empty(n, dtype=np.int64)
    bins[order] = np.repeat(np.arange(n_bins), sizes)
    return bins


def assign_bins(
    confidence: ArrayLike, correct: ArrayLike, n_bins: int = 15, binning: str = "width"
) -> np.ndarray:
    """Bin index in ``[0, B)`` of every sample.

    ``binning="width"``: equal-width bins, bin ``i`` holds ``i/B < ẑ ≤ (i+1)/B`` (right-closed); a confidence
    of exactly 0 goes to the first bin (bin 0 is ``[0, 1/B]``) and exactly 1 to the last bin.

    ``binning="mass"`` ("adaptive" / equal-mass): samples sorted by ``(ẑ, c)`` ascending are cut into ``B``
    contiguous blocks whose sizes differ by at most one, the first ``N mod B`` blocks holding one more
    (``np.array_split``). Equal confidences may be split across two neighbouring bins; among them wrong
    predictions come first, which makes the result independent of the input order. With ``N < B`` the
    last ``B − N`` bins are empty.

    >>> assign_bins([0.0, 0.1, 0.25, 0.26, 1.0], [1, 1, 1, 1, 1], n_bins=4).tolist()
    [0, 0, 0, 1, 3]
    >>> assign_bins([0.9, 0.1, 0.5, 0.5, 0.3], [1, 1, 1, 0, 1], n_bins=2, binning="mass").tolist()
    [1, 0, 1, 0, 0]
    """
    conf, ok = check_confidence_correct(confidence, correct)
    n_bins = check_n_bins(n_bins)
    if check_name("binning", binning, BINNINGS, error=MetricInputError) == "width":
        return _width_bins(conf, n_bins)
    return _mass_bins(conf, ok, n_bins)


def _bin_sums(conf: np.ndarray, ok: np.ndarray, n_bins: int, binning: str) -> tuple[np.ndarray, ...]:
    bins = _width_bins(conf, n_bins) if binning == "width" else _mass_bins(conf, ok, n_bins)
    counts = np.bincount(bins, minlength=n_bins)
    conf_sum = np.bincount(bins, weights=conf, minlength=n_bins)
    ok_sum = np.bincount(bins, weights=ok.astype(np.float64), minlength=n_bins)
    return bins, counts, conf_sum, ok_sum


def expected_calibration_error(
    confidence: ArrayLike,
    correct: ArrayLike,
    n_bins: int = 15,
    norm: str = "l1",
    binning: str = "width",
) -> float:
    """Binned expected calibration error of top-label confidence (Naeini et al. 2015).

    With ``acc_b`` and ``conf_b`` the mean correctness and mean confidence of the samples in bin ``b``
    (bins as in :func:`assign_bins`; empty bins are skipped):

    - ``norm="l1"``  (ECE): ``Σ_b (n_b / N) · |acc_b − conf_b|``
    - ``norm="l2"``: ``sqrt(Σ_b (n_b / N) · (acc_b − conf_b)²)``
    - ``norm="max"`` (MCE): ``max_b |acc_b − conf_b|``

    Result in [0, 1]; 15 equal-width bins by default.

    >>> conf, ok = [0.9, 0.9, 0.65, 0.65], [True, False, True, True]
    >>> round(expected_calibration_error(conf, ok), 10)  # bins (13/15, 14/15] and (9/15, 10/15]
    0.375
    >>> round(expected_calibration_error(conf, ok, norm="max"), 10)
    0.4
    """
    conf, ok = check_confidence_correct(confidence, correct)
    n_bins = check_n_bins(n_bins)
    check_name("norm", norm, NORMS, error=MetricInputError)
    _, counts, conf_sum, ok_sum = _bin_sums(conf, ok, n_bins, check_name("binning", binning, BINNINGS, error=MetricInputError))
    filled = counts > 0
    counts, gap = counts[filled], np.abs(ok_sum[filled] - conf_sum[filled]) / counts[filled]
    if norm == "l1":
        return float(np.dot(counts, gap) / conf.size)
    if norm == "l2":
        return float(np.sqrt(np.dot(counts, gap * gap) / conf.size))
    return float(gap.max())


@dataclass(frozen=True)
class ReliabilityDiagram:
    """Per-bin data of a reliability diagram (``B`` bins).

    ``counts`` (int64, B) samples per bin; ``mean_confidence`` and ``accuracy`` (float64, B) the bin means,
    NaN for an empty bin; ``edges`` (float64, B + 1) the bin edges: ``i / B`` for equal-width bins, and
    for equal-mass bins 0, the largest confidence in each of the first B − 1 bins (NaN if empty), then 1.
    """

    counts: np.ndarray
    mean_confidence: np.ndarray
    accuracy: np.ndarray
    edges: np.ndarray


def reliability_diagram(
    confidence: ArrayLike, correct: ArrayLike, n_bins: int = 15, binning: str = "width"
) -> ReliabilityDiagram:
    """Per-bin count, mean confidence ``conf_b`` and accuracy ``acc_b`` (bins as in :func:`assign_bins`).

    >>> d = reliability_diagram([0.1, 0.3, 0.8, 0.9], [False, True, True, False], n_bins=2)
    >>> d.counts.tolist(), d.mean_confidence.round(2).tolist(), d.accuracy.tolist(), d.edges.tolist()
    ([2, 2], [0.2, 0.85], [0.5, 0.5], [0.0, 0.5, 1.0])
    """
    conf, ok = check_confidence_correct(confidence, correct)
    n_bins = check_n_bins(n_bins)
    binning = check_name("binning", binning, BINNINGS, error=MetricInputError)
    bins, counts, conf_sum, ok_sum = _bin_sums(conf, ok, n_bins, binning)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf, acc = conf_sum / counts, ok_sum / counts
    if binning == "width":
        edges = bin_edges(n_bins)
    else:
        top = np.full(n_bins, -np.inf)
        np.maximum.at(top, bins, conf)
        upper = np.where(counts > 0, top, np.nan)
        edges = np.concatenate([[0.0], upper[:-1], [1.0]])
    return ReliabilityDiagram(counts.astype(np.int64), mean_conf, acc, edges)


def nll(probs: ArrayLike, labels: ArrayLike) -> float:
    """Mean negative log-likelihood of the true class, ``−(1/N) Σ_i log max(p_i,y_i, ε)`` in nats.

    ``ε`` is the float64 machine epsilon (as scikit-learn's ``log_loss``), so a zero probability on the
    true class costs ``−log ε ≈ 36.04`` instead of infinity. Rows of ``probs`` must sum to 1 (±1e-4).

    >>> round(nll([[0.5, 0.5], [0.9, 0.1]], [0, 0]), 6)  # (−log 0.5 − log 0.9) / 2
    0.399254
    """
    p = check_probabilities(probs)
    y = check_labels(labels, p.shape[0], p.shape[1])
    picked = np.maximum(p[np.arange(y.size), y], np.finfo(np.float64).eps)
    return float(-np.log(picked).mean())


def brier_score(probs: ArrayLike, labels: ArrayLike) -> float:
    """Multi-class Brier score ``(1/N) Σ_i Σ_k (p_ik − 1{k = y_i})²`` (Brier 1950), in [0, 2].

    For two classes this is twice scikit-learn's binary ``brier_score_loss`` (which scores only the
    positive class); it equals ``brier_score_loss(..., scale_by_half=False)``.

    >>> round(brier_score([[0.5, 0.5], [0.9, 0.1]], [0, 1]), 6)  # ((0.25 + 0.25) + (0.81 + 0.81)) / 2
    1.06
    """
    p = check_probabilities(probs)
    y = check_labels(labels, p.shape[0], p.shape[1])
    per_sample = np.einsum("ij,ij->i", p, p) - 2.0 * p[np.arange(y.size), y] + 1.0
    return float(per_sample.mean())
