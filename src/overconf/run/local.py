"""The local back end: the grid model × perturbation, resumable cell by cell."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from overconf.data.base import DEFAULT_EPS, ImageSet
from overconf.evaluation.engine import evaluate
from overconf.evaluation.records import ModelInfo
from overconf.perturb import create_perturbation  # the package import registers every perturbation
from overconf.store.parquet import has_records, write_records


@dataclass
class GridModel:
    """A model of the grid: who it is, and how to load it (called only if some cell is missing)."""

    info: ModelInfo
    load: Callable[[], nn.Module]


def run_grid(
    models: Sequence[GridModel],
    dataset: ImageSet,
    perturbations: Sequence[str],
    run_dir: Path,
    *,
    n_per_family: Mapping[str, int | None] | None = None,
    eps: float | None = None,
    batch_size: int = 500,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: bool = True,
) -> list[Path]:
    """Evaluate every model under every perturbation, writing one record file per cell.

    Cells whose records already exist are skipped, so an interrupted run resumes where it stopped.
    ``n_per_family`` limits a family (``attack``, ``corruption``, ``ood``: the costly ones) to the first n samples.
    """
    eps = DEFAULT_EPS.get(dataset.name, 8 / 255) if eps is None else eps
    built = [create_perturbation(spec, eps=eps) for spec in perturbations]
    written: list[Path] = []
    for grid_model in models:
        todo = [p for p in built if not has_records(run_dir, grid_model.info.model, p.label)]
        if not todo:
            continue
        model = grid_model.load()
        for perturbation in todo:
            n = (n_per_family or {}).get(perturbation.family)
            table = evaluate(
                model, grid_model.info, dataset.subset(n), perturbation,
                batch_size=batch_size, device=device, seed=seed, progress=progress,
            )
            written.append(write_records(run_dir, table))
    return written
