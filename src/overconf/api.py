"""The few public entry points, re-exported by ``overconf``: benchmark a model, evaluate it under one
perturbation, run a spec / the demo / a zoo, read records, summarise and report.

>>> import overconf
>>> overconf.summary_table is summary_table and sorted(overconf.__all__) == sorted(__all__)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from torch import nn
from torch.utils.data import Dataset

from overconf.data.base import DEFAULT_EPS
from overconf.data.mapped import as_image_set
from overconf.evaluation import engine
from overconf.evaluation.records import ModelInfo
from overconf.metrics import summary_table
from overconf.perturb import create_perturbation
from overconf.perturb.base import Perturbation
from overconf.report import build_report
from overconf.run.demo import run_demo
from overconf.run.local import GridModel, run_grid
from overconf.run.runner import run_spec
from overconf.run.spec import load_spec
from overconf.run.zoo import evaluate_zoo
from overconf.store.parquet import read_records
from overconf.zoo.loaders import load_model

__all__ = [
    "GridModel",
    "ModelInfo",
    "benchmark",
    "build_report",
    "create_perturbation",
    "evaluate",
    "evaluate_zoo",
    "load_model",
    "load_spec",
    "read_records",
    "run_demo",
    "run_grid",
    "run_spec",
    "summary_table",
]


def evaluate(
    model: nn.Module,
    dataset: Dataset[Any],
    perturbation: str | Perturbation = "clean",
    *,
    info: ModelInfo | None = None,
    n_examples: int | None = None,
    eps: float | None = None,
    batch_size: int = 256,
    device: str = "auto",
    seed: int = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """Records (one row per sample: label, prediction, confidence, correct, logits) of ``model`` on the
    first ``n_examples`` of ``dataset`` under ``perturbation`` (a spec string such as ``"pgd:steps=20"`` or
    a perturbation object). ``dataset``: any map-style dataset of ``(x, y)`` or ``(x, y, index)`` with
    images C×H×W in [0, 1]; ``eps`` defaults to the data set's budget (8/255 for unnamed data).

    >>> import torch, overconf
    >>> data = torch.utils.data.TensorDataset(torch.rand(6, 1, 8, 8), torch.arange(6) % 2)
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 2))
    >>> records = overconf.evaluate(net, data, "pgd:steps=2", device="cpu")
    >>> len(records), sorted(set(records["perturbation"]))
    (6, ['pgd:steps=2'])
    >>> overconf.summary_table(records)[["model", "n"]].to_dict("records")
    [{'model': 'model', 'n': 6}]
    """
    data = as_image_set(dataset, name=info.dataset if info else None)
    if n_examples is not None and n_examples > len(data):
        from overconf.errors import DataError

        raise DataError(f"n_examples = {n_examples} but the data set holds only {len(data)} samples")
    data = data.subset(n_examples)
    if isinstance(perturbation, str):
        perturbation = create_perturbation(perturbation, eps=eps if eps is not None else DEFAULT_EPS.get(data.name, 8 / 255))
    info = info or ModelInfo("model", "model", False, data.name)
    table = engine.evaluate(model, info, data, perturbation, batch_size=batch_size, device=engine.resolve_device(device),
                            seed=seed, progress=progress)
    return table.to_pandas()


def benchmark(
    model: nn.Module,
    dataset: Dataset[Any],
    perturbations: Sequence[str | Perturbation] = ("clean",),
    *,
    n_examples: int | None = None,
    n_per_family: dict[str, int] | None = None,
    name: str = "model",
    robust: bool = False,
    dataset_name: str | None = None,
    eps: float | None = None,
    batch_size: int = 256,
    device: str = "auto",
    seed: int = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """The summary (one row per perturbation: accuracy, ECE, o(f), u(f), AUROC, ...; see
    :func:`overconf.metrics.summary_table`) of ``model`` on ``dataset`` under ``perturbations``, as
    RobustBench's ``benchmark`` is for robust accuracy. ``n_per_family`` limits a family (``attack``,
    ``corruption``, ``ood``) to the first n samples; the records are computed in memory.

    >>> import torch, overconf
    >>> data = torch.utils.data.TensorDataset(torch.rand(8, 3, 8, 8), torch.arange(8) % 4)
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 4))
    >>> table = overconf.benchmark(net, data, ["clean", "fog:severity=2", "ood-uniform"], device="cpu")
    >>> table["perturbation"].tolist(), table["n"].tolist()
    (['clean', 'fog:severity=2', 'ood-uniform'], [8, 8, 8])
    """
    data = as_image_set(dataset, name=dataset_name)
    info = ModelInfo(name, name, robust, dataset_name or data.name)
    frames = []
    for spec in perturbations:
        built = create_perturbation(spec, eps=eps if eps is not None else DEFAULT_EPS.get(info.dataset, 8 / 255)) \
            if isinstance(spec, str) else spec
        n = (n_per_family or {}).get(built.family, n_examples)
        frames.append(evaluate(model, data, built, info=info, n_examples=n, batch_size=batch_size, device=device,
                               seed=seed, progress=progress))
    order = {p: i for i, p in enumerate(f["perturbation"].iloc[0] for f in frames)}
    table = summary_table(pd.concat(frames, ignore_index=True))
    return table.sort_values("perturbation", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
