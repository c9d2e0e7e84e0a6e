"""Shared fixtures for the perturbation tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def perturbation_tests_on_pinned_threads(pinned_torch_threads: None) -> None:
    """Every perturbation test module runs at the pinned torch thread count (``pinned_torch_threads``)."""
