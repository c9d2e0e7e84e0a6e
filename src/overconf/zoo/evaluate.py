"""``overconf evaluate --zoo DATASET``: the paper's evaluation of the zoo's pairs found locally.

Pairs whose files are missing are skipped and reported; the rest run through the same engine as every
run (:func:`overconf.run.local.run_grid`): one Parquet file per model × perturbation, resumable, plus a
``run.json`` manifest holding each checkpoint's SHA-256. ``corruptions`` expands to the pre-generated
sets (CIFAR-10-C / CIFAR-100-C / ImageNet-C, 15 corruptions × 5 severities, :mod:`overconf.data.corrupted`),
each evaluated with the identity perturbation labelled ``<corruption>:severity=<s>``
(:class:`overconf.perturb.corruption.Pregenerated`), so their records read like generated corruptions.
The report is built at the end when :mod:`overconf.report` is available.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from overconf.data.base import DATASETS, DEFAULT_EPS, ImageSet, TensorImageSet
from overconf.data.corrupted import CIFAR_C, IMAGENET_C, find_corrupted_folder, load_cifar_c, load_imagenet_c
from overconf.data.corruptions import CORRUPTIONS as CORRUPTION_NAMES
from overconf.data.corruptions import SEVERITIES
from overconf.errors import ConfigError, MissingFileError
from overconf.evaluation.engine import evaluate, resolve_device
from overconf.evaluation.records import ModelInfo
from overconf.perturb import create_perturbation
from overconf.perturb.corruption import Pregenerated, pregenerated
from overconf.run.local import GridModel, run_grid
from overconf.run.manifest import environment_versions, read_manifest, sha256_file, write_manifest
from overconf.store.parquet import has_records, write_records
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


def corruption_sets(dataset: str, data_dir: Path | None) -> list[tuple[Pregenerated, Callable[[], ImageSet]]]:
    """``(perturbation, load the set)`` per corruption × severity of the pre-generated sets of ``dataset``.

    Raises :class:`MissingFileError` (naming where the folder is expected) before anything runs.
    """
    folders = {name: folder for name, (folder, _) in CIFAR_C.items()} | {"imagenet": IMAGENET_C}
    if dataset not in folders:
        raise ConfigError(f"no pre-generated corruptions of {dataset!r}", hint=f"`{CORRUPTIONS}` needs one of {list(folders)}")
    find_corrupted_folder(folders[dataset], data_dir)

    def loader(name: str, severity: int) -> Callable[[], ImageSet]:
        if dataset == "imagenet":
            return lambda: load_imagenet_c(name, severity, data_dir)
        return lambda: load_cifar_c(dataset, name, severity, data_dir)

    return [(pregenerated(name, s), loader(name, s)) for name in CORRUPTION_NAMES for s in SEVERITIES]


def _evaluate_corruptions(
    models: Sequence[GridModel], sets: list[tuple[Pregenerated, Callable[[], ImageSet]]], run_dir: Path,
    n_examples: int | None, **engine: Any,
) -> list[Path]:
    """Each model on each pre-generated set, skipping cells already written (as :func:`run_grid` does)."""
    written = []
    for grid_model in models:
        todo = [(p, load) for p, load in sets if not has_records(run_dir, grid_model.info.model, p.label)]
        if not todo:
            continue
        model = grid_model.load()
        for perturbation, load in todo:
            table = evaluate(model, grid_model.info, load().subset(n_examples), perturbation, **engine)
            written.append(write_records(run_dir, table))
    return written


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
    imagenet_order: str = "robustbench",
    command: str = "overconf evaluate",
) -> ZooRun:
    """Evaluate every locally present pair of ``dataset`` under ``perturbations``; write records, run.json
    and (if ``report``) the report under ``out``. ``attack_examples`` limits attacks to the first samples;
    ``imagenet_order`` is :func:`overconf.data.imagenet.load_imagenet`'s ``order``."""
    specs = [s.strip() for s in perturbations if s.strip()]
    plain = [s for s in specs if s != CORRUPTIONS]
    for spec in plain:  # fail on a bad spec or device before any file is looked for or model loaded
        create_perturbation(spec, eps=DEFAULT_EPS.get(dataset, 8 / 255) if eps is None else eps)
    device_ = resolve_device(device)
    corrupted = corruption_sets(dataset, data_dir) if CORRUPTIONS in specs else []
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
    data = load_dataset(dataset, data_dir, n_examples, **({"order": imagenet_order} if dataset == "imagenet" else {}))
    run_dir = Path(out)
    run_dir.mkdir(parents=True, exist_ok=True)

    models = present.models()
    def loader(model: ZooModel) -> Callable[[], Any]:
        return lambda: load_model(model, models_dir).to(device_)

    grid = [GridModel(ModelInfo(m.name, m.pair, m.robust, m.dataset, dict(m.meta)), loader(m)) for m in models]
    manifest = read_manifest(run_dir)
    manifest.update({
        "command": command,
        "created": manifest.get("created") or datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {"zoo": dataset, "pairs": list(pairs or []), "models_dir": str(models_dir),
                   "n_examples": n_examples, "attack_examples": attack_examples, "eps": eps,
                   "batch_size": batch_size, "device": str(device_),
                   "skipped": [{"robust": r, "missing": p} for r, p in skipped]},
        "seed": seed,
        "versions": environment_versions(),
        "data": {"name": dataset, "sha256": data_fingerprint(data), "path": str(data_dir or ""), "n": len(data)},
        "models": [_model_entry(m, models_dir) for m in models],
        "perturbations": plain + [p.label for p, _ in corrupted],
    })
    write_manifest(run_dir, manifest)

    written = run_grid(grid, data, plain, run_dir, n_per_family={"attack": attack_examples}, eps=eps, batch_size=batch_size,
                       device=device_, seed=seed, progress=progress)
    written += _evaluate_corruptions(grid, corrupted, run_dir, n_examples, batch_size=batch_size, device=device_,
                                     seed=seed, progress=progress)
    result = ZooRun(run_dir, [m.name for m in models], skipped, written)
    if report:
        try:
            from overconf.report import build_report
        except ImportError:
            return result
        result.report = build_report(run_dir)
    return result
