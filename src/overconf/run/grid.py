"""Grids built in Python (a front end): models (:class:`~overconf.run.models.GridModel`, with loaders) × one data
set × perturbation specs, through the same resume loop as every run (:func:`overconf.run.execute.execute`,
local back end)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from overconf.data.base import DEFAULT_EPS, ImageSet
from overconf.run.data import expand_perturbations, fingerprint
from overconf.run.execute import execute
from overconf.run.models import GridModel
from overconf.run.plan import Plan, build_cells
from overconf.run.spec import ENGINE_DEFAULTS
from overconf.store.identity import canonical


def run_grid(
    models: Sequence[GridModel],
    dataset: ImageSet,
    perturbations: Sequence[str],
    out: Path,
    *,
    n_per_family: Mapping[str, int | None] | None = None,
    eps: float | None = None,
    batch_size: int = 500,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: bool = True,
    overwrite: bool = False,
) -> list[Path]:
    """Evaluate every model under every perturbation, writing one record file per cell; return the files written.

    Finished cells with the same configuration are skipped, so an interrupted run resumes where it stopped.
    ``n_per_family`` limits a family (``attack``, ``corruption``, ``ood``: the costly ones) to the first n samples.
    """
    plan = grid_plan(models, dataset, perturbations, n_per_family=n_per_family, eps=eps, batch_size=batch_size,
                     device=device, seed=seed)
    return execute(plan, Path(out), command="overconf.run_grid", overwrite=overwrite, progress=progress).written


def grid_plan(
    models: Sequence[GridModel],
    dataset: ImageSet,
    perturbations: Sequence[str],
    *,
    n_per_family: Mapping[str, int | None] | None = None,
    eps: float | None = None,
    batch_size: int = 500,
    device: torch.device | str = "cpu",
    seed: int = 0,
) -> Plan:
    """The :class:`~overconf.run.plan.Plan` of :func:`run_grid` (nothing is loaded or written)."""
    eps = DEFAULT_EPS.get(dataset.name, 8 / 255) if eps is None else eps
    planned = expand_perturbations(list(perturbations), dataset.name, None, eps)
    plan_models = list(models)
    engine = {**ENGINE_DEFAULTS, "batch_size": batch_size, "device": torch.device(device)}
    data_identity = {"dataset": dataset.name, "fingerprint": fingerprint(dataset), "size": len(dataset),
                     "n_examples": len(dataset)}
    cells = build_cells(plan_models, dataset, data_identity, planned, {k: v for k, v in (n_per_family or {}).items() if v is not None}, engine, seed)
    plan = Plan("grid", plan_models, cells, {"name": dataset.name, "sha256": data_identity["fingerprint"],
                                             "size": len(dataset), "n_examples": len(dataset)},
                engine, canonical({"eps": eps, "batch_size": batch_size, "device": str(device),
                                   "n_examples": n_per_family}), seed)
    return plan
