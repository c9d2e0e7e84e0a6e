"""Fixtures shared across the test tree."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import torch

#: Torch threads of the thread-pinned tests: 1 unless ``OVERCONF_TEST_THREADS`` says otherwise (``make test``
#: reruns the reproducibility tests at 2 to take the kernels' multi-threaded paths).
TEST_THREADS = int(os.environ.get("OVERCONF_TEST_THREADS", "1"))


def pytest_configure(config: pytest.Config) -> None:
    """``OVERCONF_TEST_MKLDNN=0`` turns oneDNN off for the whole session (another set of CPU kernels)."""
    if os.environ.get("OVERCONF_TEST_MKLDNN") == "0":
        torch.backends.mkldnn.enabled = False


@pytest.fixture(scope="module")
def pinned_torch_threads() -> Iterator[None]:
    """Tiny models on a shared 2-core machine run ~30× faster on one thread than on an oversubscribed pool, so
    the tests that run models pin torch's thread count (``TEST_THREADS``, one by default). This fixture is the
    one way tests pin threads: use it (``pytest.mark.usefixtures("pinned_torch_threads")``), do not set
    ``$OMP_NUM_THREADS`` or call ``torch.set_num_threads`` in a test.

    ``$OMP_NUM_THREADS`` is set to the same count: the engine takes its default thread count from it, and
    subprocesses and Ray's workers inherit it, so every process of a test computes at the same count (record
    files hold the thread count the engine used: byte-identical files need equal counts).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(TEST_THREADS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", str(TEST_THREADS))
        yield
    torch.set_num_threads(before)
