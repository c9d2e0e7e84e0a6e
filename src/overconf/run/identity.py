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
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from overconf.run.manifest import environment_versions


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


def differing_keys(stored: dict[str, Any] | None, requested: dict[str, Any]) -> list[str]:
    """The dotted keys whose values differ (``["<no stored configuration>"]`` when there is none).

    >>> differing_keys({"data": {"n_examples": 100}, "seed": 0}, {"data": {"n_examples": 500}, "seed": 0})
    ['data.n_examples']
    """
    if not stored:
        return ["<no stored configuration>"]
    a, b = flatten(canonical(stored)), flatten(canonical(requested))
    return sorted(k for k in a.keys() | b.keys() if a.get(k, "<absent>") != b.get(k, "<absent>"))


@cache
def git_commit() -> str | None:
    """The commit of the overconf source tree when it is a git checkout (``None`` for an installed wheel)."""
    folder = Path(__file__).resolve().parents[1]
    try:
        result = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def overconf_version() -> str:
    from overconf import __version__

    return __version__


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    return tuple(environment_versions().items())


def provenance(engine: dict[str, Any]) -> dict[str, Any]:
    """What produced a cell but does not define it: versions, commit, and the engine settings used
    (:class:`overconf.evaluation.engine.EngineSettings`: device, resolved batch size, workers, threads, ...);
    ``device`` and ``batch_size`` also at the top level, as before."""
    return {"overconf": overconf_version(), "git_commit": git_commit(), "versions": dict(_versions()),
            "device": engine.get("device"), "batch_size": engine.get("batch_size"), "engine": engine}
