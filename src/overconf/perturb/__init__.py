"""Perturbations: clean, attacks (PGD, FGSM, the AutoAttack family), corruptions and OOD sets.

Importing the package registers them all in :data:`overconf.perturb.base.PERTURBATIONS`; build one from a
spec string with :func:`overconf.perturb.base.create_perturbation` (e.g. ``"pgd:steps=50"``).
"""

from overconf.perturb import attacks, autoattack, corruption, ood  # noqa: F401  (registration)
from overconf.perturb.base import PERTURBATIONS, Perturbation, create_perturbation, parse_spec
from overconf.perturb.pgd import fgsm, pgd

__all__ = ["PERTURBATIONS", "Perturbation", "create_perturbation", "fgsm", "parse_spec", "pgd"]
