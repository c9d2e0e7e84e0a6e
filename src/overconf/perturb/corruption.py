"""The 15 common corruptions as registered perturbations of family ``corruption``.

Spec: ``<corruption>[:severity=1..5]``, e.g. ``fog:severity=5``; the default severity is 3, the middle of
the five (CIFAR-10-C results are usually averaged over all five: evaluate each severity as its own spec).
The corruption does not look at the model; its randomness comes from the engine's generator, one seed
per image in order (:func:`overconf.data.corruptions.image_seeds`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from overconf.data.corruptions import CORRUPTIONS, FUNCTIONS, check_corruption, corrupt, corrupt_seeded
from overconf.errors import ConfigError
from overconf.perturb.base import PERTURBATIONS

DEFAULT_SEVERITY = 3


@dataclass
class Corruption:
    """``corrupt(x, name, severity)`` as a perturbation."""

    name: str
    severity: int = DEFAULT_SEVERITY
    label: str = ""
    family: str = "corruption"

    def __post_init__(self) -> None:
        self.label = self.label or f"{self.name}:severity={self.severity}"

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return corrupt(x, self.name, self.severity, generator)

    def apply_seeded(self, x: torch.Tensor, seeds: Sequence[int]) -> torch.Tensor:
        """The same corruption with per-image seeds drawn up front: what the engine's worker processes run
        (``seeds = image_seeds(len(dataset), generator)`` gives the records of ``__call__`` batch by batch)."""
        return corrupt_seeded(x, self.name, self.severity, seeds)


def _factory(name: str) -> Callable[..., Corruption]:
    def make(default_eps: float, severity: int = DEFAULT_SEVERITY) -> Corruption:
        return Corruption(name, check_corruption(name, severity))

    make.__name__ = f"make_{name}"
    make.__doc__ = (FUNCTIONS[name].__doc__ or name).strip()
    return make


for _name in CORRUPTIONS:
    PERTURBATIONS.register(_name)(_factory(_name))


@dataclass
class Pregenerated:
    """The identity, labelled as a corruption: the perturbation to evaluate a pre-generated corrupted set
    (CIFAR-10-C, ImageNet-C: :mod:`overconf.data.corrupted`) with, so that its records carry the same
    label and family as the same corruption generated here."""

    name: str
    severity: int
    label: str = ""
    family: str = "corruption"

    def __post_init__(self) -> None:
        self.label = self.label or f"{self.name}:severity={self.severity}"

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return x


def pregenerated(name: str, severity: int) -> Pregenerated:
    """See :class:`Pregenerated`; ``name`` may be any corruption of the published sets (19 for CIFAR-10-C)."""
    if not isinstance(severity, int) or isinstance(severity, bool) or not 1 <= severity <= 5:
        raise ConfigError(f"severity {severity!r} of {name} is not one of 1, 2, 3, 4, 5")
    return Pregenerated(name, severity)
