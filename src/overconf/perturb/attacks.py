"""Registered perturbations ``clean``, ``fgsm`` and ``pgd`` (our own :mod:`overconf.perturb.pgd`).

Budgets are in pixel units of [0, 1]; ``eps`` defaults to the data set's L∞ budget
(:data:`overconf.data.DEFAULT_EPS`). Spec strings (``overconf perturbations`` lists them):

- ``clean``: the input as it is.
- ``fgsm[:eps=…][:step_size=…][:random_start=true]``: one signed-gradient step (default size ε).
- ``pgd[:eps=…][:steps=20][:step_size=…][:norm=linf|l2][:random_start=true][:restarts=1][:keep=last|worst]``:
  L∞ or L2 PGD on the cross-entropy. Defaults: 20 steps (the PGD-20 evaluation of TRADES and Rice et
  al. 2020), step size ``2.5 · ε / steps`` (Madry et al. 2018), one random start. ``keep=last`` (default)
  returns the iterate after the last step, the adversarial example whose confidence the paper studies;
  ``pgd:keep=worst`` is the robust-accuracy mode (per sample the misclassified point if any was found,
  else the highest-loss point; see :func:`overconf.perturb.pgd.pgd`). L2 needs an explicit ``eps``
  (RobustBench's L2 budget on CIFAR is 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from overconf.errors import ConfigError
from overconf.perturb.base import PERTURBATIONS
from overconf.perturb.pgd import Keep, Norm, check_args, fgsm, pgd
from overconf.validate import check_positive

PGD_STEPS = 20
STEP_SIZE_FACTOR = 2.5  # step size = 2.5 · ε / steps


@dataclass
class Clean:
    """The identity: records of the unperturbed test set."""

    label: str = "clean"
    family: str = "clean"

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return x


@dataclass
class FGSM:
    """:func:`overconf.perturb.pgd.fgsm` with fixed parameters."""

    eps: float
    step_size: float
    random_start: bool = False
    label: str = "fgsm"
    family: str = "attack"

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return fgsm(model, x, y, eps=self.eps, step_size=self.step_size, random_start=self.random_start, generator=generator)


@dataclass
class PGD:
    """:func:`overconf.perturb.pgd.pgd` with fixed parameters (evaluation: model in eval mode)."""

    eps: float
    steps: int
    step_size: float
    norm: Norm = "linf"
    random_start: bool = True
    restarts: int = 1
    keep: Keep = "last"
    label: str = "pgd"
    family: str = "attack"

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return pgd(
            model, x, y, eps=self.eps, step_size=self.step_size, steps=self.steps, norm=self.norm,
            random_start=self.random_start, restarts=self.restarts, keep=self.keep, generator=generator,
        )


def as_number(name: str, value: object, kind: type[int | float]) -> int | float:
    """``value`` as an int or float, or a :class:`ConfigError` naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
        raise ConfigError(f"parameter {name}={value!r} must be a{'n integer' if kind is int else ' number'}")
    return kind(value)


def resolve_eps(eps: float | None, default_eps: float, norm: str) -> float:
    """The budget to use: ``eps`` if given; else the data set's L∞ default, which is no L2 budget.
    Either must be a finite number > 0."""
    if eps is not None:
        return check_positive("eps", as_number("eps", eps, float))
    if norm == "l2":
        raise ConfigError("an L2 attack needs an explicit eps", hint="e.g. pgd:norm=l2:eps=0.5 (RobustBench's CIFAR L2 budget)")
    return check_positive("eps", default_eps)


@PERTURBATIONS.register("clean")
def make_clean(default_eps: float) -> Clean:
    """The unperturbed test set."""
    return Clean()


@PERTURBATIONS.register("fgsm")
def make_fgsm(default_eps: float, eps: float | None = None, step_size: float | None = None, random_start: bool = False) -> FGSM:
    """FGSM, L∞: one signed-gradient step of step_size (default ε); random_start=true for FGSM-RS."""
    eps_ = resolve_eps(eps, default_eps, "linf")
    step = eps_ if step_size is None else float(as_number("step_size", step_size, float))
    check_args(eps_, step, 1, "linf", 1, "last")
    return FGSM(eps_, step, bool(random_start))


@PERTURBATIONS.register("pgd")
def make_pgd(
    default_eps: float,
    eps: float | None = None,
    steps: int = PGD_STEPS,
    step_size: float | None = None,
    norm: Norm = "linf",
    random_start: bool = True,
    restarts: int = 1,
    keep: Keep = "last",
) -> PGD:
    """PGD on the cross-entropy, L∞ or L2; step size 2.5·ε/steps; keep=last (final iterate) | worst (robust acc.)."""
    eps_ = resolve_eps(eps, default_eps, norm)
    steps_, restarts_ = int(as_number("steps", steps, int)), int(as_number("restarts", restarts, int))
    step = STEP_SIZE_FACTOR * eps_ / max(steps_, 1) if step_size is None else float(as_number("step_size", step_size, float))
    check_args(eps_, step, steps_, norm, restarts_, keep)
    return PGD(eps_, steps_, step, norm, bool(random_start), restarts_, keep)
