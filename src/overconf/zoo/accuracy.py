"""Is a zoo model the model its authors published? Its clean accuracy on the first ``n`` test images against
the catalogue's ``clean_acc`` (RobustBench's published clean accuracy, in %), before GPU-days go into it.

A model is flagged when its observed accuracy ``k / n`` is below :func:`lowest_consistent`: the
``ALPHA``-quantile of Binomial(n, p) for the published accuracy ``p``, divided by ``n``. A model that truly
has accuracy ``p`` on images like these is flagged with probability at most ``ALPHA`` (one-sided binomial test,
exact); a wrong normalisation, key mapping or preprocessing costs tens of points and is flagged already at a
few hundred images. The first ``n`` test images are a sample of the test set, not a random one: the
tolerance is only the binomial one, so a model evaluated on very few images is hardly ever flagged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.compute as pc
from torch import nn

from overconf.data.base import ImageSet
from overconf.data.named import load_split
from overconf.errors import DataError
from overconf.evaluation.engine import evaluate
from overconf.evaluation.records import ModelInfo
from overconf.evaluation.runtime import resolve_device
from overconf.evaluation.shapes import explain_shape_error
from overconf.perturb.attacks import Clean
from overconf.vocabulary import BATCH_SIZE
from overconf.zoo.catalogue import ZooModel
from overconf.zoo.loaders import load_model, missing_files

if TYPE_CHECKING:
    import pandas as pd

ALPHA = 0.001
"""Chance that a model with exactly its published accuracy is flagged (one-sided binomial test)."""


def published_accuracy(model: ZooModel) -> float | None:
    """The catalogue's ``clean_acc`` as a fraction (it is stored in %, as RobustBench publishes it); ``None``
    where the catalogue gives none (the normal twins: no published figure)."""
    raw = model.meta.get("clean_acc", "")
    try:
        value = float(raw) / 100.0
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


def lowest_consistent(published: float, n: int, alpha: float = ALPHA) -> float:
    """Lowest accuracy on ``n`` samples consistent with ``published`` at level ``alpha``:
    ``binom.ppf(alpha, n, published) / n`` (an observed ``k / n`` below it has P(X ≤ k) < ``alpha``).

    >>> lowest_consistent(0.9, 1000) > 0.86, lowest_consistent(0.9, 10) < 0.6
    (True, True)
    """
    from scipy.stats import binom

    return float(binom.ppf(alpha, n, published)) / n  # ppf: the smallest k with P(X <= k) >= alpha


@dataclass(frozen=True)
class AccuracyCheck:
    """One model's clean accuracy on ``n`` images (``correct`` right) against its published figure."""

    model: ZooModel
    n: int
    correct: int
    published: float | None

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else math.nan

    @property
    def lowest(self) -> float | None:
        return None if self.published is None or not self.n else lowest_consistent(self.published, self.n)

    @property
    def ok(self) -> bool:
        """False only where the accuracy is below what the published figure allows (:func:`lowest_consistent`)."""
        return self.lowest is None or self.accuracy >= self.lowest

    def line(self) -> str:
        head = f"{self.model.dataset}/{self.model.name}: clean accuracy {self.accuracy:.2%} on the first {self.n} images"
        if self.published is None:
            return head + "; no published figure to compare with"
        verdict = "consistent with" if self.ok else "BELOW"
        return (f"{head}; {verdict} the published {self.published:.2%} (lowest consistent on {self.n} images: "
                f"{self.lowest:.2%}, binomial test at {ALPHA})")


def check_accuracy(model: ZooModel, net: nn.Module, data: ImageSet, n_examples: int, *, batch_size: int = BATCH_SIZE,
                   device: str = "auto") -> AccuracyCheck:
    """Evaluate ``net`` (``model`` built) on the first ``n_examples`` of ``data`` (clean) and compare."""
    info = ModelInfo(model.name, model.pair, model.robust, model.dataset)
    try:
        records = evaluate(net, info, data.subset(min(n_examples, len(data))), Clean(),
                           batch_size=batch_size, device=resolve_device(device), progress=False)
    except RuntimeError as exc:  # a shape mismatch between data and model, said in words
        words = explain_shape_error(exc, data)
        if words is None:
            raise
        raise DataError(f"{model.name} on {data.name}: {words}",
                        hint="check the catalogue's dataset and preprocessing for this model") from exc
    correct = pc.sum(records.column("correct")).as_py() or 0
    return AccuracyCheck(model, records.num_rows, int(correct), published_accuracy(model))


def verify_accuracy(models: Iterable[ZooModel], models_dir: Path, data_dir: Path | None, n_examples: int, *,
                    batch_size: int = BATCH_SIZE, device: str = "auto") -> list[AccuracyCheck]:
    """:func:`check_accuracy` of every model whose files are present (each data set's test split read once)."""
    checks, data_sets = [], {}
    for model in models:
        if missing_files(model, models_dir):
            continue
        if model.dataset not in data_sets:
            data_sets[model.dataset] = load_split(model.dataset, data_dir)
        net = load_model(model, models_dir)
        checks.append(check_accuracy(model, net, data_sets[model.dataset], n_examples, batch_size=batch_size,
                                     device=device))
    return checks


def summary_checks(summary: pd.DataFrame, models: Iterable[ZooModel]) -> list[AccuracyCheck]:
    """The same check from a run's summary (its ``clean`` rows' ``accuracy`` and ``n``), as ``evaluate --zoo``
    does on its clean cells."""
    clean = summary[summary["perturbation"] == "clean"].set_index("model")
    checks = []
    for model in models:
        if model.name in clean.index:
            row = clean.loc[model.name]
            n = int(row["n"])
            checks.append(AccuracyCheck(model, n, round(float(row["accuracy"]) * n), published_accuracy(model)))
    return checks
