"""A run's plan: the models and cells (model × perturbation) a :class:`~overconf.run.spec.Spec` resolves to.

Resolving checks everything that can be checked before any model is loaded or trained (perturbation
specs, device, data, files, sizes) and computes each cell's identity (:mod:`overconf.store.identity`).
Models are loaded only when one of their cells is computed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.markup import escape

from overconf.data import fashion_mnist
from overconf.data.base import ImageSet
from overconf.data.decode import check_gpu_decode
from overconf.data.named import load_split
from overconf.errors import ConfigError, MissingFileError
from overconf.evaluation.records import ModelInfo
from overconf.evaluation.runtime import check_worker_counts, resolve_device
from overconf.run.data import (
    PerturbationPlan,
    coverage_warnings,
    expand_perturbations,
    fair_order,
    fingerprint,
    first_n,
    perturbation_parameters,
)
from overconf.run.models import GridModel, TrainData, entry_point_model, trained_model, zoo_models
from overconf.run.spec import ENGINE_KEYS, Spec, spec_line
from overconf.store.identity import canonical
from overconf.store.inputs import RemoteData, local_copy
from overconf.store.layout import records_path
from overconf.store.location import uri_of
from overconf.vocabulary import default_eps

console = Console(stderr=True)


@dataclass
class Cell:
    """One model × perturbation: its records go to one file, its ``config`` is its identity."""

    model: GridModel
    perturbation: PerturbationPlan
    data: Callable[[], ImageSet]
    config: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.model.info.model} · {self.perturbation.label}"

    def path(self, out: Path) -> Path:
        return records_path(out, self.model.info.model, self.perturbation.label)


@dataclass
class Plan:
    """Everything a back end needs: models, cells, engine options and the run's ``run.json`` parts."""

    name: str
    models: list[GridModel]
    cells: list[Cell]
    data: dict[str, Any]
    engine: dict[str, Any]
    config: dict[str, Any]
    seed: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    spec: Spec | None = None

    @property
    def perturbations(self) -> list[str]:
        labels: list[str] = []
        for cell in self.cells:
            if cell.perturbation.label not in labels:
                labels.append(cell.perturbation.label)
        return labels


def build_cells(models: list[GridModel], test_set: ImageSet, data_identity: dict[str, Any],
                perturbations: list[PerturbationPlan], n_examples: dict[str, int], engine: dict[str, Any],
                seed: int) -> list[Cell]:
    """Every model × perturbation with its data (the first ``n_examples[family]`` of the test set, or a
    pre-generated set)."""
    cells = []
    for perturbation in perturbations:
        n = n_examples.get(perturbation.family)
        if perturbation.load is None:
            subset = first_n(test_set, n, f"perturbations.n_examples.{perturbation.family}")

            def data(subset: ImageSet = subset) -> ImageSet:
                return subset
            data_config = {**data_identity, "n_examples": len(subset)}
        else:
            data = (lambda load=perturbation.load, n=n, label=perturbation.label:  # type: ignore[misc]
                    first_n(load(), n if n is not None else data_identity["n_examples"], label))
            data_config = {**data_identity, "n_examples": n if n is not None else data_identity["n_examples"],
                           **perturbation.source}
        pert_config = {"spec": perturbation.spec, "label": perturbation.label, "family": perturbation.family,
                       **perturbation_parameters(perturbation.perturbation), **perturbation.source}
        for model in models:
            config = {"model": model.cell_identity(), "data": data_config, "perturbation": pert_config, "seed": seed,
                      "precision": engine["precision"]}
            if perturbation.family == "attack" and engine["attack_precision"] != "fp32":  # fp32 cells keep their identity
                config["attack_precision"] = engine["attack_precision"]
            cells.append(Cell(model, perturbation, data, canonical(config)))
    return cells


# ------------------------------------------------------------------------------------------------ plan


def engine_options(spec: Spec, device: torch.device) -> dict[str, Any]:
    """The engine's keyword arguments (:func:`overconf.evaluation.engine.evaluate`) from the spec's engine keys."""
    return {"device": device, **{key: getattr(spec, key) for key in ENGINE_KEYS}}


def _check_normalisation(spec: Spec, data: ImageSet) -> None:
    """Each model's mean/std has one value per channel of the data (checked before any model is loaded)."""
    members = [(pair.name, role, m) for pair in spec.pairs for role, m in (("robust", pair.robust), ("normal", pair.normal))]
    if not any(m.mean for _, _, m in members) or len(data) == 0:
        return
    channels = int(data[0][0].shape[0])
    for pair, role, member in members:
        if member.mean and len(member.mean) != channels:
            hint = ('set mode = "RGB" in [data] or give mean/std one value per channel'
                    if spec.data.dataset == "imagefolder" and len(member.mean) == 3
                    else f"give mean and std {channels} value(s) each, one per channel")
            raise ConfigError(f"{spec.source}: pair {pair}.{role}: mean/std have {len(member.mean)} values, the data "
                              f"has {channels} channel(s)", hint=hint)


def _name_uris(config: dict[str, Any]) -> None:
    """The spec's ``s3://`` checkpoint and data paths as URIs in run.json's config (not the Paths holding them)."""
    places = [config.get("data") or {}] + [p.get(role) or {} for p in config.get("pairs") or []
                                           for role in ("robust", "normal")]
    for place in places:
        for key in ("path", "checkpoint"):
            if isinstance(place.get(key), str):
                place[key] = uri_of(place[key]) or place[key]


def resolve(spec: Spec, *, progress: bool = True) -> Plan:
    """Resolve ``spec`` into a :class:`Plan` (no model is loaded, nothing is written)."""
    check_worker_counts(spec.workers, spec.threads, f"{spec.source}: ")
    eps = spec.eps if spec.eps is not None else default_eps(spec.data.dataset)
    data_dir = spec.data.path
    try:  # bad specs fail first, naming the spec file's line
        perturbations = expand_perturbations(spec.specs, spec.data.dataset, data_dir, eps)
    except ConfigError as exc:
        where = spec_line(spec, exc.message)
        if where is None:
            raise
        raise ConfigError(f"{where}: {exc.message}", hint=exc.hint) from None
    device = resolve_device(spec.device)
    if spec.decode == "gpu":  # before any model is loaded; the data set is checked by the engine
        check_gpu_decode(device)
    engine = engine_options(spec, device)
    options: dict[str, Any] = {}
    own_files = spec.data.dataset in ("imagefolder", "npz")
    data_uri = uri_of(spec.data.path) if own_files and spec.data.path is not None else None
    remote: RemoteData | None = None
    if data_uri is not None:  # read from this machine's copy; cells read their machine's (RemoteData.here)
        copy = local_copy(data_uri)
        remote = RemoteData(data_uri, copy.path, copy.digest)
    if own_files:
        options = {"path": remote.origin if remote is not None else spec.data.path, "num_classes": spec.data.num_classes,
                   "image_size": spec.data.image_size}
        if spec.data.classes is not None:
            options["classes"] = list(spec.data.classes)
        data_dir = None
    elif spec.data.image_size is not None:
        raise ConfigError(f"image_size applies to imagefolder and npz data, not {spec.data.dataset!r}",
                          hint="remove image_size from [data]")
    if spec.data.order is not None and not own_files:
        options["order"] = spec.data.order
    if spec.data.mode is not None:
        options["mode"] = spec.data.mode
    models: list[GridModel] = []
    skipped: list[tuple[str, str]] = []
    missing_models: MissingFileError | None = None
    if spec.zoo is not None:
        try:
            models, skipped = zoo_models(spec.zoo, device)
        except MissingFileError as exc:  # say what else is missing (the data) in the same line
            missing_models = exc
    try:
        full = load_split(spec.data.dataset, data_dir, split=spec.data.split, **options)
    except MissingFileError as exc:
        if missing_models is None:
            raise
        raise MissingFileError(f"{missing_models.message}; and the data: {exc.message}",
                               hint=f"{missing_models.hint}; for the data: {exc.hint}") from None
    if missing_models is not None:
        raise missing_models
    sample: dict[str, Any] = {}
    sizes = {"[data] n_examples": spec.data.n_examples,
             **{f"[perturbations] n_examples.{family}": n for family, n in spec.n_examples.items() if family != "ood"}}
    if own_files:
        full, sample = fair_order(full, spec.data.order, spec.seed, list(sizes.values()), f"{spec.source}: [data]")
    test_set = first_n(full, spec.data.n_examples, f"{spec.source}: [data] n_examples")
    if own_files:
        for line in coverage_warnings(full, {k: min(n, len(test_set)) if k != "[data] n_examples" else n
                                             for k, n in sizes.items() if n is not None}):
            console.print(f"[yellow]warning:[/] {escape(line)} (order = {sample.get('order')!r})", highlight=False,
                          soft_wrap=True)
    if spec.data.num_classes is not None and spec.data.num_classes != full.num_classes:
        raise ConfigError(f"{spec.source}: num_classes = {spec.data.num_classes} but {spec.data.dataset} has "
                          f"{full.num_classes}", hint="leave num_classes out for the named data sets")
    data_identity = {"dataset": full.name, "fingerprint": fingerprint(full), "size": len(full),
                     "n_examples": len(test_set), "split": spec.data.split, "image_size": spec.data.image_size}
    if spec.data.mode is not None:  # only when given: cells of specs without it keep their identity
        data_identity["mode"] = spec.data.mode
    _check_normalisation(spec, full)
    train_data = TrainData(spec.data.dataset, data_dir)
    search = [spec.folder, Path.cwd()]
    for pair in spec.pairs:
        for robust, member in ((False, pair.normal), (True, pair.robust)):
            name = member.name or f"{pair.name}-{'robust' if robust else 'normal'}"
            info = ModelInfo(name, pair.name, robust, full.name, {k: str(v) for k, v in member.config.items()})
            models.append(trained_model(member, info, train_data, spec.cache_dir, device, progress)
                          if member.train is not None else entry_point_model(member, info, search))
    names = [m.info.model for m in models]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise ConfigError(f"{spec.source}: model name {clash[0]!r} is used twice", hint="give each model its own name")
    cells = build_cells(models, test_set, data_identity, perturbations, spec.n_examples, engine, spec.seed)
    if remote is not None and hasattr(full, "samples"):  # files read when a cell runs (an npz set is in memory)
        cells = [replace(c, data=partial(remote.loading, c.data)) for c in cells]
    config = canonical({**asdict(spec), "device_resolved": str(device), "eps_default": eps})
    _name_uris(config)
    data = {"name": full.name, "sha256": data_identity["fingerprint"], "path": data_uri or str(spec.data.path or ""),
            "size": len(full), "n_examples": len(test_set), **sample}
    if spec.data.dataset == fashion_mnist.NAME:
        data["sha256"] = fashion_mnist.fingerprint(data_dir)
        data["path"] = str(fashion_mnist.find_dir(data_dir))
    return Plan(spec.name, models, cells, data, engine, config, spec.seed, skipped, spec)
