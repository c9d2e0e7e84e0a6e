"""Where a run's models come from. A :class:`GridModel` says who a model is, how to load it, which weights these
are and what ``run.json`` says of it; a spec's models are built here (an entry point with an optional
checkpoint, a model trained here, the zoo's pairs found locally), Python callers build their own
(:func:`overconf.run.grid.run_grid`). Nothing is loaded or trained until :attr:`GridModel.load` is called;
checkpoints are hashed here (once per machine: :func:`overconf.files.remembered_sha256`); an ``s3://``
checkpoint is copied here to be hashed, and again by whichever machine loads it (:mod:`overconf.store.inputs`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from torch import nn

from overconf.data import fashion_mnist
from overconf.data.base import ImageSet
from overconf.data.named import load_split
from overconf.errors import ConfigError, MissingFileError
from overconf.evaluation.records import ModelInfo
from overconf.files import remembered_sha256
from overconf.models.blocks import Normalize
from overconf.paths import cache_root
from overconf.run.data import fingerprint
from overconf.run.spec import ModelSpec, ZooSpec
from overconf.store.identity import model_identity
from overconf.store.inputs import checkpoint_here, local_copy
from overconf.store.location import uri_of
from overconf.store.run_json import model_entry
from overconf.train.cache import cache_key, train_or_load
from overconf.zoo.catalogue import Catalogue, ZooModel, load_catalogue
from overconf.zoo.loaders import (
    fetch_command,
    import_entry_point,
    load_model,
    load_weights,
    missing_files,
    model_files,
    resolve_models_dir,
)

console = Console(stderr=True)


@dataclass
class GridModel:
    """A model of the grid: who it is, and how to load it (called only if some cell is missing).

    ``identity`` should say which weights these are (e.g. a checkpoint SHA-256): a rerun with other
    weights under the same name is then refused instead of mixed. ``source`` names where the model comes
    from; ``details`` (called when ``run.json`` is written) gives its ``run.json`` entry beyond who it is
    (default: ``config``, the model's ``meta``).
    """

    info: ModelInfo
    load: Callable[[], nn.Module]
    identity: dict[str, Any] | None = None
    source: str = "python"
    details: Callable[[], dict[str, Any]] | None = None

    def cell_identity(self) -> dict[str, Any]:
        """The model part of each of its cells' ``config`` (:func:`overconf.store.identity.model_identity`)."""
        return {**model_identity(self.info, self.source), **(self.identity or {})}

    def entry(self) -> dict[str, Any]:
        """Its entry in ``run.json``'s ``models`` (:func:`overconf.store.run_json.model_entry`)."""
        details = self.details() if self.details is not None else {"config": dict(self.info.meta)}
        return model_entry(self.info, **details)


def _normalised(net: nn.Module, spec: ModelSpec) -> nn.Module:
    if spec.mean is None or spec.std is None:
        return net
    return nn.Sequential(Normalize(spec.mean, spec.std), net)


def entry_point_model(spec: ModelSpec, info: ModelInfo, search: list[Path]) -> GridModel:
    """A spec's model built by an entry point (``module:function``), with its checkpoint's weights if named."""
    uri = uri_of(spec.checkpoint) if spec.checkpoint is not None else None
    checkpoint = local_copy(uri, expect="file").path if uri is not None else spec.checkpoint  # downloaded here to be hashed
    named = uri or checkpoint
    if checkpoint is not None and checkpoint.is_dir():
        raise ConfigError(f"{info.model}: checkpoint {named} is a folder, not a file",
                          hint="name the checkpoint file itself (.pt, .pth, .ckpt or .safetensors)")
    if checkpoint is not None and not checkpoint.is_file():
        raise MissingFileError(f"{info.model}: checkpoint {named} not found",
                               hint="checkpoint paths are relative to the spec file's folder")
    import_entry_point(spec.entry_point or "", search)  # fail now, not after other models ran
    sha = remembered_sha256(checkpoint) if checkpoint is not None else None
    mean, std = (list(spec.mean) if spec.mean else None), (list(spec.std) if spec.std else None)
    extra = {k: v for k, v in (("kwargs", spec.kwargs), ("strip_prefix", spec.strip_prefix)) if v}
    # extra only when given: cells of specs without them keep their identity
    identity = {"entry_point": spec.entry_point, "checkpoint_sha256": sha, "mean": mean, "std": std, **extra}

    def load() -> nn.Module:
        net = import_entry_point(spec.entry_point or "", search)(**spec.kwargs)
        if not isinstance(net, nn.Module):
            raise ConfigError(f"entry point {spec.entry_point!r} returned {type(net).__name__}, not an nn.Module")
        if checkpoint is not None:  # a URI's copy on the machine loading it (a Ray worker's own), checked
            path = checkpoint_here(uri, sha or "") if uri is not None else checkpoint
            load_weights(net, path, strip_prefix=spec.strip_prefix, user=True)
        return _normalised(net, spec).eval()

    def details() -> dict[str, Any]:
        return {"checkpoint": str(named) if named else None, "sha256": sha,
                "config": {"entry_point": spec.entry_point, "mean": mean, "std": std, **extra, **spec.config}}

    return GridModel(info, load, identity, "entry_point", details)


class TrainData:
    """The training split and its fingerprint, read once and only when a model must be trained or loaded."""

    def __init__(self, dataset: str, data_dir: Path | None) -> None:
        self.dataset, self.data_dir = dataset, data_dir
        self._set: ImageSet | None = None
        self._sha: str | None = None

    @property
    def sha(self) -> str:
        if self._sha is None:
            if self.dataset == fashion_mnist.NAME:
                self._sha = fashion_mnist.fingerprint(self.data_dir)
            else:
                self._sha = fingerprint(self.train_set)
        return self._sha

    @property
    def train_set(self) -> ImageSet:
        if self._set is None:
            self._set = load_split(self.dataset, self.data_dir, split="train")
        return self._set


def trained_model(spec: ModelSpec, info: ModelInfo, train_data: TrainData, cache_dir: Path | None,
                  device: torch.device, progress: bool) -> GridModel:
    """A spec's model trained here (or loaded from the training cache, keyed by its configuration and data)."""
    train = spec.train
    assert train is not None
    key = cache_key(train, train_data.sha)
    folder = (cache_dir or cache_root()) / "models"

    def load() -> nn.Module:
        cached = train_or_load(train, train_data.train_set, train_data.sha, cache_dir=cache_dir, device=device,  # type: ignore[arg-type]
                               progress=progress)
        verb = "trained" if cached.trained_now else "loaded"
        console.print(f"{verb} {info.model} ({cached.meta.get('train_seconds', '?')} s of training) ← {cached.path}",
                      highlight=False, soft_wrap=True)
        return cached.model

    def details() -> dict[str, Any]:
        weights, meta = folder / f"{key}.safetensors", folder / f"{key}.json"
        found = weights.is_file()
        return {"key": key, "checkpoint": str(weights) if found else None,
                "sha256": remembered_sha256(weights) if found else None,
                "train": json.loads(meta.read_text()) if meta.is_file() else None,
                "config": {"activation": train.activation, "downsampling": train.downsampling,
                           "training": train.training, "eps": train.eps, "epochs": train.epochs,
                           "train_subset": train.train_subset, "seed": train.seed, **spec.config}}

    return GridModel(info, load, {"key": key, "train": json.loads(train.to_json())}, "train", details)


def present_pairs(catalogue: Catalogue, models_dir: Path) -> tuple[Catalogue, list[tuple[str, str]]]:
    """The pairs whose files are all present, and ``(robust id, first missing path)`` for the others."""
    kept, skipped = [], []
    for pair in catalogue.pairs:
        missing = missing_files(pair.robust, models_dir) + missing_files(pair.normal, models_dir)
        if missing:
            skipped.append((pair.robust.model_id, str(missing[0])))
        else:
            kept.append(pair)
    return Catalogue(kept), skipped


def _zoo_model(model: ZooModel, models_dir: Path, device: torch.device) -> GridModel:
    paths = model_files(model, models_dir)
    hashes = [remembered_sha256(p) for p in paths]
    info = ModelInfo(model.name, model.pair, model.robust, model.dataset, dict(model.meta))
    identity = {"model_id": model.model_id, "arch_id": model.arch_id, "entry_point": model.entry_point,
                "sha256": hashlib.sha256("".join(hashes).encode()).hexdigest()
                if len(hashes) > 1 else (hashes[0] if hashes else None)}

    def load() -> nn.Module:
        return load_model(model, models_dir).to(device)

    def details() -> dict[str, Any]:
        return {"checkpoint": ";".join(str(p) for p in paths), "sha256": ";".join(hashes),
                "config": {"source": model.source, "model_id": model.model_id, "arch_id": model.arch_id,
                           "architecture": model.architecture, "weights": model.weights,
                           "entry_point": model.entry_point, **model.meta}}

    return GridModel(info, load, identity, model.source, details)


def zoo_models(zoo: ZooSpec, device: torch.device) -> tuple[list[GridModel], list[tuple[str, str]]]:
    """The present models of the selected pairs (robust and normal twins, each once) and the skipped pairs;
    each present model's identity is the SHA-256 of its files."""
    models_dir = resolve_models_dir(zoo.models_dir)
    selected = load_catalogue(zoo.catalogue, zoo.add).select(zoo.dataset, list(zoo.pairs) or None)
    if not selected.pairs:
        raise ConfigError(f"the catalogue has no pairs for {zoo.dataset!r}", hint="see `overconf zoo list`")
    present, skipped = present_pairs(selected, models_dir)
    if not present.pairs:
        first = selected.pairs[0]
        raise MissingFileError(
            f"none of the {len(selected)} selected {zoo.dataset} pairs has its files under {models_dir} "
            f"(e.g. {skipped[0][1]})",
            hint=f"run `{fetch_command(first.robust)}` (or `overconf zoo fetch --dataset {zoo.dataset}`), "
            "or point --models-dir / $OVERCONF_MODELS at your models folder",
        )
    return [_zoo_model(m, models_dir, device) for m in present.models()], skipped
