"""What the report reads: a run's records (without logits) and manifest, grouped into figure panels.

A *panel* is what one figure column shows: ``clean``, one panel per attack label (``pgd``, ``square``,
...), and all corruption labels (``fog:severity=3``, ...) pooled into one ``corruptions`` panel so that
figures do not explode with 75 columns. Out-of-distribution records have no true class and are left out
of every misclassification figure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from overconf.errors import MetricInputError
from overconf.run.manifest import read_manifest
from overconf.store.parquet import read_records

CORRUPTIONS_PANEL = "corruptions"
#: building-block keys of ``run.json`` ``models[].config`` the report compares, with their display names
BLOCK_KEYS = {"downsampling": "pooling / downsampling", "activation": "activation"}
RECORD_COLUMNS = ["model", "pair", "robust", "dataset", "perturbation", "family", "index", "label",
                  "confidence", "correct"]
_FAMILY_ORDER = {"clean": 0, "attack": 1, "corruption": 2, "ood": 3}


def panel_of(family: str, perturbation: str) -> str | None:
    """The figure panel a perturbation belongs to (``None`` for OOD: no true class).

    >>> panel_of("corruption", "fog:severity=3"), panel_of("attack", "pgd"), panel_of("ood", "ood-uniform")
    ('corruptions', 'pgd', None)
    """
    if family == "ood":
        return None
    if family == "corruption":
        return CORRUPTIONS_PANEL
    return perturbation


def safe(metric: Callable[..., float], *arrays: Any) -> float:
    """``metric(*arrays)``, or NaN where it is undefined (no wrong predictions for o(f), one class for AUROC)."""
    try:
        value = float(metric(*arrays))
    except MetricInputError:
        return float("nan")
    return value


@dataclass
class RunData:
    """A run as the report sees it.

    ``records``: one row per sample (columns :data:`RECORD_COLUMNS` plus ``panel``), OOD rows included
    (``panel`` is ``None`` there). ``models``: one row per model (model, pair, robust, dataset) plus the
    model's ``config`` dict from ``run.json`` (empty when the manifest has none).
    """

    out: Path
    manifest: dict[str, Any]
    records: pd.DataFrame
    models: pd.DataFrame
    datasets: list[str]
    panels: list[str]
    _groups: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict, repr=False)

    def arrays(self, model: str, panel: str, dataset: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(confidence, correct)`` of one model in one panel (empty arrays where the cell is missing)."""
        dataset = dataset if dataset is not None else self.dataset_of(model)
        rows = self._groups.get((dataset, panel, model))
        if rows is None:
            return np.empty(0), np.empty(0, dtype=bool)
        return self._confidence[rows], self._correct[rows]

    def cell(self, model: str, perturbation: str) -> pd.DataFrame:
        """Records (index, confidence, correct) of one model under one perturbation label (maybe empty)."""
        rows = self._cells.get((model, perturbation), np.empty(0, dtype=np.int64))
        return self.records.iloc[rows][["index", "confidence", "correct"]]

    def dataset_of(self, model: str) -> str:
        return str(self.models.loc[self.models["model"] == model, "dataset"].iloc[0])

    def models_of(self, dataset: str) -> pd.DataFrame:
        """Models of one data set, ordered by pair, normal model first."""
        return self.models[self.models["dataset"] == dataset]

    def model_names(self, dataset: str, robust: bool | None = None) -> list[str]:
        """Names of a data set's models, optionally only the robust (``True``) or normal (``False``) ones."""
        models = self.models_of(dataset)
        if robust is not None:
            models = models[models["robust"] == robust]
        return [str(m) for m in models["model"]]

    def panels_of(self, dataset: str) -> list[str]:
        return [p for p in self.panels if any(k[0] == dataset and k[1] == p for k in self._groups)]

    def attacks(self) -> list[str]:
        """Attack labels in panel order."""
        attack_labels = set(self.records.loc[self.records["family"] == "attack", "perturbation"].unique())
        return [p for p in self.panels if p in attack_labels]

    def twins(self, dataset: str) -> list[tuple[str, str, str]]:
        """``(pair, robust model, normal model)`` for every robust model that has a normal twin."""
        out: list[tuple[str, str, str]] = []
        models = self.models_of(dataset)
        for pair, group in models.groupby("pair", sort=False):
            normal = group.loc[~group["robust"], "model"].tolist()
            if not normal:
                continue
            for robust in group.loc[group["robust"], "model"]:
                out.append((str(pair), str(robust), str(normal[0])))
        return out

    def describe(self, model: str) -> str:
        """A model's name and, from its ``config``, its training · downsampling · activation (one line each)."""
        row = self.models.loc[self.models["model"] == model].iloc[0]
        config = row["config"] or {}
        blocks = [str(config[k]) for k in ("training", "downsampling", "activation") if k in config]
        return model if not blocks else f"{model}\n" + " · ".join(blocks)

    def __post_init__(self) -> None:
        rec = self.records
        self._confidence = rec["confidence"].to_numpy(dtype=np.float64)
        self._correct = rec["correct"].to_numpy(dtype=bool)
        labelled = rec[rec["panel"].notna()]
        grouped = labelled.groupby(["dataset", "panel", "model"], sort=False, observed=True).indices
        self._groups = {(str(d), str(p), str(m)): labelled.index.to_numpy()[idx] for (d, p, m), idx in grouped.items()}
        self._cells = {(str(m), str(p)): idx for (m, p), idx in rec.groupby(["model", "perturbation"], sort=False, observed=True).indices.items()}


def _perturbation_order(manifest: dict[str, Any], records: pd.DataFrame) -> list[str]:
    """Panels in a stable order: clean, attacks, corruptions; within a family by first appearance in run.json."""
    firsts = records[["perturbation", "family"]].drop_duplicates()
    listed = [str(p) for p in manifest.get("perturbations", [])]

    def key(row: tuple[str, str]) -> tuple[int, int, str]:
        perturbation, family = row
        name = perturbation.split(":")[0]
        position = next((i for i, spec in enumerate(listed) if spec.split(":")[0] == name), len(listed))
        return _FAMILY_ORDER.get(family, 9), position, perturbation

    ordered = sorted(((str(p), str(f)) for p, f in firsts.itertuples(index=False)), key=key)
    panels: list[str] = []
    for perturbation, family in ordered:
        panel = panel_of(family, perturbation)
        if panel is not None and panel not in panels:
            panels.append(panel)
    return panels


def load_run(out: Path, records: pd.DataFrame | None = None, manifest: dict[str, Any] | None = None) -> RunData:
    """Read a run's records and ``run.json`` into a :class:`RunData` (``records`` / ``manifest``: already read
    ones, if any, e.g. several runs combined)."""
    out = Path(out)
    manifest = read_manifest(out) if manifest is None else manifest
    records = read_records(out, RECORD_COLUMNS) if records is None else records[RECORD_COLUMNS]
    records = records.reset_index(drop=True)
    for column in ("model", "pair", "dataset", "perturbation", "family"):
        records[column] = records[column].astype("category")
    cells = records[["family", "perturbation"]].drop_duplicates()
    panels = {str(p): panel_of(str(f), str(p)) for f, p in cells.itertuples(index=False)}
    records["panel"] = records["perturbation"].map(panels).astype("category")
    configs = {str(m.get("model")): dict(m.get("config") or {}) for m in manifest.get("models", [])}
    models = (records.drop_duplicates("model")[["model", "pair", "robust", "dataset"]]
              .sort_values(["dataset", "pair", "robust", "model"], kind="stable").reset_index(drop=True))
    models = models.astype({"model": str, "pair": str, "dataset": str, "robust": bool})
    models["config"] = [configs.get(str(m), {}) for m in models["model"]]
    datasets = list(dict.fromkeys(models["dataset"].astype(str)))
    return RunData(out, manifest, records, models, datasets, _perturbation_order(manifest, records))


def block_groups(models: pd.DataFrame) -> list[tuple[str, str, list[str]]]:
    """``(dataset, key, models)``: normally trained models that differ only in building block ``key``.

    For each key of :data:`BLOCK_KEYS` taking several values among a data set's normal models, the models
    kept are those whose other block keys take their most common value (e.g. ReLU vs PSSiLU both with max
    pooling), ordered by the key's value.
    """
    groups = []
    normal = models[~models["robust"].to_numpy(bool)]
    for dataset in dict.fromkeys(normal["dataset"]):
        part = normal[normal["dataset"] == dataset]
        configs = dict(zip(part["model"], part["config"]))
        for key in BLOCK_KEYS:
            chosen = {m: c for m, c in configs.items() if key in c}
            for other in BLOCK_KEYS:
                values = [str(c[other]) for c in chosen.values() if other in c]
                if other != key and values:
                    mode = max(dict.fromkeys(values), key=values.count)
                    chosen = {m: c for m, c in chosen.items() if str(c.get(other)) == mode}
            if len({str(c[key]) for c in chosen.values()}) > 1:
                groups.append((str(dataset), key, sorted(chosen, key=lambda m: str(chosen[m][key]))))
    return groups


def iter_cells(run: RunData) -> Iterator[tuple[str, str, str]]:
    """Every ``(dataset, panel, model)`` that has records, in figure order."""
    for dataset in run.datasets:
        for panel in run.panels_of(dataset):
            for model in run.models_of(dataset)["model"]:
                if (dataset, panel, model) in run._groups:
                    yield dataset, panel, str(model)


def n_classes(records: pd.DataFrame) -> dict[str, int]:
    """Number of classes per data set: the width of the stored logits, else the largest label + 1."""
    out: dict[str, int] = {}
    labelled = records[records["family"] != "ood"] if "family" in records else records
    for dataset, group in labelled.groupby("dataset", observed=True):
        if "logits" in group.columns and len(group) and group["logits"].iloc[0] is not None:
            out[str(dataset)] = len(group["logits"].iloc[0])
        else:
            out[str(dataset)] = int(group["label"].max()) + 1 if len(group) else 0
    return out
