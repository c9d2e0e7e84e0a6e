"""Grids built in Python (a front end): models (:class:`~overconf.run.models.GridModel`, with loaders) × one data
set × perturbation specs, through the same resume loop as every run (:func:`overconf.run.execute.execute`,
local back end)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from overconf.data.base import ImageSet
from overconf.run.data import expand_perturbations, fingerprint
from overconf.run.execute import execute
from overconf.run.models import GridModel
from overconf.run.plan import Plan, build_cells
from overconf.store.identity import canonical
from overconf.vocabulary import BATCH_SIZE, ENGINE_DEFAULTS, SEED, default_eps, family_limits


def run_grid(
    models: Sequence[GridModel],
    dataset: ImageSet,
    perturbations: Sequence[str],
    out: Path,
    *,
    n_examples: int | Mapping[str, int | None] | None = None,
    eps: float | None = None,
    batch_size: int = BATCH_SIZE,
    device: torch.device | str = "cpu",
    seed: int = SEED,
    progress: bool = True,
    overwrite: bool = False,
    n_per_family: Mapping[str, int | None] | None = None,
) -> list[Path]:
    """Evaluate every model under every perturbation, writing one record file per cell; return the files written.

    Finished cells with the same configuration are skipped, so an interrupted run resumes where it stopped.
    ``n_examples`` limits a family (``attack``, ``corruption``, ``ood``: the costly ones) to the first n samples,
    as a spec's ``[perturbations] n_examples`` (an int: every family); ``n_per_family`` is its deprecated name.
    """
    plan = grid_plan(models, dataset, perturbations, n_examples=family_limits(n_examples, n_per_family=n_per_family),
                     eps=eps, batch_size=batch_size, device=device, seed=seed)
    return execute(plan, Path(out), command="overconf.run_grid", overwrite=overwrite, progress=progress).written


def grid_plan(
    models: Sequence[GridModel],
    dataset: ImageSet,
    perturbations: Sequence[str],
    *,
    n_examples: int | Mapping[str, int | None] | None = None,
    eps: float | None = None,
    batch_size: int = BATCH_SIZE,
    device: torch.device | str = "cpu",
    seed: int = SEED,
    n_per_family: Mapping[str, int | None] | None = None,
) -> Plan:
    """The :class:`~overconf.run.plan.Plan` of :func:`run_grid` (nothing is loaded or written)."""
    per_family = family_limits(n_examples, n_per_family=n_per_family)
    eps = default_eps(dataset.name) if eps is None else eps
    planned = expand_perturbations(list(perturbations), dataset.name, None, eps)
    plan_models = list(models)
    engine = {**ENGINE_DEFAULTS, "batch_size": batch_size, "device": torch.device(device)}
    data_identity = {"dataset": dataset.name, "fingerprint": fingerprint(dataset), "size": len(dataset),
                     "n_examples": len(dataset)}
    cells = build_cells(plan_models, dataset, data_identity, planned, per_family, engine, seed)
    plan = Plan("grid", plan_models, cells, {"name": dataset.name, "sha256": data_identity["fingerprint"],
                                             "size": len(dataset), "n_examples": len(dataset)},
                engine, canonical({"eps": eps, "batch_size": batch_size, "device": str(device),
                                   "n_examples": per_family or None}), seed)
    return plan
