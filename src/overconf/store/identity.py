"""Run identity: each cell's full resolved configuration, stored with its records and compared on resume.

A cell's ``config`` (what is compared) holds the model (checkpoint SHA-256 or training cache key), the
data (fingerprint, size of the set, samples evaluated), the perturbation with every resolved parameter
(ε, steps, step size, queries, severity, ...), the seed and the precision. Its ``provenance`` (package
versions, overconf version and git commit, device, batch size) is stored beside it but not compared:
upgrading pandas, or resuming with another batch size or on another device, does not invalidate a run. No time stamp goes into a record file, so the same cell
computed twice on CPU (by any back end) gives the same bytes. Two configurations are equal when their canonical JSON is.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from overconf.evaluation.records import ModelInfo
from overconf.store.run_json import environment_versions
from overconf.version import __version__, git_commit


def canonical(value: Any) -> Any:
    """JSON-ready form: paths and other objects as strings, tuples as lists, dict keys sorted on dump."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``.

    >>> flatten({"model": {"sha256": "x"}, "seed": 0})
    {'model.sha256': 'x', 'seed': 0}
    """
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def model_identity(info: ModelInfo, source: str, **fields: Any) -> dict[str, Any]:
    """The model part of a cell's ``config``: who the model is (``info``), where it comes from (``source``:
    ``python``, ``entry_point``, ``train`` or the zoo's loader) and ``fields`` saying which weights these are
    (a checkpoint SHA-256, a training cache key, ...).

    >>> model_identity(ModelInfo("m", "p", True, "cifar10"), "train", key="abc")
    {'name': 'm', 'pair': 'p', 'robust': True, 'dataset': 'cifar10', 'source': 'train', 'key': 'abc'}
    """
    return {"name": info.model, "pair": info.pair, "robust": info.robust, "dataset": info.dataset, "source": source,
            **fields}


def differing_keys(stored: dict[str, Any] | None, requested: dict[str, Any]) -> list[str]:
    """The dotted keys whose values differ (``["<no stored configuration>"]`` when there is none).

    >>> differing_keys({"data": {"n_examples": 100}, "seed": 0}, {"data": {"n_examples": 500}, "seed": 0})
    ['data.n_examples']
    """
    if not stored:
        return ["<no stored configuration>"]
    stored, requested = canonical(stored), canonical(requested)
    if stored == requested:  # the common case on resume: one comparison instead of flattening both
        return []
    a, b = flatten(stored), flatten(requested)
    return sorted(k for k in a.keys() | b.keys() if a.get(k, "<absent>") != b.get(k, "<absent>"))


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    return tuple(environment_versions().items())


def provenance(engine: dict[str, Any]) -> dict[str, Any]:
    """What produced a cell but does not define it: versions, commit, and the engine settings used
    (:class:`overconf.evaluation.engine.EngineSettings`: device, resolved batch size, workers, threads, ...);
    ``device`` and ``batch_size`` also at the top level, as before."""
    return {"overconf": __version__, "git_commit": git_commit(), "versions": dict(_versions()),
            "device": engine.get("device"), "batch_size": engine.get("batch_size"), "engine": engine}
