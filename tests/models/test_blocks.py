"""FLC pooling and PSSiLU against their definitions (PAPER.md)."""

from __future__ import annotations

import math

import pytest
import torch

from overconf.models.blocks import FLCPooling, PSSiLU, flc_pool_fft


def cosine_image(h: int, w: int, ky: int, kx: int, phase: float = 0.3) -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    return torch.cos(2 * math.pi * (ky * yy / h + kx * xx / w) + phase)


def test_matrix_form_equals_fft_definition() -> None:
    x = torch.randn(3, 5, 28, 28, dtype=torch.float64)
    torch.testing.assert_close(FLCPooling()(x), flc_pool_fft(x), rtol=0, atol=1e-12)


def test_constant_image_stays_constant() -> None:
    x = torch.full((2, 3, 16, 12), 0.7, dtype=torch.float64)
    y = FLCPooling()(x)
    assert y.shape == (2, 3, 8, 6)
    torch.testing.assert_close(y, torch.full_like(y, 0.7), rtol=0, atol=1e-12)


@pytest.mark.parametrize(("ky", "kx"), [(0, 1), (3, 2), (6, 6), (-6, 5)])
def test_low_frequencies_reproduced_exactly_at_half_resolution(ky: int, kx: int) -> None:
    # 28×28 keeps frequencies −7 … 6 per axis.
    x = (cosine_image(28, 28, ky, kx) + 0.5 * cosine_image(28, 28, 1, -2, phase=1.1)).view(1, 1, 28, 28)
    torch.testing.assert_close(FLCPooling()(x), x[..., ::2, ::2], rtol=0, atol=1e-12)


@pytest.mark.parametrize(("ky", "kx"), [(8, 0), (0, 9), (10, 12)])
def test_frequencies_above_the_cut_are_removed(ky: int, kx: int) -> None:
    low = cosine_image(28, 28, 2, 1)
    x = (low + cosine_image(28, 28, ky, kx)).view(1, 1, 28, 28)
    torch.testing.assert_close(FLCPooling()(x), low[::2, ::2].view(1, 1, 14, 14), rtol=0, atol=1e-12)


def test_gradient_is_the_adjoint() -> None:
    x = torch.randn(2, 2, 8, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(FLCPooling(), (x,))
    assert torch.autograd.gradcheck(flc_pool_fft, (x,))


def test_odd_size_is_refused() -> None:
    with pytest.raises(ValueError, match="even"):
        FLCPooling()(torch.zeros(1, 1, 7, 8))


def test_pssilu_formula_and_initial_values() -> None:
    act = PSSiLU()
    assert float(act.alpha) == 1.0 and float(act.beta) == pytest.approx(1e-8)
    with torch.no_grad():
        act.alpha.fill_(-2.0)
        act.beta.fill_(-0.25)
    x = torch.linspace(-4, 4, 17)
    expected = x * (torch.sigmoid(2.0 * x) - 0.25) / 0.75
    torch.testing.assert_close(act(x), expected)


def test_pssilu_starts_as_silu_and_matches_robustbench() -> None:
    from overconf._compat import import_robustbench

    import_robustbench()
    from robustbench.model_zoo.architectures.paf_wide_resnet import PSSiLU as RobustBenchPSSiLU

    x = torch.randn(1000)
    torch.testing.assert_close(PSSiLU()(x), torch.nn.functional.silu(x), atol=1e-6, rtol=1e-6)
    ours, theirs = PSSiLU(), RobustBenchPSSiLU()
    with torch.no_grad():
        for m in (ours, theirs):
            m.alpha.fill_(1.7)
            m.beta.fill_(0.2)
    torch.testing.assert_close(ours(x), theirs(x))


def test_pssilu_parameters_learn() -> None:
    act = PSSiLU()
    act(torch.randn(64)).pow(2).sum().backward()
    assert act.alpha.grad is not None and act.beta.grad is not None and float(act.alpha.grad) != 0.0
