"""What is registered, for ``overconf perturbations``: name, family, parameters with their defaults."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from overconf.perturb.base import PERTURBATIONS, create_perturbation


@dataclass(frozen=True)
class Entry:
    name: str
    family: str
    parameters: str  # "steps=20 norm='linf' ..."; eps defaults to the data set's budget
    summary: str


def list_perturbations() -> list[Entry]:
    """One entry per registered perturbation, by family then name.

    >>> [e.name for e in list_perturbations() if e.family == "clean"]
    ['clean']
    """
    entries = []
    for name in PERTURBATIONS.names():
        factory = PERTURBATIONS.get(name)
        params = [p for p in inspect.signature(factory).parameters.values() if p.name != "default_eps"]
        shown = " ".join(f"{p.name}={'<data set eps>' if p.name == 'eps' else repr(p.default)}" for p in params)
        perturbation = create_perturbation(name, 0.1)  # any valid budget: only the family is read
        doc = inspect.getdoc(factory) or inspect.getdoc(type(perturbation)) or ""
        entries.append(Entry(name, perturbation.family, shown, " ".join(doc.split("\n\n")[0].split())))
    order = {"clean": 0, "attack": 1, "corruption": 2, "ood": 3}
    return sorted(entries, key=lambda e: (order.get(e.family, 9), e.name))
