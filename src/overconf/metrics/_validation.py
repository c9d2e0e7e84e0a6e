"""Input checks shared by every metric: arrays in, clean float64 / bool / int64 arrays out.

Every check raises :class:`~overconf.errors.MetricInputError` (a ``ValueError``) naming the argument and
what was wrong with it; the metrics themselves never see empty, non-finite or out-of-range inputs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from overconf.errors import MetricInputError

#: Rows of a probability matrix must sum to 1 within this absolute tolerance (float32 softmax is ~1e-7 off).
PROBABILITY_SUM_ATOL = 1e-4


def _as_1d(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise MetricInputError(
            f"{name} must be a 1-D array, got shape {array.shape}",
            hint="pass one value per sample, e.g. records['confidence'].to_numpy()",
        )
    if array.size == 0:
        raise MetricInputError(f"{name} is empty", hint="a metric needs at least one sample")
    return array


def _check_finite(array: np.ndarray, name: str) -> None:
    if not np.isfinite(array).all():
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise MetricInputError(
            f"{name} holds {bad} NaN or infinite value(s)", hint="drop or fix those samples"
        )


def check_scores(scores: ArrayLike, name: str = "scores") -> np.ndarray:
    """A non-empty 1-D array of finite real scores, as float64."""
    array = _as_1d(scores, name)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise MetricInputError(f"{name} must be numeric, got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    _check_finite(array, name)
    return array


def check_confidence(confidence: ArrayLike, name: str = "confidence") -> np.ndarray:
    """A non-empty 1-D float64 array of finite values in [0, 1]."""
    array = check_scores(confidence, name)
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise MetricInputError(
            f"{name} must lie in [0, 1], got values in [{low:g}, {high:g}]",
            hint="pass the maximum softmax probability, not a logit or a percentage",
        )
    return array


def check_correct(correct: ArrayLike, n: int | None = None, name: str = "correct") -> np.ndarray:
    """A non-empty 1-D boolean array (bools, or integers 0/1); length ``n`` if given."""
    array = _as_1d(correct, name)
    if array.dtype != np.bool_:
        if not np.issubdtype(array.dtype, np.number):
            raise MetricInputError(f"{name} must be boolean, got dtype {array.dtype}")
        if not np.isin(array, (0, 1)).all():
            raise MetricInputError(
                f"{name} must hold only True/False (or 0/1)", hint="pass prediction == label"
            )
        array = array.astype(bool)
    if n is not None and array.size != n:
        raise MetricInputError(
            f"{name} has {array.size} values but confidence has {n}", hint="lengths must match"
        )
    return array


def check_confidence_correct(confidence: ArrayLike, correct: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (confidence, correct) pair of equal length."""
    conf = check_confidence(confidence)
    return conf, check_correct(correct, conf.size)


def check_logits(logits: ArrayLike, name: str = "logits") -> np.ndarray:
    """A non-empty 2-D (samples × classes) float64 array of finite values with at least one class."""
    array = np.asarray(logits)
    if array.dtype == object:
        array = np.stack(list(array))  # a pandas column of per-sample arrays
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise MetricInputError(
            f"{name} must be a non-empty 2-D array (samples × classes), got shape {array.shape}"
        )
    if not np.issubdtype(array.dtype, np.number):
        raise MetricInputError(f"{name} must be numeric, got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    _check_finite(array, name)
    return array


def check_probabilities(probs: ArrayLike, name: str = "probs") -> np.ndarray:
    """A 2-D float64 array of probabilities in [0, 1] whose rows sum to 1 within ``PROBABILITY_SUM_ATOL``."""
    array = check_logits(probs, name)
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise MetricInputError(
            f"{name} must lie in [0, 1], got values in [{low:g}, {high:g}]", hint="apply softmax first"
        )
    error = np.abs(array.sum(axis=1) - 1.0)
    worst = int(error.argmax())
    if error[worst] > PROBABILITY_SUM_ATOL:
        raise MetricInputError(
            f"rows of {name} must sum to 1 (±{PROBABILITY_SUM_ATOL:g}); "
            f"row {worst} sums to {array[worst].sum():.6g}",
            hint="apply softmax to logits first",
        )
    return array


def check_labels(labels: ArrayLike, n: int, n_classes: int, name: str = "labels") -> np.ndarray:
    """A 1-D int64 array of class indices in [0, n_classes) of length ``n``."""
    array = _as_1d(labels, name)
    if not np.issubdtype(array.dtype, np.integer):
        if (
            np.issubdtype(array.dtype, np.floating)
            and np.isfinite(array).all()
            and (array == np.round(array)).all()
        ):
            array = array.astype(np.int64)
        else:
            raise MetricInputError(f"{name} must be integer class indices, got dtype {array.dtype}")
    if array.size != n:
        raise MetricInputError(
            f"{name} has {array.size} values but there are {n} rows of scores", hint="lengths must match"
        )
    low, high = int(array.min()), int(array.max())
    if low < 0 or high >= n_classes:
        raise MetricInputError(
            f"{name} must lie in [0, {n_classes - 1}], got values in [{low}, {high}]",
            hint="out-of-distribution samples (label -1) have no true class; use the OOD metrics for them",
        )
    return array.astype(np.int64, copy=False)


def check_n_bins(n_bins: int) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise MetricInputError(f"n_bins must be a positive integer, got {n_bins!r}")
    return int(n_bins)
