"""Fixtures shared across the test tree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Tiny models on a shared 2-core machine run ~30× faster on one thread than on an oversubscribed pool.

    ``$OMP_NUM_THREADS`` is set too: the engine takes its default thread count from it, and with more than one
    CPU thread the kernels' blocking (hence the last bits of the logits) can depend on the batch size.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", "1")
        yield
    torch.set_num_threads(before)
