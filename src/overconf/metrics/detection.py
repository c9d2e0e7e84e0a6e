"""Detection metrics: attacked-vs-clean samples by confidence, and out-of-distribution (OOD) detection with
the scores MSP, max-logit and energy.

Convention: every score is "higher = more in-distribution / more trustworthy", and the in-distribution
(or clean-correct) samples are the positives of the ROC curve.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from overconf.metrics._validation import check_confidence_correct, check_logits, check_scores
from overconf.metrics.selective import _auroc, _ranked_counts
from overconf.metrics.temperature import row_logsumexp


def attack_detection_auroc(
    clean_confidence: ArrayLike,
    clean_correct: ArrayLike,
    perturbed_confidence: ArrayLike,
    perturbed_correct: ArrayLike,
) -> float:
    """AUROC of confidence separating clean correctly classified samples (positives) from perturbed wrongly
    classified samples (negatives), as in Grabinski et al. 2022, Fig. 4:
    ``P(ẑ_clean,right > ẑ_perturbed,wrong) + ½ P(=)``.

    Clean-wrong and perturbed-right samples are ignored. NaN when either set is empty (no clean sample is
    right, or the attack flipped nothing). Pass the clean and perturbed records of the same images (the
    summary table matches them on ``index``).

    >>> clean_conf, clean_ok = [0.99, 0.95, 0.40], [True, True, False]
    >>> attack_detection_auroc(clean_conf, clean_ok, [0.6, 0.97, 0.3], [False, False, True])
    0.75
    """
    clean_conf, clean_ok = check_confidence_correct(clean_confidence, clean_correct)
    pert_conf, pert_ok = check_confidence_correct(perturbed_confidence, perturbed_correct)
    positives, negatives = clean_conf[clean_ok], pert_conf[~pert_ok]
    if positives.size == 0 or negatives.size == 0:
        return float("nan")
    scores = np.concatenate([positives, negatives])
    return _auroc(scores, np.arange(scores.size) < positives.size)


def msp_score(logits: ArrayLike) -> np.ndarray:
    """Maximum softmax probability ``max_k softmax(z)_k`` per row, in float64 (Hendrycks & Gimpel 2017).

    >>> msp_score([[0.0, 0.0], [2.0, 0.0]]).round(4).tolist()
    [0.5, 0.8808]
    """
    z = check_logits(logits)
    result: np.ndarray = np.exp(z.max(axis=1) - row_logsumexp(z))
    return result


def max_logit_score(logits: ArrayLike) -> np.ndarray:
    """Maximum logit ``max_k z_k`` per row (Hendrycks et al. 2022).

    >>> max_logit_score([[1.0, 3.0], [-1.0, -2.0]]).tolist()
    [3.0, -1.0]
    """
    result: np.ndarray = check_logits(logits).max(axis=1)
    return result


def energy_score(logits: ArrayLike, temperature: float = 1.0) -> np.ndarray:
    """Negative energy ``−E(z) = T · log Σ_k exp(z_k / T)`` per row (Liu et al. 2020); higher = in-dist.

    >>> energy_score([[0.0, 0.0], [10.0, -10.0]]).round(4).tolist()
    [0.6931, 10.0]
    """
    return temperature * row_logsumexp(logits, temperature)


def _in_out(in_scores: ArrayLike, out_scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    inside = check_scores(in_scores, "in_scores")
    outside = check_scores(out_scores, "out_scores")
    return np.concatenate([inside, outside]), np.arange(inside.size + outside.size) < inside.size


def ood_auroc(in_scores: ArrayLike, out_scores: ArrayLike) -> float:
    """AUROC of a score separating in-distribution (positives) from OOD samples: ``P(s_in > s_out) + ½ P(=)``.

    >>> round(ood_auroc([0.9, 0.8, 0.7], [0.75, 0.1]), 6)
    0.833333
    """
    scores, positive = _in_out(in_scores, out_scores)
    return _auroc(scores, positive)


def fpr_at_95_tpr(in_scores: ArrayLike, out_scores: ArrayLike, tpr: float = 0.95) -> float:
    """False-positive rate on OOD samples at the highest threshold that keeps ≥ ``tpr`` of the in-distribution
    samples: ``#{out: s ≥ t*} / N_out`` with ``t* = max{t : #{in: s ≥ t} / N_in ≥ tpr}`` (lower is better).

    >>> fpr_at_95_tpr([0.9, 0.8, 0.7, 0.6], [0.85, 0.65, 0.1], tpr=0.75)  # t* = 0.7 accepts 0.85 only
    0.3333333333333333
    """
    scores, positive = _in_out(in_scores, out_scores)
    tps, fps, _ = _ranked_counts(scores, positive)
    n_in = int(positive.sum())
    # first threshold (descending) whose true-positive count reaches tpr · N_in (1e-9 absorbs rounding)
    first = int(np.searchsorted(tps, tpr * n_in - 1e-9, side="left"))
    return float(fps[min(first, fps.size - 1)] / (positive.size - n_in))
