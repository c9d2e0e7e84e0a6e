"""``overconf evaluate --zoo DATASET``: a front end building a :class:`~overconf.run.spec.Spec` with a ``zoo``
table (the catalogue's pairs found locally) and running it like any spec.

Pairs whose files are missing are skipped and reported (``run.json`` ``config.skipped``); the models come from
:func:`overconf.run.models.zoo_models`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from overconf.errors import ConfigError
from overconf.run.execute import RunResult
from overconf.run.runner import run_spec
from overconf.run.spec import DataSpec, Spec, ZooSpec


def zoo_spec(dataset: str, out: Path, *, pairs: Sequence[str] | None = None, catalogue: Path | None = None,
             extra_catalogues: Sequence[Path] = (), models_dir: Path | None = None, data_dir: Path | None = None,
             n_examples: int | None = None, perturbations: Sequence[str] = ("clean",),
             attack_examples: int | None = None, eps: float | None = None, batch_size: int | str = 200,
             device: str = "auto", seed: int = 0, imagenet_order: str = "robustbench",
             engine: Mapping[str, Any] | None = None) -> Spec:
    """The spec ``overconf evaluate --zoo`` runs; ``engine``: the spec's other engine keys (``precision``,
    ``attack_precision``, ``channels_last``, ``workers``, ``threads``, ``decode``)."""
    specs = tuple(s.strip() for s in perturbations if s.strip())
    if not specs:
        raise ConfigError("no perturbations given", hint="e.g. --perturbations clean,pgd,square,corruptions")
    limits = {"attack": attack_examples} if attack_examples is not None else {}
    return Spec(
        out=Path(out), data=DataSpec(dataset, data_dir, n_examples=n_examples,
                                     order=imagenet_order if dataset == "imagenet" else None),
        zoo=ZooSpec(dataset, tuple(pairs or ()), catalogue, tuple(extra_catalogues), models_dir),
        specs=specs, n_examples=limits, eps=eps, seed=seed, device=device, batch_size=batch_size, name="zoo",
        **dict(engine or {}),
    )


def evaluate_zoo(dataset: str, out: Path, *, report: bool = True, progress: bool = True, overwrite: bool = False,
                 backend: str = "local", address: str | None = None, dry_run: bool = False,
                 command: str = "overconf evaluate", **options: Any) -> RunResult:
    """Evaluate every locally present pair of ``dataset`` (see :func:`zoo_spec` for ``options``) into ``out``."""
    return run_spec(zoo_spec(dataset, out, **options), out=out, command=command, report=report, progress=progress,
                    overwrite=overwrite, backend=backend, address=address, dry_run=dry_run)
