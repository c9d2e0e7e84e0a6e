"""Softmax helpers and post-hoc temperature scaling (Guo et al. 2017).

Temperature scaling divides every logit by one scalar ``T > 0`` fitted on a held-out split by minimising
the NLL; it changes confidence but never the arg-max, so accuracy is unchanged. Use it to ask whether a
robust/normal calibration gap survives calibration: fit ``T`` on one split, apply it on another, and
recompute the metrics from the scaled probabilities.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize_scalar

from overconf.errors import MetricInputError
from overconf.metrics._validation import check_labels, check_logits

#: Search interval for T; a fitted T at either end means the logits carry no usable signal.
TEMPERATURE_BOUNDS = (1e-2, 1e2)


def _shifted(logits: ArrayLike, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """``(z / T − m, m)`` with ``m`` the row maximum of ``z / T``, as a fresh float64 array."""
    z = check_logits(logits)
    t = _check_temperature(temperature)
    z = z / t if t != 1.0 else z.copy()
    top = z.max(axis=1)
    z -= top[:, None]
    return z, top


def row_logsumexp(logits: ArrayLike, temperature: float = 1.0) -> np.ndarray:
    """Row-wise ``log Σ_k exp(z_k / T)`` in float64, computed stably (the row maximum is factored out).

    >>> row_logsumexp([[0.0, 0.0], [1000.0, 0.0]]).round(4).tolist()
    [0.6931, 1000.0]
    """
    z, top = _shifted(logits, temperature)
    np.exp(z, out=z)
    result: np.ndarray = top + np.log(z.sum(axis=1))
    return result


def log_softmax(logits: ArrayLike, temperature: float = 1.0) -> np.ndarray:
    """Row-wise ``log softmax(z / T)`` in float64, ``z_k / T − log Σ_j exp(z_j / T)``.

    >>> log_softmax([[0.0, 0.0]]).round(4).tolist()
    [[-0.6931, -0.6931]]
    """
    z, _ = _shifted(logits, temperature)
    result: np.ndarray = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return result


def softmax(logits: ArrayLike, temperature: float = 1.0) -> np.ndarray:
    """Row-wise ``softmax(z / T)`` in float64 (rows sum to 1).

    >>> softmax([[2.0, 0.0]]).round(4).tolist()
    [[0.8808, 0.1192]]
    """
    z, _ = _shifted(logits, temperature)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def apply_temperature(logits: ArrayLike, temperature: float) -> np.ndarray:
    """Calibrated probabilities ``softmax(z / T)`` (float64, samples × classes).

    >>> apply_temperature([[2.0, 0.0]], 2.0).round(4).tolist()
    [[0.7311, 0.2689]]
    """
    return softmax(logits, temperature)


def _check_temperature(temperature: float) -> float:
    t = float(temperature)
    if not np.isfinite(t) or t <= 0:
        raise MetricInputError(f"temperature must be a positive finite number, got {temperature!r}")
    return t


def fit_temperature(logits: ArrayLike, labels: ArrayLike) -> float:
    """The temperature ``T* = argmin_T −(1/N) Σ_i log softmax(z_i / T)_{y_i}`` on held-out (logits, labels).

    One-dimensional bounded search over ``log T`` in ``log TEMPERATURE_BOUNDS`` (scipy's
    ``minimize_scalar(method="bounded")``, tolerance 1e-6 in ``log T``); the NLL is convex in ``1/T``.

    >>> z = np.array([[4.0, 0.0], [4.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    >>> T = fit_temperature(z, [0, 0, 1, 1])  # 3 of 4 right: the fitted confidence is 0.75
    >>> round(float(softmax(z, T)[0, 0]), 4)
    0.75
    """
    z = check_logits(logits)
    y = check_labels(labels, z.shape[0], z.shape[1])
    z = z - z.max(axis=1, keepdims=True)  # shift per row: softmax is unchanged and exp cannot overflow
    mean_true_logit = float(z[np.arange(y.size), y].mean())
    scratch = np.empty_like(z)

    def mean_nll(log_t: float) -> float:
        inverse_t = float(np.exp(-log_t))
        np.multiply(z, inverse_t, out=scratch)
        np.exp(scratch, out=scratch)
        return float(np.log(scratch.sum(axis=1)).mean() - mean_true_logit * inverse_t)

    low, high = np.log(TEMPERATURE_BOUNDS)
    result = minimize_scalar(mean_nll, bounds=(low, high), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(result.x))
