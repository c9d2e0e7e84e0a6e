"""The reproducibility contract: when two record tables of one cell count as the same result.

Same call, same settings, same machine: the records are bit-identical (``pa.Table.equals``). Across batch
sizes, worker counts, thread counts, decode locations, CPUs and kernel paths they are not: oneDNN, MKL and
ATen pick kernels (and so the order of floating-point sums) by shape, thread count and instruction set, which
moves the last bits of a float32 logit. What holds everywhere is :func:`compare_records`'s tolerance:

- every non-float column (model … family, ``index``, ``label``) is identical, row for row;
- logits: per row, ``max_k |a_k − b_k| ≤ LOGIT_RTOL · s`` with the row's scale
  ``s = max(1, max_k |a_k|, max_k |b_k|)`` (a relative tolerance with a floor of one logit unit);
- confidence (max softmax): ``|a − b| ≤ LOGIT_RTOL · s / 2 + 1e-12`` (the max softmax probability moves by at
  most half the largest logit change: the L1 norm of its gradient with respect to the logits is 2p(1 − p) ≤ ½);
- ``prediction`` (and so ``correct``): identical, except on rows whose top-two logit margin is at most
  ``2 · LOGIT_RTOL · s`` in either table (each logit may move by ``LOGIT_RTOL · s``, so the margin by twice that).

Attack cells get a looser tolerance, ``ATTACK_RTOL``, for every row: a gradient attack's input is recomputed
from gradients, and where a gradient component is within rounding of zero its sign (hence that pixel's step)
can differ between kernel paths, so the iterates part. The family is read from the tables (``family``), so
:func:`assert_records_agree` applies the right one. ``benchmarks/reproducibility.py`` measures the actual
differences on a machine (``benchmarks/results/reproducibility-*.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

#: Logit tolerance relative to the row's scale for clean, corruption and OOD cells (inputs identical to the
#: bit across settings). Measured largest: 4.5e-7 on the demo CNNs, 7.8e-6 on WRN-28-10 (generic ATen kernels).
LOGIT_RTOL = 1e-4

#: The same for attack cells, whose iterates may part (see the module). Measured largest: 1.4e-2 (PGD-10 on the
#: demo CNNs, PGD-2 on WRN-28-10; 0-4 % of rows above ``LOGIT_RTOL`` on the CNNs, no prediction changed).
ATTACK_RTOL = 5e-2


def contract_rtol(family: str) -> float:
    """The contract's relative logit tolerance for a cell of ``family``."""
    return ATTACK_RTOL if family == "attack" else LOGIT_RTOL


_EXACT_COLUMNS = ("model", "pair", "robust", "dataset", "perturbation", "family", "index", "label")


@dataclass(frozen=True)
class RecordComparison:
    """How two record tables of one cell differ, row by row (rows matched by position).

    ``logit_error``: per row, ``max_k |a_k − b_k| / s`` (s: the row's logit scale, see the module);
    ``confidence_error``: per row ``|a − b|``; ``scale``: per row ``s``; ``margin``: per row the smaller of the
    two tables' top-two logit margins; ``flipped``: rows whose prediction differs.
    """

    logit_error: np.ndarray
    confidence_error: np.ndarray
    scale: np.ndarray
    margin: np.ndarray
    flipped: np.ndarray

    @property
    def max_logit_error(self) -> float:
        return float(self.logit_error.max(initial=0.0))

    def violations(self, rtol: float) -> np.ndarray:
        """Rows that break the contract at relative logit tolerance ``rtol`` (boolean mask)."""
        bound = rtol * self.scale
        return ((self.logit_error > rtol) | (self.confidence_error > bound / 2 + 1e-12)
                | (self.flipped & (self.margin > 2 * bound)))


def _logits(table: pa.Table) -> np.ndarray:
    column = table.column("logits").combine_chunks()
    n = table.num_rows
    values = column.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
    return values.reshape(n, -1) if n else np.zeros((0, 0))


def _top_two_margin(z: np.ndarray) -> np.ndarray:
    if z.shape[1] < 2:
        return np.full(z.shape[0], np.inf)
    top = np.partition(z, -2, axis=1)
    return top[:, -1] - top[:, -2]


def compare_records(a: pa.Table, b: pa.Table) -> RecordComparison:
    """Compare two record tables of one cell; raise ``ValueError`` naming the first column whose non-float
    values differ (those are never allowed to)."""
    if a.num_rows != b.num_rows:
        raise ValueError(f"the tables hold {a.num_rows} and {b.num_rows} rows")
    for name in _EXACT_COLUMNS:
        if not a.column(name).equals(b.column(name)):
            raise ValueError(f"column {name!r} differs")
    za, zb = _logits(a), _logits(b)
    if za.shape != zb.shape:
        raise ValueError(f"logits have shapes {za.shape} and {zb.shape}")
    n = a.num_rows
    if n == 0:
        empty = np.zeros(0)
        return RecordComparison(empty, empty, empty, empty, np.zeros(0, dtype=bool))
    scale = np.maximum(1.0, np.maximum(np.abs(za).max(axis=1), np.abs(zb).max(axis=1)))
    logit_error = np.abs(za - zb).max(axis=1) / scale
    conf_a = a.column("confidence").to_numpy()
    conf_b = b.column("confidence").to_numpy()
    flipped = a.column("prediction").to_numpy() != b.column("prediction").to_numpy()
    margin = np.minimum(_top_two_margin(za), _top_two_margin(zb))
    return RecordComparison(logit_error, np.abs(conf_a - conf_b), scale, margin, flipped)


def assert_records_agree(a: pa.Table, b: pa.Table, *, rtol: float | None = None) -> None:
    """Raise ``AssertionError`` unless ``b`` reproduces ``a`` under the contract, at ``rtol`` or, by default, the
    tolerance of the tables' family (:func:`contract_rtol`)."""
    try:
        comparison = compare_records(a, b)
    except ValueError as err:
        raise AssertionError(str(err)) from None
    if rtol is None:
        families = set(a.column("family").unique().to_pylist())
        rtol = max((contract_rtol(f) for f in families), default=LOGIT_RTOL)
    bad = comparison.violations(rtol)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise AssertionError(
            f"{int(bad.sum())} of {a.num_rows} rows break the contract at rtol {rtol:g}: "
            f"rows {rows}, largest relative logit error {comparison.max_logit_error:.3g}, "
            f"{int(comparison.flipped.sum())} predictions differ")
