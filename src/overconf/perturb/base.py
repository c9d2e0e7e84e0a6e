"""What a perturbation is, and the registry that names them.

A perturbation maps a batch ``x`` (N×C×H×W in [0, 1]) with labels ``y`` to the batch the model is
evaluated on. One interface serves every family so that one engine and one record format serve all:

- ``clean``: returns ``x``;
- ``attack``: white- or black-box adversarial examples for ``model`` (inputs stay in [0, 1], within ε);
- ``corruption``: a model-independent corruption at a severity;
- ``ood``: replaces ``x`` with out-of-distribution images of the same shape (records get label −1).

Factories are registered by name and take keyword parameters; ``eps`` is filled from the data set's
default budget (:data:`overconf.data.DEFAULT_EPS`) when the user does not give one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from overconf.errors import ConfigError
from overconf.registry import Registry
from overconf.validate import did_you_mean


@runtime_checkable
class Perturbation(Protocol):
    """``label`` names it in records; ``family`` is one of clean / attack / corruption / ood."""

    label: str
    family: str

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        ...


@runtime_checkable
class SeededPerImage(Protocol):
    """A model-free perturbation whose image i depends only on its own seed (the corruptions): the engine
    draws one seed per image up front (:func:`overconf.data.corruptions.image_seeds`, the same stream
    ``__call__`` draws batch by batch) and applies it in its data-loading worker processes."""

    def apply_seeded(self, x: torch.Tensor, seeds: Sequence[int]) -> torch.Tensor:
        ...


PERTURBATIONS: Registry[Perturbation] = Registry("perturbation")


@dataclass(frozen=True)
class PerturbationSpec:
    """A parsed ``name[:key=value[:key=value...]]`` string, e.g. ``pgd:steps=50:eps=0.03``."""

    name: str
    params: dict[str, str]

    @property
    def label(self) -> str:
        return ":".join([self.name, *(f"{k}={v}" for k, v in sorted(self.params.items()))])


def parse_spec(text: str) -> PerturbationSpec:
    """Parse one perturbation spec.

    >>> parse_spec("pgd:steps=50:eps=8/255").label
    'pgd:eps=8/255:steps=50'
    """
    name, *parts = text.strip().split(":")
    params: dict[str, str] = {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or not key or not value:
            raise ConfigError(f"bad perturbation parameter {part!r} in {text!r}", hint="write name:key=value, e.g. pgd:steps=50")
        params[key] = value
    return PerturbationSpec(name, params)


def parse_value(value: str) -> float | int | bool | str:
    """Turn a CLI parameter into a number or bool where it is one; fractions like ``8/255`` are allowed."""
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(value)
    except ValueError:
        pass
    try:
        if "/" in value:
            num, den = value.split("/", 1)
            return float(num) / float(den)
        return float(value)
    except ValueError:
        return value


def _check_parameter_names(spec: PerturbationSpec, factory: Any) -> None:
    """:class:`ConfigError` for a parameter the factory does not take, with the closest one it does."""
    import inspect

    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return
    known = [p.name for p in parameters if p.name != "default_eps" and p.kind is not inspect.Parameter.VAR_POSITIONAL]
    for key in spec.params:
        if key not in known:
            suggestion = did_you_mean(key, known)
            raise ConfigError(f"perturbation {spec.label!r}: unknown parameter {key!r}"
                              + (f"; {suggestion}" if suggestion else ""),
                              hint=f"{spec.name} takes {', '.join(known) or 'no parameters'}"
                              " (`overconf perturbations` lists them with their defaults)")


def create_perturbation(text: str, eps: float) -> Perturbation:
    """Build the perturbation named by a spec string; ``eps`` is the default L∞/L2 budget for attacks."""
    spec = parse_spec(text)
    factory = PERTURBATIONS.get(spec.name)
    params = {k: parse_value(v) for k, v in spec.params.items()}
    for key, value in params.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"perturbation {text!r}: {key}={spec.params[key]} must be a finite number",
                              hint=f"`overconf perturbations` lists the parameters of {spec.name!r} and their defaults")
    _check_parameter_names(spec, factory)
    try:
        perturbation = factory(default_eps=eps, **params)
    except TypeError as exc:
        raise ConfigError(f"bad parameters for perturbation {spec.name!r}: {exc}", hint="see `overconf perturbations`") from None
    except ConfigError as exc:
        if exc.hint is None:
            exc.hint = f"`overconf perturbations` lists the parameters of {spec.name!r} and their defaults"
        raise
    if spec.params or not getattr(perturbation, "label", ""):  # a factory may name its defaults (fog → fog:severity=3)
        perturbation.label = spec.label if spec.params else spec.name
    return perturbation
