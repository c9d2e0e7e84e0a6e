"""The data side of a run: fingerprint the data a spec names, sample it, expand ``corruptions``.

``corruptions`` (optionally with ``:severity=N``) expands to the pre-generated CIFAR-10-C /
CIFAR-100-C / ImageNet-C sets when the data set has them and they are present (all five severities, or
severity N), else to the 15 corruptions generated here (:data:`overconf.data.corruptions.CORRUPTIONS`) at
severity N (default 3).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, is_dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from overconf.data.base import ImageSet, TensorImageSet
from overconf.data.corrupted import CIFAR_C, IMAGENET_C, find_corrupted_folder, load_cifar_c, load_imagenet_c
from overconf.data.corruptions import CORRUPTIONS, SEVERITIES
from overconf.data.sample import ORDERS, class_coverage, labels_of, reordered, stratified_order
from overconf.errors import ConfigError, DataError, MissingFileError
from overconf.perturb import create_perturbation, parse_spec
from overconf.perturb.base import Perturbation, parse_value
from overconf.perturb.corruption import pregenerated

CORRUPTIONS_SPEC = "corruptions"
PREGENERATED_FOLDERS = {name: folder for name, (folder, _) in CIFAR_C.items()} | {"imagenet": IMAGENET_C}


def fingerprint(dataset: ImageSet) -> str:
    """SHA-256 of what is evaluated: pixel and label bytes held in memory, or the ordered file list of a folder."""
    own = getattr(dataset, "fingerprint", None)
    if callable(own):
        return str(own())
    digest = hashlib.sha256()
    if isinstance(dataset, TensorImageSet):
        digest.update(str(tuple(dataset.images.shape)).encode())
        digest.update(dataset.images.contiguous().numpy().tobytes())
        digest.update(dataset.labels.contiguous().numpy().tobytes())
    else:
        for path, label in getattr(dataset, "samples", []):
            digest.update(f"{Path(path).parent.name}/{Path(path).name}\t{label}\n".encode())
    return digest.hexdigest()


def fair_order(dataset: ImageSet, order: str | None, seed: int, sizes: list[int | None],
               where: str) -> tuple[ImageSet, dict[str, Any]]:
    """Folder and npz data in the order ``n_examples`` takes its first ``n`` from, and what run.json records.

    ``order`` ``stratified`` (default): when any of ``sizes`` is below the set's size, the seeded class-stratified
    order of :func:`overconf.data.sample.stratified_order` (every prefix covers the classes in proportion; the
    order changes the data fingerprint, which hashes the ordered samples); ``sorted``: the files' order. The
    record: ``order``, ``order_seed`` and ``sample_indices`` (position in the sample → index in the files'
    order, as far as the largest ``n`` reaches) where reordered, and ``classes_present``.
    """
    order = order or "stratified"
    if order not in ORDERS:
        raise ConfigError(f"{where}: unknown order {order!r} for {dataset.name}",
                          hint=f"choose one of {', '.join(ORDERS)} (stratified: a seeded class-stratified sample)")
    labels = labels_of(dataset)
    record: dict[str, Any] = {"order": "sorted", "classes_present": int(np.unique(labels).size)}
    limits = [n for n in sizes if n is not None and n < len(dataset)]
    if order == "sorted" or not limits:  # every sample is evaluated: the files' order is kept
        return dataset, record
    record["order"] = order
    positions = stratified_order(labels, seed)
    record.update(order_seed=seed, sample_indices=positions[:max(limits)].tolist())
    return reordered(dataset, positions), record


def coverage_warnings(dataset: ImageSet, sizes: dict[str, int | None]) -> list[str]:
    """One line per ``n_examples`` whose first ``n`` samples cover fewer classes than the set holds."""
    lines = []
    for what, n in sizes.items():
        covered, total = class_coverage(dataset, n)
        if covered < total:
            lines.append(f"{what} = {n}: the samples evaluated cover {covered} of the {total} classes of {dataset.name}")
    return lines


def first_n(dataset: ImageSet, n: int | None, what: str) -> ImageSet:
    """The first ``n`` samples; more than the set holds is an error (never silently fewer)."""
    if n is not None and n > len(dataset):
        raise DataError(f"{what}: n_examples = {n} but the data set holds only {len(dataset)} samples",
                        hint=f"use n_examples ≤ {len(dataset)}, or leave it out to evaluate all")
    return dataset.subset(n)


@dataclass
class PerturbationPlan:
    """One resolved perturbation: the object, its spec, where its data comes from and its identity."""

    perturbation: Perturbation
    spec: str
    load: Callable[[], ImageSet] | None  # None: the run's test set; else a pre-generated set
    source: dict[str, Any]

    @property
    def label(self) -> str:
        return self.perturbation.label

    @property
    def family(self) -> str:
        return self.perturbation.family


def perturbation_parameters(perturbation: Perturbation) -> dict[str, Any]:
    """Every resolved parameter of a perturbation object (ε, steps, step size, queries, severity, ...)."""
    params = asdict(perturbation) if is_dataclass(perturbation) else dict(vars(perturbation))
    return {k: v for k, v in params.items() if k not in ("label", "family") and not callable(v)}


def expand_perturbations(specs: list[str] | tuple[str, ...], dataset: str, data_dir: Path | None,
                         eps: float) -> list[PerturbationPlan]:
    """Build every perturbation (failing on the first bad spec), ``corruptions`` expanded (module docstring)."""
    plans: list[PerturbationPlan] = []
    for text in specs:
        spec = parse_spec(text)
        if spec.name != CORRUPTIONS_SPEC:
            plans.append(PerturbationPlan(create_perturbation(text, eps=eps), text, None, {"source": "generated"}))
            continue
        unknown = sorted(set(spec.params) - {"severity"})
        if unknown:
            raise ConfigError(f"{text!r}: corruptions takes only severity, not {unknown[0]}",
                              hint="e.g. corruptions or corruptions:severity=5")
        severity = parse_value(spec.params["severity"]) if "severity" in spec.params else None
        if severity is not None and severity not in SEVERITIES:
            raise ConfigError(f"{text!r}: severity must be one of 1..5")
        plans += _corruption_plans(dataset, data_dir, severity, eps)  # type: ignore[arg-type]
    labels = [p.label for p in plans]
    duplicated = sorted({label for label in labels if labels.count(label) > 1})
    if duplicated:
        raise ConfigError(f"perturbation {duplicated[0]!r} is listed twice", hint="list each perturbation once")
    return plans


def _corruption_plans(dataset: str, data_dir: Path | None, severity: int | None, eps: float) -> list[PerturbationPlan]:
    folder_name = PREGENERATED_FOLDERS.get(dataset)
    folder = None
    if folder_name is not None:
        try:
            folder = find_corrupted_folder(folder_name, data_dir)
        except MissingFileError:
            folder = None
    if folder is None:
        level = 3 if severity is None else severity
        return [PerturbationPlan(create_perturbation(f"{name}:severity={level}", eps=eps), f"{name}:severity={level}",
                                 None, {"source": "generated"}) for name in CORRUPTIONS]
    severities = SEVERITIES if severity is None else (severity,)
    plans = []
    for name in CORRUPTIONS:
        for s in severities:
            source: dict[str, Any]
            load: Callable[[], ImageSet]
            if dataset == "imagenet":
                load = partial(load_imagenet_c, name, s, data_dir)
                where = folder / name / str(s)
                source = {"source": folder_name, "set": f"{folder_name}/{name}/{s}"}
            else:
                load = partial(load_cifar_c, dataset, name, s, data_dir)
                file = folder / f"{name}.npy"
                source = {"source": folder_name, "set": f"{folder_name}/{name}.npy",
                          "bytes": file.stat().st_size if file.is_file() else None}
                where = file
            if not where.exists():
                raise MissingFileError(f"{where} not found", hint=f"{folder} is incomplete: fetch {folder_name} again")
            plans.append(PerturbationPlan(pregenerated(name, s), f"{name}:severity={s}", load, source))
    return plans
