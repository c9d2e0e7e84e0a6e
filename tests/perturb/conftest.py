"""Shared fixtures for the perturbation tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def perturbation_tests_on_one_thread(one_torch_thread: None) -> None:
    """Every perturbation test module runs on one torch thread (``one_torch_thread`` in tests/conftest.py)."""
