"""What the report reads: a run's record files (one cell at a time) and manifest, grouped into figure panels.

A *panel* is what one figure column shows: ``clean``, one panel per attack label (``pgd``, ``square``,
...), and all corruption labels (``fog:severity=3``, ...) pooled into one ``corruptions`` panel so that
figures do not explode with 75 columns. Out-of-distribution records have no true class and are left out
of every misclassification figure.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from overconf.errors import MetricInputError
from overconf.store.query import check_run_records
from overconf.store.query import record_files as checked_files
from overconf.store.run_json import read_manifest
from overconf.store.validation import RecordFile

CORRUPTIONS_PANEL = "corruptions"
#: building-block keys of ``run.json`` ``models[].config`` the report compares, with their display names
BLOCK_KEYS = {"downsampling": "pooling / downsampling", "activation": "activation"}
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


CACHE_BYTES = 256 << 20
"""Most bytes of per-cell arrays (index, confidence, correct) a :class:`RunData` keeps read (least recently used
first out): the report's memory does not grow with the number of record files."""


def read_cell_table(path: Path, columns: list[str]) -> pd.DataFrame:
    """Some columns of one record file; ``logits`` (if asked for) as one float32 row view per record."""
    table = pq.read_table(path, columns=columns)
    frame = table.drop(["logits"]).to_pandas() if "logits" in columns else table.to_pandas()
    if "logits" in columns:
        column = table.column("logits").combine_chunks()
        flat = pc.list_flatten(column).to_numpy(zero_copy_only=False)
        logits = flat.reshape(table.num_rows, -1) if table.num_rows else np.empty((0, 0), np.float32)
        frame["logits"] = list(logits)
    return frame


class _CellCache:
    """``(index, confidence, correct)`` of recently read record files, at most :data:`CACHE_BYTES` in all."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget, self.size = budget, 0
        self.items: OrderedDict[Path, tuple[np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()

    def get(self, path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if path in self.items:
            self.items.move_to_end(path)
            return self.items[path]
        table = pq.read_table(path, columns=["index", "confidence", "correct"])
        value = (table.column("index").to_numpy(), table.column("confidence").to_numpy(),
                 table.column("correct").to_numpy(zero_copy_only=False))
        self.items[path] = value
        self.size += sum(a.nbytes for a in value)
        while self.size > self.budget and len(self.items) > 1:
            _, old = self.items.popitem(last=False)
            self.size -= sum(a.nbytes for a in old)
        return value


@dataclass
class RunData:
    """A run as the report sees it: which record file holds which cell, read one cell at a time.

    ``files``: one checked :class:`~overconf.store.validation.RecordFile` per model × perturbation (``model`` and
    ``pair`` as the report names them, e.g. prefixed when several runs are combined). ``models``: one row per
    model (model, pair, robust, dataset) plus the model's ``config`` dict from ``run.json`` (empty when the
    manifest has none). Records are read from the files when asked for (:meth:`arrays`, :meth:`cell`,
    :meth:`read`), the most recent ones kept up to :data:`CACHE_BYTES`.
    """

    out: Path
    manifest: dict[str, Any]
    files: list[RecordFile]
    models: pd.DataFrame
    datasets: list[str]
    panels: list[str]
    #: ``(dataset, panel, model)`` → the model's record files in that figure panel (several for ``corruptions``)
    _panel_files: dict[tuple[str, str, str], list[RecordFile]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._cells = {(f.model, f.perturbation): f for f in self.files}
        rank = {p: i for i, p in enumerate(self.panels)}
        for f in sorted(self.files, key=lambda f: (rank.get(panel_of(f.family, f.perturbation) or "", 0), f.perturbation)):
            panel = panel_of(f.family, f.perturbation)
            if panel is not None:
                self._panel_files.setdefault((f.dataset, panel, f.model), []).append(f)
        self._cache = _CellCache()

    def __getstate__(self) -> dict[str, Any]:  # sent to worker processes without the read cells
        state = dict(self.__dict__)
        state["_cache"] = _CellCache()
        return state

    def arrays(self, model: str, panel: str, dataset: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(confidence, correct)`` of one model in one panel, its cells pooled (empty arrays where the model has
        no records in that panel)."""
        dataset = dataset if dataset is not None else self.dataset_of(model)
        files = self._panel_files.get((dataset, panel, model), [])
        if not files:
            return np.empty(0), np.empty(0, dtype=bool)
        parts = [self._cache.get(f.path) for f in files]
        if len(parts) == 1:
            return parts[0][1], parts[0][2]
        return np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])

    def cell(self, model: str, perturbation: str) -> pd.DataFrame:
        """Records (index, confidence, correct) of one model under one perturbation label (maybe empty)."""
        found = self._cells.get((model, perturbation))
        if found is None:
            return pd.DataFrame({"index": np.empty(0, np.int64), "confidence": np.empty(0),
                                 "correct": np.empty(0, bool)})
        index, confidence, correct = self._cache.get(found.path)
        return pd.DataFrame({"index": index, "confidence": confidence, "correct": correct})

    def read(self, model: str, perturbation: str, columns: list[str]) -> pd.DataFrame | None:
        """Some record columns of one cell (``None`` where the run has no such cell; ``model`` and ``pair`` as
        the report names them); not cached."""
        found = self._cells.get((model, perturbation))
        if found is None:
            return None
        frame = read_cell_table(found.path, columns)
        for column in ("model", "pair"):
            if column in frame.columns:
                frame[column] = getattr(found, column)
        return frame

    def files_of(self, model: str) -> list[RecordFile]:
        """A model's record files, in perturbation-label order."""
        return sorted((f for f in self.files if f.model == model), key=lambda f: f.perturbation)

    def families(self, dataset: str | None = None) -> dict[str, str]:
        """perturbation label → family, of one data set's files (all data sets: ``None``)."""
        return {f.perturbation: f.family for f in self.files if dataset is None or f.dataset == dataset}

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
        return [p for p in self.panels if any(k[0] == dataset and k[1] == p for k in self._panel_files)]

    def attacks(self) -> list[str]:
        """Attack labels in panel order."""
        attack_labels = {p for p, f in self.families().items() if f == "attack"}
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


def _perturbation_order(manifest: dict[str, Any], files: list[RecordFile]) -> list[str]:
    """Panels in a stable order: clean, attacks, corruptions; within a family by first appearance in run.json."""
    firsts = dict.fromkeys((f.perturbation, f.family) for f in files)
    listed = [str(p) for p in manifest.get("perturbations", [])]

    def key(row: tuple[str, str]) -> tuple[int, int, str]:
        perturbation, family = row
        name = perturbation.split(":")[0]
        position = next((i for i, spec in enumerate(listed) if spec.split(":")[0] == name), len(listed))
        return _FAMILY_ORDER.get(family, 9), position, perturbation

    panels: list[str] = []
    for perturbation, family in sorted(firsts, key=key):
        panel = panel_of(family, perturbation)
        if panel is not None and panel not in panels:
            panels.append(panel)
    return panels


def record_files(out: Path) -> list[RecordFile]:
    """Every record file of a run, checked (:func:`overconf.store.query.check_run_records`)."""
    return check_run_records(checked_files(Path(out)))


def load_run(out: Path, files: list[RecordFile] | None = None, manifest: dict[str, Any] | None = None) -> RunData:
    """The :class:`RunData` of a run: its checked record files and ``run.json`` (``files`` / ``manifest``:
    already known ones, e.g. several runs combined). Reads each file's metadata once, no records."""
    out = Path(out)
    manifest = read_manifest(out) if manifest is None else manifest
    files = record_files(out) if files is None else files
    configs = {str(m.get("model")): dict(m.get("config") or {}) for m in manifest.get("models", [])}
    rows = {f.model: (f.model, f.pair, f.robust, f.dataset) for f in files}
    models = pd.DataFrame(list(rows.values()), columns=["model", "pair", "robust", "dataset"])
    models = models.sort_values(["dataset", "pair", "robust", "model"], kind="stable").reset_index(drop=True)
    models = models.astype({"model": str, "pair": str, "dataset": str, "robust": bool})
    models["config"] = [configs.get(str(m), {}) for m in models["model"]]
    datasets = list(dict.fromkeys(models["dataset"].astype(str)))
    return RunData(out, manifest, files, models, datasets, _perturbation_order(manifest, files))


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


def iter_panel_models(run: RunData) -> Iterator[tuple[str, str, str]]:
    """Every ``(dataset, panel, model)`` that has records, in figure order (a panel pools the model's cells)."""
    for dataset in run.datasets:
        for panel in run.panels_of(dataset):
            for model in run.models_of(dataset)["model"]:
                if (dataset, panel, model) in run._panel_files:
                    yield dataset, panel, str(model)


def n_classes(run: RunData) -> dict[str, int]:
    """Number of classes per data set: the width of the stored logits of its labelled record files."""
    out: dict[str, int] = {}
    for f in run.files:
        if f.family != "ood":
            out[f.dataset] = max(out.get(f.dataset, 0), f.n_classes)
    return out
