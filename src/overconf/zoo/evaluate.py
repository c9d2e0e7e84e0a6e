"""``overconf evaluate --zoo DATASET``: the paper's evaluation of the zoo's pairs found locally.

Pairs whose files are missing are skipped and reported; the rest run through the same engine as every
run (:func:`overconf.run.local.run_grid`): one Parquet file per model × perturbation, resumable, plus a
``run.json`` manifest holding each checkpoint's SHA-256. ``corruptions`` expands to the pre-generated
CIFAR-10-C sets (15 corruptions × 5 severities) when their loader (:mod:`overconf.data.corrupted`) is
installed; the report is built at the end when :mod:`overconf.report` is available.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from overconf.data.base import DATASETS, ImageSet, TensorImageSet
from overconf.errors import ConfigError, MissingFileError
from overconf.evaluate.engine import resolve_device
from overconf.evaluate.records import ModelInfo
from overconf.run.local import GridModel, run_grid
from overconf.run.manifest import environment_versions, read_manifest, sha256_file, write_manifest
from overconf.zoo.catalogue import Catalogue, ZooModel, load_catalogue
from overconf.zoo.loaders import fetch_command, load_model, missing_files, resolve_models_dir, sources

CORRUPTIONS = "corruptions"


@dataclass
class ZooRun:
    """What :func:`evaluate_zoo` did: the run folder, models evaluated, pairs skipped (with why), report."""

    run_dir: Path
    models: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    report: Path | None = None


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


def data_fingerprint(dataset: ImageSet) -> str:
    """SHA-256 of what is evaluated: pixel and label bytes in memory, or the ordered file list of a folder."""
    digest = hashlib.sha256()
    if isinstance(dataset, TensorImageSet):
        digest.update(dataset.images.contiguous().numpy().tobytes())
        digest.update(dataset.labels.contiguous().numpy().tobytes())
    else:
        for path, label in getattr(dataset, "samples", []):
            digest.update(f"{Path(path).parent.name}/{Path(path).name}\t{label}\n".encode())
    return digest.hexdigest()


def load_dataset(name: str, data_dir: Path | None, n_examples: int | None, **options: Any) -> ImageSet:
    """The test split of ``name`` (registered in :data:`overconf.data.DATASETS`), first ``n_examples``."""
    importlib.import_module("overconf.data.cifar")
    importlib.import_module("overconf.data.imagenet")
    loader = DATASETS.get(name)
    split = "val" if name == "imagenet" else "test"
    return loader(split=split, data_dir=data_dir, **options).subset(n_examples)


def corruption_loader(dataset: str) -> Callable[..., list[tuple[str, ImageSet]]]:
    """The loader of the pre-generated corruption sets of ``dataset``; :class:`ConfigError` when absent."""
    try:
        corrupted = importlib.import_module("overconf.data.corrupted")
    except ModuleNotFoundError:
        corrupted = None
    loader = getattr(corrupted, "load_corruption_sets", None)
    if dataset != "cifar10" or loader is None:
        raise ConfigError(
            f"`{CORRUPTIONS}` needs the pre-generated CIFAR-10-C sets and their loader, not available for {dataset!r}",
            hint="put CIFAR-10-C/<corruption>.npy and labels.npy (RobustBench's layout) under --data-dir; "
            "corruptions are evaluated on cifar10 only",
        )
    return loader


def _model_entry(model: ZooModel, models_dir: Path) -> dict[str, Any]:
    paths = [s.path for s in sources(model, models_dir)]
    return {
        "model": model.name, "pair": model.pair, "robust": model.robust, "dataset": model.dataset,
        "checkpoint": ";".join(str(p) for p in paths),
        "sha256": ";".join(sha256_file(p) for p in paths),
        "config": {"source": model.source, "model_id": model.model_id, "arch_id": model.arch_id,
                   "architecture": model.architecture, "weights": model.weights,
                   "entry_point": model.entry_point, **model.meta},
    }


def evaluate_zoo(
    dataset: str,
    out: Path,
    *,
    pairs: Sequence[str] | None = None,
    catalogue: Path | None = None,
    extra_catalogues: Sequence[Path] = (),
    models_dir: Path | None = None,
    data_dir: Path | None = None,
    n_examples: int | None = None,
    perturbations: Sequence[str] = ("clean",),
    attack_examples: int | None = None,
    eps: float | None = None,
    batch_size: int = 200,
    device: str = "auto",
    seed: int = 0,
    progress: bool = True,
    report: bool = True,
    command: str = "overconf evaluate",
) -> ZooRun:
    """Evaluate every locally present pair of ``dataset`` under ``perturbations``; write records, run.json
    and (if ``report``) the report under ``out``. ``attack_examples`` limits attacks to the first samples."""
    specs = [s.strip() for s in perturbations if s.strip()]
    plain = [s for s in specs if s != CORRUPTIONS]
    load_corruptions = corruption_loader(dataset) if CORRUPTIONS in specs else None
    models_dir = resolve_models_dir(models_dir)
    selected = load_catalogue(catalogue, extra_catalogues).select(dataset, pairs)
    if not selected.pairs:
        raise ConfigError(f"the catalogue has no pairs for {dataset!r}", hint="see `overconf zoo list`")
    present, skipped = present_pairs(selected, models_dir)
    if not present.pairs:
        first = selected.pairs[0]
        raise MissingFileError(
            f"none of the {len(selected)} selected {dataset} pairs has its files under {models_dir} "
            f"(e.g. {skipped[0][1]})",
            hint=f"run `{fetch_command(first.robust)}` (or `overconf zoo fetch --dataset {dataset}`), "
            "or point --models-dir / $OVERCONF_MODELS at your models folder",
        )
    corruption_sets = load_corruptions(data_dir=data_dir) if load_corruptions is not None else []
    importlib.import_module("overconf.perturb")
    data = load_dataset(dataset, data_dir, n_examples)
    device_ = resolve_device(device)
    run_dir = Path(out)
    run_dir.mkdir(parents=True, exist_ok=True)

    models = present.models()
    grid = [
        GridModel(ModelInfo(m.name, m.pair, m.robust, m.dataset, dict(m.meta)),
                  lambda m=m: load_model(m, models_dir).to(device_))
        for m in models
    ]
    manifest = read_manifest(run_dir)
    manifest.update({
        "command": command,
        "created": manifest.get("created") or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": {"zoo": dataset, "pairs": list(pairs or []), "models_dir": str(models_dir),
                   "n_examples": n_examples, "attack_examples": attack_examples, "eps": eps,
                   "batch_size": batch_size, "device": str(device_),
                   "skipped": [{"robust": r, "missing": p} for r, p in skipped]},
        "seed": seed,
        "versions": environment_versions(),
        "data": {"name": dataset, "sha256": data_fingerprint(data), "path": str(data_dir or ""), "n": len(data)},
        "models": [_model_entry(m, models_dir) for m in models],
        "perturbations": specs,
    })
    write_manifest(run_dir, manifest)

    written = run_grid(grid, data, plain, run_dir, n_attack=attack_examples, eps=eps, batch_size=batch_size,
                       device=device_, seed=seed, progress=progress)
    for label, corrupted_set in corruption_sets:
        written += run_grid(grid, corrupted_set.subset(n_examples), [label], run_dir, batch_size=batch_size, device=device_,
                            seed=seed, progress=progress)
    result = ZooRun(run_dir, [m.name for m in models], skipped, written)
    if report:
        try:
            from overconf.report import build_report
        except ImportError:
            return result
        result.report = build_report(run_dir)
    return result
