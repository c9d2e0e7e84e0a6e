"""The reproducibility contract's comparison: what it accepts and what it refuses."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from overconf.evaluation.agreement import (
    ATTACK_RTOL,
    LOGIT_RTOL,
    assert_records_agree,
    compare_records,
    contract_rtol,
)
from overconf.evaluation.records import ModelInfo, make_records

INFO = ModelInfo("m", "p", False, "fashion-mnist")


def table(logits: np.ndarray, labels: np.ndarray | None = None, index: np.ndarray | None = None) -> pa.Table:
    n = logits.shape[0]
    return make_records(INFO, "clean", "clean", np.arange(n) if index is None else index,
                        np.zeros(n, dtype=int) if labels is None else labels, logits)


def logits(n: int = 50, scale: float = 10.0, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=(n, 10)) * scale).astype(np.float32)


def test_identical_tables_agree_with_zero_error() -> None:
    z = logits()
    comparison = compare_records(table(z), table(z))
    assert comparison.max_logit_error == 0 and not comparison.violations(0.0).any()
    assert_records_agree(table(z), table(z), rtol=0.0)


def test_differences_within_the_tolerance_relative_to_the_row_scale_agree() -> None:
    z = logits(scale=100.0)
    moved = z + (0.5 * LOGIT_RTOL * np.abs(z).max(axis=1, keepdims=True)).astype(np.float32)
    assert compare_records(table(z), table(moved)).max_logit_error <= LOGIT_RTOL
    assert_records_agree(table(z), table(moved))


def test_a_difference_beyond_the_tolerance_is_refused_naming_the_row() -> None:
    z = logits()
    moved = z.copy()
    moved[3, 0] += 1e-2 * np.abs(z[3]).max()
    with pytest.raises(AssertionError, match=r"1 of 50 rows break the contract at rtol 0.0001: rows \[3\]"):
        assert_records_agree(table(z), table(moved))
    assert_records_agree(table(z), table(moved), rtol=2e-2)


def test_a_prediction_may_flip_only_where_the_top_two_margin_is_within_rounding() -> None:
    z = np.array([[1.0, 1.0 + 1e-6, 0.0], [1.0, 2.0, 0.0]], dtype=np.float32)
    near_tie = z.copy()
    near_tie[0, 0] += 2e-6  # the arg-max moves from 1 to 0: the margin was 1e-6
    comparison = compare_records(table(z), table(near_tie))
    assert comparison.flipped.tolist() == [True, False] and not comparison.violations(LOGIT_RTOL).any()
    far = z.copy()
    far[1, 0] += 1.5  # a real change: beyond the tolerance and a flip with a margin of 1
    assert compare_records(table(z), table(far)).violations(LOGIT_RTOL).tolist() == [False, True]


def test_non_float_columns_must_be_identical() -> None:
    z = logits(4)
    with pytest.raises(AssertionError, match="column 'index' differs"):
        assert_records_agree(table(z), table(z, index=np.array([0, 1, 3, 2])))
    with pytest.raises(AssertionError, match="column 'label' differs"):
        assert_records_agree(table(z), table(z, labels=np.array([0, 0, 0, 1])))
    with pytest.raises(AssertionError, match="4 and 3 rows"):
        assert_records_agree(table(z), table(z[:3]))


def test_attack_cells_get_the_attack_tolerance_from_their_family() -> None:
    z = logits()
    moved = z + (1e-2 * np.abs(z).max(axis=1, keepdims=True)).astype(np.float32)  # iterates that parted
    attacked = [make_records(INFO, "pgd", "attack", np.arange(50), np.zeros(50, dtype=int), v) for v in (z, moved)]
    assert contract_rtol("attack") == ATTACK_RTOL > 1e-2 and contract_rtol("clean") == LOGIT_RTOL
    assert_records_agree(*attacked)
    with pytest.raises(AssertionError, match="rtol 0.0001"):
        assert_records_agree(table(z), table(moved))


def test_small_logits_are_compared_with_a_floor_of_one_unit() -> None:
    z = np.full((2, 3), 1e-3, dtype=np.float32)
    z[:, 0] = 2e-3
    moved = z + np.float32(0.5 * LOGIT_RTOL)  # relative to |z| that is 5 %, relative to 1 it is within rounding
    assert_records_agree(table(z), table(moved))
