"""``overconf evaluate --zoo DATASET``: a front end building a :class:`~overconf.run.spec.Spec` with a ``zoo``
table (the catalogue's pairs found locally) and running it like any spec.

Pairs whose files are missing are skipped and reported (``run.json`` ``config.skipped``); the models come from
:func:`overconf.run.models.zoo_models`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from overconf.run.execute import RunResult
from overconf.run.runner import run_spec
from overconf.run.spec import Spec
from overconf.vocabulary import BATCH_SIZE, DEVICE, SEED


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
    return run_spec(zoo_spec(dataset, out, **options), out=out, command=command, report=report, progress=progress,
                    overwrite=overwrite, backend=backend, address=address, dry_run=dry_run)
