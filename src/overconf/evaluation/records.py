"""The record schema: one row per evaluated sample, the contract between models and metrics.

Columns (one name per thing, everywhere):

``model``        model name (unique within a run)
``pair``         pair name, shared by a normal model and its robust twin
``robust``       True for the adversarially trained member of a pair
``dataset``      data set the samples come from (``fashion-mnist``, ``cifar10``, ...)
``perturbation`` canonical perturbation label (``clean``, ``pgd``, ``square``, ``fog:severity=3``,
                 ``ood-uniform``; :func:`overconf.perturb.create_perturbation` gives it)
``family``       ``clean`` | ``attack`` | ``corruption`` | ``ood``
``index``        index of the sample in its data set split
``label``        true class; ``-1`` for out-of-distribution samples (no true class)
``prediction``   arg-max class
``confidence``   maximum softmax probability, computed in float64 from the logits
``correct``      ``prediction == label``
``logits``       the model's raw outputs (float32)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from overconf.vocabulary import FAMILIES

if TYPE_CHECKING:
    import torch

OOD_LABEL = -1

RECORD_SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("pair", pa.string()),
        ("robust", pa.bool_()),
        ("dataset", pa.string()),
        ("perturbation", pa.string()),
        ("family", pa.string()),
        ("index", pa.int64()),
        ("label", pa.int64()),
        ("prediction", pa.int64()),
        ("confidence", pa.float64()),
        ("correct", pa.bool_()),
        ("logits", pa.list_(pa.float32())),
    ]
)


@dataclass(frozen=True)
class ModelInfo:
    """Who produced a record: a model, its pair and whether it is the robust twin."""

    model: str
    pair: str
    robust: bool
    dataset: str
    meta: dict[str, str] = field(default_factory=dict, compare=False)


def confidence_and_prediction(logits: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (max softmax probability, arg-max) per row, the softmax taken in float64.

    >>> conf, pred = confidence_and_prediction(np.array([[0.0, 0.0], [2.0, 0.0]]))
    >>> conf.round(4).tolist(), pred.tolist()
    ([0.5, 0.8808], [0, 0])
    """
    import torch  # here, not at the top: reading records needs only the schema, not torch

    z = torch.as_tensor(logits).detach().to("cpu", torch.float64)
    probs = torch.softmax(z, dim=1)
    conf, pred = probs.max(dim=1)
    return conf.numpy(), pred.numpy()


def make_records(
    info: ModelInfo,
    perturbation: str,
    family: str,
    index: np.ndarray,
    label: np.ndarray,
    logits: np.ndarray,
) -> pa.Table:
    """Build a record table for one model × perturbation from labels and logits (N × C)."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    logits = np.asarray(logits, dtype=np.float32)
    n = logits.shape[0]
    conf, pred = confidence_and_prediction(logits)
    label = np.asarray(label, dtype=np.int64)
    columns = {
        "model": pa.repeat(pa.scalar(info.model, pa.string()), n),
        "pair": pa.repeat(pa.scalar(info.pair, pa.string()), n),
        "robust": pa.repeat(pa.scalar(info.robust, pa.bool_()), n),
        "dataset": pa.repeat(pa.scalar(info.dataset, pa.string()), n),
        "perturbation": pa.repeat(pa.scalar(perturbation, pa.string()), n),
        "family": pa.repeat(pa.scalar(family, pa.string()), n),
        "index": pa.array(np.asarray(index, dtype=np.int64)),
        "label": pa.array(label),
        "prediction": pa.array(pred.astype(np.int64)),
        "confidence": pa.array(conf),
        "correct": pa.array(pred == label),
        "logits": pa.FixedSizeListArray.from_arrays(pa.array(logits.reshape(-1)), logits.shape[1]).cast(
            pa.list_(pa.float32())
        ),
    }
    return pa.table(columns, schema=RECORD_SCHEMA)
