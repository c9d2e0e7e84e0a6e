"""The engine: run one model on one data set under one perturbation and return its records."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from overconf.data.base import ImageSet
from overconf.errors import ConfigError
from overconf.evaluation.records import OOD_LABEL, ModelInfo, make_records
from overconf.perturb.base import Perturbation


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu."""
    if device != "auto":
        try:
            chosen = torch.device(device)
        except RuntimeError:
            raise ConfigError(f"unknown device {device!r}", hint="use auto, cpu, cuda, cuda:N or mps") from None
        if chosen.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"device {device!r} asked for, but CUDA is not available", hint="use --device auto or cpu")
        if chosen.type == "mps" and not torch.backends.mps.is_available():
            raise ConfigError(f"device {device!r} asked for, but MPS is not available", hint="use --device auto or cpu")
        return chosen
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def evaluate(
    model: nn.Module,
    info: ModelInfo,
    dataset: ImageSet,
    perturbation: Perturbation,
    *,
    batch_size: int = 500,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: bool = True,
) -> pa.Table:
    """Records (see :mod:`overconf.evaluation.records`) of ``model`` on ``perturbation(dataset)``.

    The batch order is fixed and the perturbation's random numbers come from one generator seeded with
    ``seed``, so a run on CPU is reproducible bit for bit. The model is left in the train/eval mode it had.
    """
    device = torch.device(device)
    was_training = model.training
    model.eval().to(device)
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0)
    indices, labels, logits = [], [], []
    try:
        for x, y, index in tqdm(loader, desc=f"{info.model} · {perturbation.label}", disable=None if progress else True, leave=False):
            x, y = x.to(device), y.to(device)
            x_eval = perturbation(model, x, y, generator)
            with torch.no_grad():
                out = model(x_eval)
            indices.append(index.numpy())
            labels.append(y.cpu().numpy())
            logits.append(out.float().cpu().numpy())
    finally:
        model.train(was_training)
    label = np.concatenate(labels)
    if perturbation.family == "ood":
        label = np.full_like(label, OOD_LABEL)
    return make_records(info, perturbation.label, perturbation.family, np.concatenate(indices), label, np.concatenate(logits))
