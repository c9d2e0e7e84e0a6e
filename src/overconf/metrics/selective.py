"""Confidence as a score that separates right from wrong predictions: ROC, AUROC, AUPR, risk–coverage, AURC.

All curves are computed at every distinct score (ties are one threshold, so every result is independent
of the input order) with one ``np.argsort``; no Python loop over samples.

Degenerate rule: a curve against a class that is absent (no positive or no negative sample) is undefined;
:func:`roc_curve` then returns NaN for that rate and the AUROC / AUPR functions return NaN (no exception),
because a robust model on a small subset may well be right on every sample.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from overconf.errors import MetricInputError
from overconf.metrics._validation import check_confidence_correct, check_correct, check_scores
from overconf.validate import check_name


def _ranked_counts(scores: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True- and false-positive counts at each distinct threshold, scores descending (sklearn's layout)."""
    order = np.argsort(scores)[::-1]  # the order within ties does not matter: only run ends are used
    ranked = scores[order]
    tps = np.cumsum(positive[order], dtype=np.int64)
    # last index of each run of equal scores: the count after accepting every sample ≥ that score
    ends = np.append(np.flatnonzero(ranked[1:] != ranked[:-1]), ranked.size - 1)
    tps = tps[ends]
    fps = (ends + 1) - tps
    return tps, fps, ranked[ends]


def roc_curve(scores: ArrayLike, positive: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve of ``scores`` (higher = more likely positive) against the boolean ``positive``.

    Returns ``(fpr, tpr, thresholds)``: at threshold ``t`` a sample is called positive when
    ``score ≥ t``, ``tpr = TP / P`` and ``fpr = FP / N``. Thresholds are every distinct score, descending,
    preceded by ``+inf`` (the point (0, 0)), as scikit-learn's ``roc_curve(drop_intermediate=False)``.
    A rate whose class is absent is NaN.

    >>> fpr, tpr, thr = roc_curve([0.9, 0.8, 0.8, 0.1], [True, True, False, False])
    >>> fpr.tolist(), tpr.tolist(), thr.tolist()
    ([0.0, 0.0, 0.5, 1.0], [0.0, 0.5, 1.0, 1.0], [inf, 0.9, 0.8, 0.1])
    """
    s = check_scores(scores)
    pos = check_correct(positive, s.size, name="positive")
    tps, fps, thresholds = _ranked_counts(s, pos)
    n_pos, n_neg = int(pos.sum()), int(pos.size - pos.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = np.concatenate([[0], tps]) / (n_pos if n_pos else np.nan)
        fpr = np.concatenate([[0], fps]) / (n_neg if n_neg else np.nan)
    return fpr, tpr, np.concatenate([[np.inf], thresholds])


def _auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    n_pos = int(positive.sum())
    if n_pos == 0 or n_pos == positive.size:
        return float("nan")
    tps, fps, _ = _ranked_counts(scores, positive)
    tpr = np.concatenate([[0], tps]) / n_pos
    fpr = np.concatenate([[0], fps]) / (positive.size - n_pos)
    return float(np.trapezoid(tpr, fpr))


def auroc(scores: ArrayLike, positive: ArrayLike) -> float:
    """Area under the ROC curve (trapezoidal, so a tie counts one half): ``P(s⁺ > s⁻) + ½ P(s⁺ = s⁻)``.

    NaN when ``positive`` is all True or all False.

    >>> auroc([0.9, 0.8, 0.8, 0.1], [True, True, False, False])
    0.875
    """
    s = check_scores(scores)
    return _auroc(s, check_correct(positive, s.size, name="positive"))


def average_precision(scores: ArrayLike, positive: ArrayLike) -> float:
    """Area under the precision–recall curve as average precision, ``Σ_k (R_k − R_{k−1}) · P_k`` over the
    distinct thresholds (no interpolation; scikit-learn's ``average_precision_score``).

    NaN when ``positive`` is all True or all False (scikit-learn returns 1.0 or 0.0 with a warning there).

    >>> average_precision([0.9, 0.8, 0.7, 0.1], [True, False, True, False])  # (1 + 2/3) / 2
    0.8333333333333333
    """
    s = check_scores(scores)
    pos = check_correct(positive, s.size, name="positive")
    n_pos = int(pos.sum())
    if n_pos == 0 or n_pos == pos.size:
        return float("nan")
    tps, fps, _ = _ranked_counts(s, pos)
    precision = tps / (tps + fps)
    recall_step = np.diff(tps, prepend=0) / n_pos
    return float(np.dot(recall_step, precision))


def misclassification_auroc(confidence: ArrayLike, correct: ArrayLike) -> float:
    """AUROC of confidence separating correct (positive) from wrong predictions (misclassification
    detection, Hendrycks & Gimpel 2017): ``P(ẑ_right > ẑ_wrong) + ½ P(ẑ_right = ẑ_wrong)``; 0.5 is chance.

    NaN when every prediction is right or every prediction is wrong.

    >>> misclassification_auroc([0.9, 0.8, 0.6, 0.7], [True, True, False, False])
    1.0
    """
    conf, ok = check_confidence_correct(confidence, correct)
    return _auroc(conf, ok)


def misclassification_aupr(confidence: ArrayLike, correct: ArrayLike, positive: str = "correct") -> float:
    """Average precision of confidence for correct-vs-wrong predictions.

    ``positive="correct"`` (default, "AUPR-success"): correct predictions are the positives, score ``ẑ``.
    ``positive="incorrect"`` ("AUPR-error"): wrong predictions are the positives, score ``−ẑ``.
    NaN when every prediction is right or every prediction is wrong.

    >>> misclassification_aupr([0.9, 0.8, 0.7, 0.1], [True, False, True, False])
    0.8333333333333333
    """
    conf, ok = check_confidence_correct(confidence, correct)
    if check_name("positive", positive, ("correct", "incorrect"), error=MetricInputError) == "correct":
        return average_precision(conf, ok)
    return average_precision(-conf, ~ok)


def risk_coverage_curve(
    confidence: ArrayLike, correct: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Selective-prediction risk–coverage curve (Geifman & El-Yaniv 2017).

    Accepting every sample with ``ẑ ≥ t``: ``coverage(t) = #accepted / N`` and
    ``risk(t) = #wrong accepted / #accepted``, at every distinct confidence ``t`` descending.
    Returns ``(coverage, risk, thresholds)``, coverage increasing to 1.

    >>> cov, risk, thr = risk_coverage_curve([0.9, 0.8, 0.8, 0.1], [True, True, False, False])
    >>> cov.tolist(), risk.round(4).tolist(), thr.tolist()
    ([0.25, 0.75, 1.0], [0.0, 0.3333, 0.5], [0.9, 0.8, 0.1])
    """
    conf, ok = check_confidence_correct(confidence, correct)
    tps, fps, thresholds = _ranked_counts(conf, ok)
    accepted = tps + fps
    return accepted / conf.size, fps / accepted, thresholds


def aurc(confidence: ArrayLike, correct: ArrayLike) -> float:
    """Area under the risk–coverage curve, ``Σ_j (cov_j − cov_{j−1}) · risk_j`` (lower is better).

    Without ties this is ``(1/N) Σ_{k=1..N} (wrong among the k most confident) / k``; tied confidences are
    accepted together. 0 when every prediction is right, 1 when every prediction is wrong.

    >>> round(aurc([0.9, 0.8, 0.7, 0.1], [True, False, True, False]), 6)  # (0 + 1/2 + 1/3 + 2/4) / 4
    0.333333
    """
    coverage, risk, _ = risk_coverage_curve(confidence, correct)
    return float(np.dot(np.diff(coverage, prepend=0.0), risk))
