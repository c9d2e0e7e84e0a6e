"""Out-of-distribution image sets: shapes, ranges, seeding, and the digits' content."""

from __future__ import annotations

import pytest
import torch
from sklearn.datasets import load_digits

from overconf.data.ood import OOD_SETS, digit_images, gaussian_images, uniform_images


@pytest.mark.parametrize("name", sorted(OOD_SETS))
@pytest.mark.parametrize("shape", [(5, 1, 28, 28), (3, 3, 32, 32), (2, 3, 8, 8)])
def test_shape_range_and_seed(name: str, shape: tuple[int, int, int, int]) -> None:
    make = OOD_SETS[name]
    a = make(shape, torch.Generator().manual_seed(0))
    assert a.shape == shape and a.dtype == torch.float32
    assert float(a.min()) >= 0 and float(a.max()) <= 1
    assert torch.equal(a, make(shape, torch.Generator().manual_seed(0)))
    assert not torch.equal(a, make(shape, torch.Generator().manual_seed(1)))


def test_uniform_and_gaussian_moments() -> None:
    u = uniform_images((100, 1, 32, 32), torch.Generator().manual_seed(0)).double()
    assert float(u.mean()) == pytest.approx(0.5, abs=0.005) and float(u.var()) == pytest.approx(1 / 12, rel=0.02)
    g = gaussian_images((100, 1, 32, 32), torch.Generator().manual_seed(0), mean=0.5, std=0.1).double()
    assert float(g.mean()) == pytest.approx(0.5, abs=0.002) and float(g.std()) == pytest.approx(0.1, rel=0.02)
    clipped = gaussian_images((100, 1, 32, 32), torch.Generator().manual_seed(0))  # std 1: P(x ≤ 0) = Φ(−0.5)
    assert float((clipped == 0).double().mean()) == pytest.approx(0.3085, abs=0.01)


def test_digits_at_their_own_size_are_the_sklearn_digits() -> None:
    reference = torch.from_numpy(load_digits().images).float() / 16
    x = digit_images((1797, 1, 8, 8), torch.Generator().manual_seed(0))
    # a permutation of all 1,797 digits: every one appears once (compare sorted flattened rows)
    ours = sorted(map(tuple, x.flatten(1).tolist()))
    theirs = sorted(map(tuple, reference.flatten(1).tolist()))
    assert ours == theirs


def test_digits_resized_and_repeated_over_channels() -> None:
    x = digit_images((4, 3, 28, 28), torch.Generator().manual_seed(0))
    assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 1], x[:, 2])
    assert float(x[:, :, 0, 0].max()) < 0.2  # dark border, bright strokes, like Fashion-MNIST
    assert float(x.amax(dim=(1, 2, 3)).min()) > 0.5
