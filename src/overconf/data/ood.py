"""Out-of-distribution images shaped like the in-distribution batch they replace (N×C×H×W in [0, 1]).

- ``uniform``: i.i.d. U(0, 1) pixels;
- ``gaussian``: i.i.d. N(mean, std²) pixels clipped to [0, 1]; mean 0.5, std 1 as the Gaussian outliers of
  Hendrycks et al. (Outlier Exposure, ICLR 2019);
- ``digits``: scikit-learn's 1,797 handwritten digits (8×8, 17 gray levels, shipped with scikit-learn, so
  offline), scaled to [0, 1], resized bilinearly to H×W and repeated over the channels: a real image set
  for Fashion-MNIST (bright strokes on black, like it) or CIFAR.

All draw from the given ``torch.Generator`` on the CPU and return float32 on the requested device.
"""

from __future__ import annotations

from functools import cache

import torch
import torch.nn.functional as F

Shape = tuple[int, int, int, int]


def uniform_images(shape: Shape, generator: torch.Generator | None = None) -> torch.Tensor:
    """U(0, 1) images of ``shape`` (N, C, H, W)."""
    return torch.rand(shape, generator=generator)


def gaussian_images(shape: Shape, generator: torch.Generator | None = None, mean: float = 0.5, std: float = 1.0) -> torch.Tensor:
    """clip(N(mean, std²), 0, 1) images of ``shape``.

    >>> x = gaussian_images((2, 1, 4, 4), torch.Generator().manual_seed(0), mean=0.5, std=0.0)
    >>> bool((x == 0.5).all())
    True
    """
    return (torch.randn(shape, generator=generator) * std + mean).clamp_(0.0, 1.0)


@cache
def _digits() -> torch.Tensor:
    from sklearn.datasets import load_digits

    return torch.from_numpy(load_digits().images).float().div_(16.0).unsqueeze(1)  # 1797×1×8×8 in [0, 1]


def digit_images(shape: Shape, generator: torch.Generator | None = None) -> torch.Tensor:
    """``N`` scikit-learn digits, drawn without replacement within a batch (a fresh permutation per 1,797),
    resized to H×W and repeated over C channels."""
    n, c, h, w = shape
    digits = _digits()
    order = torch.cat([torch.randperm(len(digits), generator=generator) for _ in range(-(-n // len(digits)))])[:n]
    images = F.interpolate(digits[order], size=(h, w), mode="bilinear", align_corners=False).clamp_(0.0, 1.0)
    return images.expand(n, c, h, w).contiguous()


OOD_SETS = {"uniform": uniform_images, "gaussian": gaussian_images, "digits": digit_images}
