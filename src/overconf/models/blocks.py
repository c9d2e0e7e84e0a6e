"""Building blocks whose effect on confidence the paper studies: FLC pooling and PSSiLU.

Both are small enough to write here; RobustBench ships a PSSiLU only inside its WRN module (one
instance shared by the whole network) and no FLC pooling.
"""

from __future__ import annotations

import torch
from torch import nn


def flc_pool_fft(x: torch.Tensor) -> torch.Tensor:
    """FLC pooling by its definition (see :class:`FLCPooling`), with FFTs; the reference for the tests."""
    h, w = x.shape[-2:]
    if h % 2 or w % 2:
        raise ValueError(f"FLC pooling needs even spatial sizes, got {h}×{w}")
    spectrum = torch.fft.fftshift(torch.fft.fft2(x, norm="forward"), dim=(-2, -1))
    low = spectrum[..., h // 4 : h // 4 + h // 2, w // 4 : w // 4 + w // 2]
    return torch.fft.ifft2(torch.fft.ifftshift(low, dim=(-2, -1)), norm="forward").real


def _flc_matrix(n: int) -> torch.Tensor:
    """The complex (n/2)×n matrix of 1-D FLC pooling: column j is the pooled unit vector e_j."""
    eye = torch.eye(n, dtype=torch.float64)
    spectrum = torch.fft.fftshift(torch.fft.fft(eye, dim=0, norm="forward"), dim=0)
    low = spectrum[n // 4 : n // 4 + n // 2]
    return torch.fft.ifft(torch.fft.ifftshift(low, dim=0), dim=0, norm="forward")


class FLCPooling(nn.Module):
    """Frequency low-cut pooling (Grabinski et al., ECCV 2022): parameter-free, alias-free 2× downsampling.

    For each channel of an H×W map (H, W even):

        X = fftshift(FFT₂(x) / (H·W))                 (forward-normalised spectrum, DC at the centre)
        y = Re( IFFT₂( ifftshift( X[H/4 : 3H/4, W/4 : 3W/4] ) ) · 1 )   (inverse not normalised)

    so frequencies −H/4 … H/4−1 (per axis) are kept and all others removed; a constant map stays the same
    constant and a map made only of kept frequencies comes out equal to its sub-sampling x[::2, ::2].

    The 2-D operator is separable, y = Re(A x Bᵀ) with complex A (H/2×H) and B (W/2×W), so we compute
    y = Aᵣ x Bᵣᵀ − Aᵢ x Bᵢᵀ with real matrices derived from the FFT definition: on small maps on the CPU this
    is several times faster than the FFTs and equal to them up to float rounding (tested).
    """

    def __init__(self) -> None:
        super().__init__()
        self._matrices: dict[tuple[int, int, torch.dtype, torch.device], tuple[torch.Tensor, ...]] = {}

    def _get(self, h: int, w: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        key = (h, w, like.dtype, like.device)
        if key not in self._matrices:
            a, b = _flc_matrix(h), _flc_matrix(w)
            self._matrices[key] = tuple(m.to(like.device, like.dtype) for m in (a.real, a.imag, b.real, b.imag))
        return self._matrices[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h % 2 or w % 2:
            raise ValueError(f"FLC pooling needs even spatial sizes, got {h}×{w}")
        ar, ai, br, bi = self._get(h, w, x)
        return ar @ x @ br.T - ai @ x @ bi.T


class PSSiLU(nn.Module):
    """Parametric shifted SiLU (Dai et al. 2021): f(x) = x · (σ(|α|·x) − |β|) / (1 − |β|).

    ``α`` (init 1) sets the slope of the gate, ``β`` (init 1e-8) lets the output go negative; both are
    learnable scalars of this instance.
    """

    def __init__(self, alpha: float = 1.0, beta: float = 1e-8) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.tensor([alpha]))
        self.beta = nn.Parameter(torch.tensor([beta]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        beta = self.beta.abs()
        return x * (torch.sigmoid(self.alpha.abs() * x) - beta) / (1 - beta)


class Normalize(nn.Module):
    """(x − mean) / std per channel, so that models take inputs in [0, 1]."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std
