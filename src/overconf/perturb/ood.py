"""Out-of-distribution sets as perturbations of family ``ood``: they replace the batch with OOD images of
the same shape (:mod:`overconf.data.ood`); the engine records them with label −1.

Specs: ``ood-uniform``, ``ood-gaussian[:mean=0.5][:std=1]``, ``ood-digits``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from overconf.data.ood import OOD_SETS
from overconf.errors import ConfigError
from overconf.perturb.attacks import as_number
from overconf.perturb.base import PERTURBATIONS


@dataclass
class OutOfDistribution:
    """Replace ``x`` by images from the OOD set ``name`` (keyword ``params`` passed to its generator)."""

    name: str
    params: dict[str, float] = field(default_factory=dict)
    label: str = ""
    family: str = "ood"

    def __post_init__(self) -> None:
        self.label = self.label or f"ood-{self.name}"

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        shape = tuple(x.shape)
        if len(shape) != 4:
            raise ConfigError(f"OOD sets replace N×C×H×W batches, got shape {shape}")
        return OOD_SETS[self.name](shape, generator, **self.params).to(device=x.device, dtype=x.dtype)


@PERTURBATIONS.register("ood-uniform")
def make_ood_uniform(default_eps: float) -> OutOfDistribution:
    """i.i.d. U(0, 1) pixels."""
    return OutOfDistribution("uniform")


@PERTURBATIONS.register("ood-gaussian")
def make_ood_gaussian(default_eps: float, mean: float = 0.5, std: float = 1.0) -> OutOfDistribution:
    """i.i.d. N(mean, std²) pixels clipped to [0, 1] (Outlier Exposure's Gaussian outliers)."""
    std_ = float(as_number("std", std, float))
    if std_ < 0:
        raise ConfigError(f"parameter std={std_} must be non-negative")
    return OutOfDistribution("gaussian", {"mean": float(as_number("mean", mean, float)), "std": std_})


@PERTURBATIONS.register("ood-digits")
def make_ood_digits(default_eps: float) -> OutOfDistribution:
    """scikit-learn's 8×8 handwritten digits, resized to the input size and channel count."""
    return OutOfDistribution("digits")
