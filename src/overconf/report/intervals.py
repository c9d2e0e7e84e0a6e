"""Vectorised paired bootstrap of the report's metrics, on exactly the samples of the point estimate.

A bootstrap resample of ``n`` samples is a vector of multiplicities ``w`` (``w_i`` = how often sample ``i``
was drawn; ``Σ w_i = n``). Every metric the report bootstraps is a function of weighted sums, so
``R`` resamples are one ``R × n`` weight matrix ``W`` and a few matrix products, instead of ``R`` calls:

- o(f) = ``Σ w_i ẑ_i [wrong_i] / Σ w_i [wrong_i]``; u(f) = ``Σ w_i (1 − ẑ_i) [right_i] / Σ w_i [right_i]``;
- ECE (L1, equal-width bins of :func:`overconf.metrics.assign_bins`) = ``Σ_b |Σ_{i∈b} w_i (c_i − ẑ_i)| / Σ w_i``;
- AUROC = ``Σ_{pos i} w_i (Σ_{neg j: s_j < s_i} w_j + ½ Σ_{neg j: s_j = s_i} w_j) / (Σ_pos w · Σ_neg w)``.

o(f), u(f) and ECE are functions of *linear* sums ``W @ V`` (:class:`Linear`: the columns ``V`` and a
``finish`` turning the sums into the value), so one matrix product gives every resample of every such
metric of a cell, and sums of cells pool exactly (a stratified bootstrap of the pooled corruptions panel).
With ``w = 1`` these are the :mod:`overconf.metrics` values (tests check it to 1e-12). A paired difference
(robust − normal, or attacked − clean) uses the *same* ``W`` for both sides: the samples are the joined
indices both were evaluated on. Interval: percentile, 95 %, ``n_resamples`` resamples drawn with
``numpy.random.default_rng(seed)``; NaN when the statistic is undefined on any resample (e.g. a resample
without a wrong prediction for o(f)).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from overconf.metrics import assign_bins

N_RESAMPLES = 1000
CONFIDENCE_LEVEL = 0.95
_CHUNK_CELLS = 2_000_000  # weights held at once (resamples × samples): ~16 MB of float64


def resample_weights(n: int, n_resamples: int, seed: int = 0) -> Iterator[np.ndarray]:
    """The bootstrap weight matrix ``W`` (``n_resamples × n``, float64 multiplicities), in row chunks.

    >>> w = np.vstack(list(resample_weights(5, 3)))
    >>> w.shape, w.sum(axis=1).tolist()
    ((3, 5), [5.0, 5.0, 5.0])
    """
    rng = np.random.default_rng(seed)
    step = max(1, _CHUNK_CELLS // max(n, 1))
    for start in range(0, n_resamples, step):
        rows = min(step, n_resamples - start)
        drawn = rng.integers(0, n, size=(rows, n)) + (np.arange(rows) * n)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=rows * n).reshape(rows, n)
        yield np.asfortranarray(counts, dtype=np.float64)  # column-major: gathering samples (columns) is contiguous


@lru_cache(maxsize=2)
def cached_weights(n: int, n_resamples: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """:func:`resample_weights` as a tuple, kept for the next cell of the same size (cells of one run share ``n``;
    every cell's interval is still an ordinary bootstrap of its own samples)."""
    return tuple(resample_weights(n, n_resamples, seed))


def resampled(statistic: Callable[[np.ndarray], np.ndarray], n: int, n_resamples: int, seed: int = 0) -> np.ndarray:
    """``statistic`` (of a weight matrix, rows → values, any trailing shape) on every resample, stacked."""
    return np.concatenate([statistic(w) for w in cached_weights(n, n_resamples, seed)])


@dataclass(frozen=True)
class Linear:
    """A metric that is a function of weighted sums: ``value = finish(w @ columns)`` (``columns``: n × k)."""

    columns: np.ndarray
    finish: Callable[[np.ndarray], np.ndarray]

    def point(self) -> np.ndarray:
        """The sums at unit weights (1 × k)."""
        return self.columns.sum(axis=0, keepdims=True)


def _ratio_finish(sums: np.ndarray) -> np.ndarray:
    return _ratio(sums[:, 0], sums[:, 1])


def overconfidence_linear(confidence: np.ndarray, correct: np.ndarray) -> Linear:
    """o(f): sums of ``ẑ [wrong]`` and ``[wrong]``."""
    wrong = (~correct).astype(np.float64)
    return Linear(np.column_stack([confidence * wrong, wrong]), _ratio_finish)


def underconfidence_linear(confidence: np.ndarray, correct: np.ndarray) -> Linear:
    """u(f): sums of ``(1 − ẑ) [right]`` and ``[right]``."""
    right = correct.astype(np.float64)
    return Linear(np.column_stack([(1.0 - confidence) * right, right]), _ratio_finish)


def ece_linear(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> Linear:
    """L1 ECE: per-bin sums of ``c − ẑ`` and the total weight."""
    bins = assign_bins(confidence, correct, n_bins) if confidence.size else np.empty(0, np.int64)
    columns = np.zeros((confidence.size, n_bins + 1))
    columns[np.arange(confidence.size), bins] = correct.astype(np.float64) - confidence
    columns[:, n_bins] = 1.0
    return Linear(columns, lambda sums: _ratio(np.abs(sums[:, :n_bins]).sum(axis=1), sums[:, n_bins]))


def linear_sums(metrics: list[Linear], n: int, n_resamples: int, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Point sums (1 × k each) and resampled sums (R × k each) of several :class:`Linear` metrics of the same
    ``n`` samples, with one matrix product per weight chunk."""
    if not metrics:
        return [], []
    stacked = np.hstack([m.columns for m in metrics])
    widths = np.cumsum([m.columns.shape[1] for m in metrics])[:-1]
    points = np.split(stacked.sum(axis=0, keepdims=True), widths, axis=1)
    if n < 2:
        return points, [np.full((n_resamples, p.shape[1]), np.nan) for p in points]
    return points, np.split(resampled(lambda w: w @ stacked, n, n_resamples, seed), widths, axis=1)


def percentile_interval(estimate: float, values: np.ndarray, n: int,
                        confidence_level: float = CONFIDENCE_LEVEL) -> Interval:
    """The percentile interval of resampled ``values`` (NaN when any is NaN or there are none)."""
    if not np.isfinite(estimate) or values.size == 0 or not np.isfinite(values).all():
        return Interval(estimate, float("nan"), float("nan"), n)
    tail = 100 * (1 - confidence_level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return Interval(estimate, float(low), float(high), n)


Statistic = Callable[[np.ndarray], np.ndarray]
"""A statistic of weights: ``W`` (``R × n``) → ``R`` values (NaN where undefined)."""


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def overconfidence_stat(confidence: np.ndarray, correct: np.ndarray) -> Statistic:
    """o(f) = E[ẑ | ŷ ≠ y] as a statistic of weights."""
    wrong = (~correct).astype(np.float64)
    weighted = confidence * wrong
    return lambda w: _ratio(w @ weighted, w @ wrong)


def underconfidence_stat(confidence: np.ndarray, correct: np.ndarray) -> Statistic:
    """u(f) = E[1 − ẑ | ŷ = y] as a statistic of weights."""
    right = correct.astype(np.float64)
    weighted = (1.0 - confidence) * right
    return lambda w: _ratio(w @ weighted, w @ right)


def ece_stat(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> Statistic:
    """L1 ECE with equal-width bins as a statistic of weights."""
    bins = assign_bins(confidence, correct, n_bins) if confidence.size else np.empty(0, np.int64)
    gap = np.zeros((confidence.size, n_bins))
    gap[np.arange(confidence.size), bins] = correct.astype(np.float64) - confidence
    return lambda w: _ratio(np.abs(w @ gap).sum(axis=1), w.sum(axis=1))


def auroc_stat(scores: np.ndarray, positive: np.ndarray, member: np.ndarray | None = None) -> Statistic:
    """AUROC (ties count ½) of ``scores`` for ``positive`` vs the rest, as a statistic of weights.

    ``member`` maps each scored entry to the sample whose weight it carries (default: entry ``i`` is sample
    ``i``); attack detection scores two entries per image (its clean and its attacked prediction). With the
    negatives sorted by score and ``N(s)`` the cumulative sum of their weights, a positive scored ``s`` counts
    ``½ (N(< s) + N(≤ s))`` negatives below it; the numerator is the weighted sum of those counts.
    """
    member = np.arange(scores.size) if member is None else member
    negative = ~positive.astype(bool)
    order = np.argsort(scores[negative], kind="stable")
    neg_scores, neg_idx = scores[negative][order], member[negative][order]
    pos_scores, pos_idx = scores[~negative], member[~negative]
    below = np.searchsorted(neg_scores, pos_scores, side="left")
    not_above = np.searchsorted(neg_scores, pos_scores, side="right")

    def statistic(w: np.ndarray) -> np.ndarray:
        if neg_idx.size == 0 or pos_idx.size == 0:
            return np.full(w.shape[0], np.nan)
        wt = w.T  # samples × resamples: row gathers and cumulative sums run over contiguous rows
        cumulative = np.zeros((neg_idx.size + 1, w.shape[0]))
        np.cumsum(wt[neg_idx], axis=0, out=cumulative[1:])
        pos_w = wt[pos_idx]
        numerator = 0.5 * np.einsum("ij,ij->j", pos_w, cumulative[below] + cumulative[not_above])
        return _ratio(numerator, pos_w.sum(axis=0) * cumulative[-1])

    return statistic


def misclassification_auroc_stat(confidence: np.ndarray, correct: np.ndarray) -> Statistic:
    """AUROC of confidence, correct (positive) vs wrong predictions."""
    return auroc_stat(confidence, correct)


def detection_auroc_stat(clean_conf: np.ndarray, clean_correct: np.ndarray, attack_conf: np.ndarray,
                         attack_correct: np.ndarray) -> Statistic:
    """Attack-detection AUROC: clean-correct (positive) vs attacked-wrong (negative) entries of the same images."""
    n = clean_conf.size
    keep = np.r_[clean_correct, ~attack_correct]
    scores = np.r_[clean_conf, attack_conf][keep]
    positive = np.r_[np.ones(n, bool), np.zeros(n, bool)][keep]
    member = np.r_[np.arange(n), np.arange(n)][keep]
    return auroc_stat(scores, positive, member)


@dataclass(frozen=True)
class Interval:
    """A point estimate on all samples and its percentile bootstrap interval (NaN bounds: undefined)."""

    estimate: float
    low: float
    high: float
    n: int

    @property
    def defined(self) -> bool:
        return bool(np.isfinite(self.estimate) and np.isfinite(self.low) and np.isfinite(self.high))


def difference_intervals(statistics: dict[str, tuple[Statistic, Statistic | None]], n: int,
                         n_resamples: int = N_RESAMPLES, seed: int = 0,
                         confidence_level: float = CONFIDENCE_LEVEL) -> dict[str, Interval]:
    """``first − second`` (or ``first`` alone where ``second`` is None) of each named statistic on ``n`` joined
    samples, with paired bootstrap intervals that share one weight matrix (the same resamples for all).

    >>> conf = np.linspace(0.5, 1.0, 200); ok = np.arange(200) % 3 > 0
    >>> r = difference_intervals({"o": (overconfidence_stat(conf, ok), None)}, 200, n_resamples=200)["o"]
    >>> bool(r.low <= r.high), bool(np.isclose(r.estimate, conf[~ok].mean()))  # the estimate is o(f) of the sample
    (True, True)
    """
    def value(name: str, w: np.ndarray) -> np.ndarray:
        first, second = statistics[name]
        return first(w) if second is None else first(w) - second(w)

    nan = float("nan")
    if n == 0:
        return {name: Interval(nan, nan, nan, 0) for name in statistics}
    estimates = {name: float(value(name, np.ones((1, n)))[0]) for name in statistics}
    live = [name for name, e in estimates.items() if np.isfinite(e)] if n >= 2 else []
    values: dict[str, list[np.ndarray]] = {name: [] for name in live}
    if live:
        for w in cached_weights(n, n_resamples, seed):
            for name in live:
                values[name].append(value(name, w))
    tail = 100 * (1 - confidence_level) / 2
    out = {}
    for name, estimate in estimates.items():
        drawn = np.concatenate(values[name]) if name in values else np.empty(0)
        if drawn.size and np.isfinite(drawn).all():
            low, high = np.percentile(drawn, [tail, 100 - tail])
            out[name] = Interval(estimate, float(low), float(high), n)
        else:
            out[name] = Interval(estimate, nan, nan, n)
    return out
