"""The few public entry points, re-exported by ``overconf``: benchmark a model, evaluate it under one
perturbation, run a spec / the demo / a zoo, read records, summarise and report.

>>> import overconf
>>> overconf.summary_table is summary_table and sorted(overconf.__all__) == sorted(__all__)
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.utils.data import Dataset

from overconf.data.mapped import DEFAULT_KEYS, as_image_set
from overconf.errors import ConfigError, DataError, ModelOutputError
from overconf.evaluation import engine
from overconf.evaluation.records import ModelInfo
from overconf.evaluation.runtime import resolve_device
from overconf.evaluation.shapes import explain_shape_error
from overconf.metrics import summary_table
from overconf.models.blocks import Normalize
from overconf.perturb import create_perturbation
from overconf.perturb.base import Perturbation
from overconf.report import build_report
from overconf.report.tables import write_summary
from overconf.run.demo import run_demo
from overconf.run.execute import RunResult, execute
from overconf.run.grid import grid_plan, run_grid
from overconf.run.models import GridModel
from overconf.run.runner import run_spec
from overconf.run.spec import load_spec
from overconf.run.zoo import evaluate_zoo
from overconf.store.parquet import read_records
from overconf.vocabulary import BATCH_SIZE, DEVICE, SEED, default_eps, family_limits
from overconf.zoo.loaders import load_model

__all__ = [
    "GridModel",
    "ModelInfo",
    "benchmark",
    "build_report",
    "compare",
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
    batch_size: int = BATCH_SIZE,
    device: str = DEVICE,
    seed: int = SEED,
    progress: bool = False,
    num_classes: int | None = None,
    keys: tuple[str, str] = DEFAULT_KEYS,
) -> pd.DataFrame:
    """Records (one row per sample: label, prediction, confidence, correct, logits) of ``model`` on the
    first ``n_examples`` of ``dataset`` under ``perturbation`` (a spec string such as ``"pgd:steps=20"`` or
    a perturbation object). ``dataset``: any map-style dataset of ``(x, y)`` or ``(x, y, index)`` with
    images C×H×W float in [0, 1], or of dict rows (``keys``: image and label keys; images PIL, arrays or
    tensors), checked as read (:mod:`overconf.data.mapped`); ``num_classes`` defaults to what the data says,
    and the model's logits must have that many columns; ``eps`` defaults to the data set's budget (8/255 for
    unnamed data).

    >>> import torch, overconf
    >>> data = torch.utils.data.TensorDataset(torch.rand(6, 1, 8, 8), torch.arange(6) % 2)
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 2))
    >>> records = overconf.evaluate(net, data, "pgd:steps=2", device="cpu")
    >>> len(records), sorted(set(records["perturbation"]))
    (6, ['pgd:steps=2'])
    >>> overconf.summary_table(records)[["model", "n"]].to_dict("records")
    [{'model': 'model', 'n': 6}]
    """
    data = as_image_set(dataset, name=info.dataset if info else None, num_classes=num_classes, keys=keys, infer=True)
    if n_examples is not None and n_examples > len(data):
        raise DataError(f"n_examples = {n_examples} but the data set holds only {len(data)} samples")
    data = data.subset(n_examples)
    if isinstance(perturbation, str):
        perturbation = create_perturbation(perturbation, eps=eps if eps is not None else default_eps(data.name))
    info = info or ModelInfo("model", "model", False, data.name)
    try:
        table = engine.evaluate(model, info, data, perturbation, batch_size=batch_size,
                                device=resolve_device(device), seed=seed, progress=progress)
    except ModelOutputError as exc:
        if num_classes is None and "logits for a" in exc.message:
            exc.hint = (f"the data's labels say {data.num_classes} classes; if the data lacks some of the model's "
                        "classes, pass num_classes=<the model's>")
        raise
    except RuntimeError as exc:  # a shape mismatch between data and model, said in words
        words = explain_shape_error(exc, data)
        if words is None:
            raise
        raise DataError(f"{info.model} on {data.name}: {words}") from exc
    return table.to_pandas()


def benchmark(
    model: nn.Module,
    dataset: Dataset[Any],
    perturbations: Sequence[str | Perturbation] = ("clean",),
    *,
    n_examples: int | Mapping[str, int | None] | None = None,
    name: str = "model",
    robust: bool = False,
    dataset_name: str | None = None,
    eps: float | None = None,
    batch_size: int = BATCH_SIZE,
    device: str = DEVICE,
    seed: int = SEED,
    progress: bool = False,
    num_classes: int | None = None,
    keys: tuple[str, str] = DEFAULT_KEYS,
    n_per_family: Mapping[str, int | None] | None = None,
) -> pd.DataFrame:
    """The summary (one row per perturbation: accuracy, ECE, o(f), u(f), AUROC, ...; see
    :func:`overconf.metrics.summary_table`) of ``model`` on ``dataset`` under ``perturbations``, as
    RobustBench's ``benchmark`` is for robust accuracy. ``n_examples``: every perturbation on the first n
    samples, or a mapping that limits families (``{"attack": 100}``, as a spec's ``[perturbations]
    n_examples``; ``n_per_family`` is its deprecated name); the records are computed in memory. ``dataset``,
    ``num_classes`` and ``keys`` as for :func:`evaluate`.

    >>> import torch, overconf
    >>> data = torch.utils.data.TensorDataset(torch.rand(8, 3, 8, 8), torch.arange(8) % 4)
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 4))
    >>> table = overconf.benchmark(net, data, ["clean", "fog:severity=2", "ood-uniform"], device="cpu")
    >>> table["perturbation"].tolist(), table["n"].tolist()
    (['clean', 'fog:severity=2', 'ood-uniform'], [8, 8, 8])
    """
    data = as_image_set(dataset, name=dataset_name, num_classes=num_classes, keys=keys, infer=True)
    info = ModelInfo(name, name, robust, dataset_name or data.name)
    limits = family_limits(n_examples, n_per_family=n_per_family)
    frames = []
    for spec in perturbations:
        built = create_perturbation(spec, eps=eps if eps is not None else default_eps(info.dataset)) \
            if isinstance(spec, str) else spec
        n = limits.get(built.family)
        frames.append(evaluate(model, data, built, info=info, n_examples=n, batch_size=batch_size, device=device,
                               seed=seed, progress=progress))
    order = {p: i for i, p in enumerate(f["perturbation"].iloc[0] for f in frames)}
    table = summary_table(pd.concat(frames, ignore_index=True))
    return table.sort_values("perturbation", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def compare(
    robust: nn.Module,
    normal: nn.Module,
    dataset: Dataset[Any],
    perturbations: Sequence[str] = ("clean",),
    *,
    out: Path | str,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    name: str = "pair",
    dataset_name: str | None = None,
    num_classes: int | None = None,
    keys: tuple[str, str] = DEFAULT_KEYS,
    n_examples: int | Mapping[str, int | None] | None = None,
    eps: float | None = None,
    batch_size: int = BATCH_SIZE,
    device: str = DEVICE,
    seed: int = SEED,
    progress: bool = False,
    overwrite: bool = False,
    report: bool = True,
    n_per_family: Mapping[str, int | None] | None = None,
) -> RunResult:
    """Evaluate a robust model and its normally trained twin on ``dataset`` under ``perturbations`` into the
    run folder ``out``: records, ``run.json``, ``summary.csv`` and the paired report, as a one-pair spec
    writes them (a rerun resumes; another configuration is refused unless ``overwrite``). ``mean``/``std``
    put a normalisation layer in front of both models (images stay in [0, 1]); ``dataset``, ``num_classes``
    and ``keys`` as for :func:`evaluate`; ``n_examples`` as for :func:`benchmark`. The models are named
    ``<name>-robust`` and ``<name>-normal``.

    A model that fails is a :class:`~overconf.errors.ConfigError` naming it, after the other's cells are
    written.
    """
    if (mean is None) != (std is None) or (mean is not None and std is not None and len(mean) != len(std)):
        raise ConfigError("mean and std go together, one number per channel each")
    data = as_image_set(dataset, name=dataset_name, num_classes=num_classes, keys=keys, infer=True)
    if mean is not None and len(data) and len(mean) != data[0][0].shape[0]:
        raise ConfigError(f"compare: mean/std have {len(mean)} values, the data has {data[0][0].shape[0]} channel(s)",
                          hint="give mean and std one value per channel")
    models = []
    for net, is_robust in ((normal, False), (robust, True)):
        if not isinstance(net, nn.Module):
            raise ConfigError(f"compare: the {'robust' if is_robust else 'normal'} model is a {type(net).__name__}, "
                              "not an nn.Module")
        wrapped = net if mean is None else nn.Sequential(Normalize(tuple(mean), tuple(std or ())), net)
        info = ModelInfo(f"{name}-{'robust' if is_robust else 'normal'}", name, is_robust, dataset_name or data.name)
        identity = {"parameters_sha256": _parameters_sha256(wrapped)}
        models.append(GridModel(info, wrapped.eval, identity))
    plan = grid_plan(models, data, list(perturbations), n_examples=family_limits(n_examples, n_per_family=n_per_family),
                     eps=eps, batch_size=batch_size, device=resolve_device(device), seed=seed)
    result = execute(plan, Path(out), command="overconf.compare", overwrite=overwrite, progress=progress)
    if any(Path(out, "records").glob("*/*.parquet")):
        result.report = build_report(Path(out)) if report else None
        if not report:
            write_summary(Path(out))
    summary = result.failure_summary()
    if summary is not None:
        raise ConfigError(summary, hint=f"the tracebacks are in {Path(out) / 'logs'}")
    return result


def _parameters_sha256(model: nn.Module) -> str:
    """SHA-256 over a model's state (names, shapes, bytes): its identity in the run's records."""
    import hashlib

    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        tensor = value.detach().cpu().contiguous()
        digest.update(f"{key}\t{tuple(tensor.shape)}\t{tensor.dtype}\n".encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()
