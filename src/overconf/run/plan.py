"""A run's plan: the models and cells (model × perturbation) a :class:`~overconf.run.spec.Spec` resolves to.

Resolving checks everything that can be checked before any model is loaded or trained (perturbation
specs, device, data, files, sizes) and computes each cell's identity (:mod:`overconf.run.identity`).
Models are loaded only when one of their cells is computed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.markup import escape
from torch import nn

from overconf.data.base import ImageSet
from overconf.errors import ConfigError, MissingFileError
from overconf.evaluation.records import ModelInfo
from overconf.run.data import (
    PerturbationPlan,
    coverage_warnings,
    expand_perturbations,
    fair_order,
    fingerprint,
    first_n,
    load_test_set,
)
from overconf.run.identity import canonical
from overconf.run.manifest import cached_sha256
from overconf.run.spec import ENGINE_KEYS, ModelSpec, Spec, spec_line
from overconf.store.parquet import records_path
from overconf.vocabulary import default_eps

console = Console(stderr=True)


@dataclass
class PlanModel:
    """A model of the grid: who it is, how to load it, its identity and its ``run.json`` entry."""

    info: ModelInfo
    load: Callable[[], nn.Module]
    identity: dict[str, Any]
    entry: Callable[[], dict[str, Any]]


@dataclass
class Cell:
    """One model × perturbation: its records go to one file, its ``config`` is its identity."""

    model: PlanModel
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
    models: list[PlanModel]
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


def build_cells(models: list[PlanModel], test_set: ImageSet, data_identity: dict[str, Any],
                perturbations: list[PerturbationPlan], limits: dict[str, int], engine: dict[str, Any],
                seed: int) -> list[Cell]:
    """Every model × perturbation with its data (the first n of the test set, or a pre-generated set)."""
    cells = []
    for perturbation in perturbations:
        n = limits.get(perturbation.family)
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
        from overconf.run.data import perturbation_parameters

        pert_config = {"spec": perturbation.spec, "label": perturbation.label, "family": perturbation.family,
                       **perturbation_parameters(perturbation.perturbation), **perturbation.source}
        for model in models:
            config = {"model": model.identity, "data": data_config, "perturbation": pert_config, "seed": seed,
                      "precision": engine["precision"]}
            if perturbation.family == "attack" and engine["attack_precision"] != "fp32":  # fp32 cells keep their identity
                config["attack_precision"] = engine["attack_precision"]
            cells.append(Cell(model, perturbation, data, canonical(config)))
    return cells


# ---------------------------------------------------------------------------------------------- models


def _normalised(net: nn.Module, spec: ModelSpec) -> nn.Module:
    if spec.mean is None or spec.std is None:
        return net
    from overconf.models.blocks import Normalize

    return nn.Sequential(Normalize(spec.mean, spec.std), net)


def _entry_point_model(spec: ModelSpec, info: ModelInfo, search: list[Path]) -> PlanModel:
    from overconf.zoo.loaders import import_entry_point, load_weights

    if spec.checkpoint is not None and spec.checkpoint.is_dir():
        raise ConfigError(f"{info.model}: checkpoint {spec.checkpoint} is a folder, not a file",
                          hint="name the checkpoint file itself (.pt, .pth, .ckpt or .safetensors)")
    if spec.checkpoint is not None and not spec.checkpoint.is_file():
        raise MissingFileError(f"{info.model}: checkpoint {spec.checkpoint} not found",
                               hint="checkpoint paths are relative to the spec file's folder")
    import_entry_point(spec.entry_point or "", search)  # fail now, not after other models ran
    sha = cached_sha256(spec.checkpoint) if spec.checkpoint is not None else None
    identity = {"name": info.model, "pair": info.pair, "robust": info.robust, "dataset": info.dataset,
                "source": "entry_point", "entry_point": spec.entry_point, "checkpoint_sha256": sha,
                "mean": list(spec.mean) if spec.mean else None, "std": list(spec.std) if spec.std else None}
    extra = {k: v for k, v in (("kwargs", spec.kwargs), ("strip_prefix", spec.strip_prefix)) if v}
    identity.update(extra)  # only when given: cells of specs without them keep their identity

    def load() -> nn.Module:
        net = import_entry_point(spec.entry_point or "", search)(**spec.kwargs)
        if not isinstance(net, nn.Module):
            raise ConfigError(f"entry point {spec.entry_point!r} returned {type(net).__name__}, not an nn.Module")
        if spec.checkpoint is not None:
            load_weights(net, spec.checkpoint, strip_prefix=spec.strip_prefix, user=True)
        return _normalised(net, spec).eval()

    def entry() -> dict[str, Any]:
        return {"model": info.model, "pair": info.pair, "robust": info.robust, "dataset": info.dataset,
                "checkpoint": str(spec.checkpoint) if spec.checkpoint else None, "sha256": sha,
                "config": {"entry_point": spec.entry_point, "mean": identity["mean"], "std": identity["std"],
                           **extra, **spec.config}}

    return PlanModel(info, load, identity, entry)


class _TrainData:
    """The training split and its fingerprint, read once and only when a model must be trained or loaded."""

    def __init__(self, dataset: str, data_dir: Path | None) -> None:
        self.dataset, self.data_dir = dataset, data_dir
        self._set: ImageSet | None = None
        self._sha: str | None = None

    @property
    def sha(self) -> str:
        if self._sha is None:
            if self.dataset == "fashion-mnist":
                from overconf.data import fashion_mnist

                self._sha = fashion_mnist.fingerprint(self.data_dir)
            else:
                self._sha = fingerprint(self.train_set)
        return self._sha

    @property
    def train_set(self) -> ImageSet:
        if self._set is None:
            self._set = load_test_set(self.dataset, self.data_dir, split="train")
        return self._set


def _trained_model(spec: ModelSpec, info: ModelInfo, train_data: _TrainData, cache_dir: Path | None,
                   device: torch.device, progress: bool) -> PlanModel:
    from overconf.paths import cache_root
    from overconf.train.cache import cache_key, train_or_load

    train = spec.train
    assert train is not None
    key = cache_key(train, train_data.sha)
    folder = (cache_dir or cache_root()) / "models"
    identity = {"name": info.model, "pair": info.pair, "robust": info.robust, "dataset": info.dataset,
                "source": "train", "key": key, "train": json.loads(train.to_json())}

    def load() -> nn.Module:
        cached = train_or_load(train, train_data.train_set, train_data.sha, cache_dir=cache_dir, device=device,  # type: ignore[arg-type]
                               progress=progress)
        verb = "trained" if cached.trained_now else "loaded"
        console.print(f"{verb} {info.model} ({cached.meta.get('train_seconds', '?')} s of training) ← {cached.path}",
                      highlight=False, soft_wrap=True)
        return cached.model

    def entry() -> dict[str, Any]:
        weights, meta = folder / f"{key}.safetensors", folder / f"{key}.json"
        found = weights.is_file()
        return {"model": info.model, "key": key, "pair": info.pair, "robust": info.robust, "dataset": info.dataset,
                "checkpoint": str(weights) if found else None, "sha256": cached_sha256(weights) if found else None,
                "train": json.loads(meta.read_text()) if meta.is_file() else None,
                "config": {"activation": train.activation, "downsampling": train.downsampling,
                           "training": train.training, "eps": train.eps, "epochs": train.epochs,
                           "train_subset": train.train_subset, "seed": train.seed, **spec.config}}

    return PlanModel(info, load, identity, entry)


def _zoo_models(spec: Spec, device: torch.device) -> tuple[list[PlanModel], list[tuple[str, str]]]:
    from overconf.run.zoo import zoo_models

    assert spec.zoo is not None
    return zoo_models(spec.zoo, device)


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


def resolve(spec: Spec, *, progress: bool = True) -> Plan:
    """Resolve ``spec`` into a :class:`Plan` (no model is loaded, nothing is written)."""
    from overconf.evaluation.engine import check_worker_counts, resolve_device

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
        from overconf.data.decode import check_gpu_decode

        check_gpu_decode(device)
    engine = engine_options(spec, device)
    options: dict[str, Any] = {}
    own_files = spec.data.dataset in ("imagefolder", "npz")
    if own_files:
        options = {"path": spec.data.path, "num_classes": spec.data.num_classes, "image_size": spec.data.image_size}
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
    models: list[PlanModel] = []
    skipped: list[tuple[str, str]] = []
    missing_models: MissingFileError | None = None
    if spec.zoo is not None:
        try:
            models, skipped = _zoo_models(spec, device)
        except MissingFileError as exc:  # say what else is missing (the data) in the same line
            missing_models = exc
    try:
        full = load_test_set(spec.data.dataset, data_dir, split=spec.data.split, **options)
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
    train_data = _TrainData(spec.data.dataset, data_dir)
    search = [spec.folder, Path.cwd()]
    for pair in spec.pairs:
        for robust, member in ((False, pair.normal), (True, pair.robust)):
            name = member.name or f"{pair.name}-{'robust' if robust else 'normal'}"
            info = ModelInfo(name, pair.name, robust, full.name, {k: str(v) for k, v in member.config.items()})
            models.append(_trained_model(member, info, train_data, spec.cache_dir, device, progress)
                          if member.train is not None else _entry_point_model(member, info, search))
    names = [m.info.model for m in models]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise ConfigError(f"{spec.source}: model name {clash[0]!r} is used twice", hint="give each model its own name")
    cells = build_cells(models, test_set, data_identity, perturbations, spec.n_examples, engine, spec.seed)
    config = canonical({**asdict(spec), "device_resolved": str(device), "eps_default": eps})
    data = {"name": full.name, "sha256": data_identity["fingerprint"], "path": str(spec.data.path or ""),
            "size": len(full), "n_examples": len(test_set), **sample}
    if spec.data.dataset == "fashion-mnist":
        from overconf.data import fashion_mnist

        data["sha256"] = fashion_mnist.fingerprint(data_dir)
        data["path"] = str(fashion_mnist.find_dir(data_dir))
    return Plan(spec.name, models, cells, data, engine, config, spec.seed, skipped, spec)
