"""``overconf evaluate --zoo DATASET``: a front end building a :class:`~overconf.run.spec.Spec` with a ``zoo``
table (the catalogue's pairs found locally) and running it like any spec.

Pairs whose files are missing are skipped and reported (``run.json`` ``config.skipped``); each present
model's identity is the SHA-256 of its files.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from overconf.errors import ConfigError, MissingFileError
from overconf.evaluation.records import ModelInfo
from overconf.run.execute import RunResult
from overconf.run.manifest import cached_sha256
from overconf.run.plan import PlanModel
from overconf.run.spec import Spec, ZooSpec
from overconf.vocabulary import BATCH_SIZE, DEVICE, SEED
from overconf.zoo.catalogue import Catalogue, ZooModel, load_catalogue
from overconf.zoo.loaders import fetch_command, load_model, missing_files, resolve_models_dir, sources


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


def _plan_model(model: ZooModel, models_dir: Path, device: torch.device) -> PlanModel:
    paths = [s.path for s in sources(model, models_dir)]
    hashes = [cached_sha256(p) for p in paths]
    info = ModelInfo(model.name, model.pair, model.robust, model.dataset, dict(model.meta))
    identity = {"name": model.name, "pair": model.pair, "robust": model.robust, "dataset": model.dataset,
                "source": model.source, "model_id": model.model_id, "arch_id": model.arch_id,
                "entry_point": model.entry_point, "sha256": hashlib.sha256("".join(hashes).encode()).hexdigest()
                if len(hashes) > 1 else (hashes[0] if hashes else None)}

    def load() -> nn.Module:
        return load_model(model, models_dir).to(device)

    def entry() -> dict[str, Any]:
        return {"model": model.name, "pair": model.pair, "robust": model.robust, "dataset": model.dataset,
                "checkpoint": ";".join(str(p) for p in paths), "sha256": ";".join(hashes),
                "config": {"source": model.source, "model_id": model.model_id, "arch_id": model.arch_id,
                           "architecture": model.architecture, "weights": model.weights,
                           "entry_point": model.entry_point, **model.meta}}

    return PlanModel(info, load, identity, entry)


def zoo_models(zoo: ZooSpec, device: torch.device) -> tuple[list[PlanModel], list[tuple[str, str]]]:
    """The present models of the selected pairs (robust and normal twins, each once) and the skipped pairs."""
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
    return [_plan_model(m, models_dir, device) for m in present.models()], skipped


def zoo_spec(dataset: str, out: Path, *, pairs: Sequence[str] | None = None, catalogue: Path | None = None,
             extra_catalogues: Sequence[Path] = (), models_dir: Path | None = None, data_dir: Path | None = None,
             n_examples: int | None = None, perturbations: Sequence[str] | Mapping[str, Any] = ("clean",),
             eps: float | None = None, batch_size: int | str = BATCH_SIZE, device: str = DEVICE, seed: int = SEED,
             imagenet_order: str = "robustbench", engine: Mapping[str, Any] | None = None,
             attack_examples: int | None = None, names: Mapping[str, str] | None = None) -> Spec:
    """The spec ``overconf evaluate --zoo`` runs, checked by :meth:`Spec.from_dict` (``names``: how its errors
    name the keys, e.g. the CLI's flags). ``n_examples``: the test set's first n (``[data] n_examples``);
    ``perturbations``: spec strings, or the spec's ``[perturbations]`` table (``specs``, the per-family
    ``n_examples``, ``eps``); ``engine``: the spec's other engine keys (``precision``, ``attack_precision``,
    ``channels_last``, ``workers``, ``threads``, ``decode``). ``attack_examples`` (deprecated): the
    ``perturbations`` table's ``n_examples = { attack = n }``."""
    table: dict[str, Any] = (dict(perturbations) if isinstance(perturbations, Mapping)
                             else {"specs": list(perturbations)})
    if isinstance(table.get("specs"), list):  # blanks dropped: "clean,,pgd" and "clean," name two perturbations
        table["specs"] = [s for s in table["specs"] if not isinstance(s, str) or s.strip()]
    if attack_examples is not None:
        warnings.warn("zoo_spec(attack_examples=n) is deprecated: pass perturbations={'specs': [...], 'n_examples': "
                      "{'attack': n}}", DeprecationWarning, stacklevel=2)
        table["n_examples"] = {**table.get("n_examples", {}), "attack": attack_examples}
    if eps is not None:
        table["eps"] = eps
    data: dict[str, Any] = {"dataset": dataset, "path": data_dir, "n_examples": n_examples,
                            "order": imagenet_order if dataset == "imagenet" else None}
    zoo = {"dataset": dataset, "pairs": list(pairs or ()), "catalogue": catalogue, "add": list(extra_catalogues),
           "models_dir": models_dir}
    raw = {"out": Path(out), "seed": seed, "device": device, "batch_size": batch_size, "name": "zoo",
           **dict(engine or {}), "data": _given(data), "zoo": _given(zoo), "perturbations": table}
    return Spec.from_dict(_given(raw), names=names)


def _given(table: dict[str, Any]) -> dict[str, Any]:
    """``table`` without its ``None`` values (keys left out: the spec's defaults)."""
    return {key: value for key, value in table.items() if value is not None}


def evaluate_zoo(dataset: str, out: Path, *, report: bool = True, progress: bool = True, overwrite: bool = False,
                 backend: str = "local", address: str | None = None, dry_run: bool = False,
                 command: str = "overconf evaluate", **options: Any) -> RunResult:
    """Evaluate every locally present pair of ``dataset`` (see :func:`zoo_spec` for ``options``) into ``out``."""
    from overconf.run.runner import run_spec

    return run_spec(zoo_spec(dataset, out, **options), out=out, command=command, report=report, progress=progress,
                    overwrite=overwrite, backend=backend, address=address, dry_run=dry_run)
