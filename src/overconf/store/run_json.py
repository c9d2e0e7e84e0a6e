"""``<out>/run.json``: what a run was (command, configuration, seeds, versions, data, models, cells and hashes).

Keys: ``command`` (str), ``created`` and ``updated`` (ISO times: first and latest write), ``overconf_version``
(str), ``git_commit`` (str or null), ``config`` (dict: the resolved spec, with ``skipped`` pairs), ``seed`` (int),
``versions`` (package → version, with ``overconf`` and ``git_commit``), ``data`` (``{"name", "sha256", "path",
"size", "n_examples", ...}``), ``models`` (list of :func:`model_entry`: ``{"model", "pair", "robust", "dataset",
"checkpoint", "sha256", "config", ...}``), ``perturbations`` (list of spec strings), ``cells`` (list of
``{"model", "perturbation", "file", "config", "engine"}``: each cell's identity, :mod:`overconf.store.identity`,
and the engine settings it was computed with) and ``record_sha256`` (record file → SHA-256,
:mod:`overconf.store.integrity`). The report reads it; it is rewritten atomically whenever a run adds to it (and
left alone when its content would not change).
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from overconf.errors import RecordError
from overconf.evaluation.records import ModelInfo
from overconf.files import write_atomic

MANIFEST = "run.json"
_PACKAGES = ("overconf", "torch", "torchvision", "numpy", "scipy", "scikit-learn", "pandas", "pyarrow",
             "duckdb", "matplotlib", "pyautoattack", "robustbench", "timm", "safetensors")


def model_entry(info: ModelInfo, **details: Any) -> dict[str, Any]:
    """A model's entry in ``run.json``'s ``models``: who it is (``info``) and ``details`` (``checkpoint``,
    ``sha256``, ``config``, ...)."""
    return {"model": info.model, "pair": info.pair, "robust": info.robust, "dataset": info.dataset, **details}


def environment_versions() -> dict[str, str]:
    """Python and the versions of the packages that shape the numbers."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def read_manifest(out: Path) -> dict[str, Any]:
    """The run's manifest, or an empty dict when the run has none yet; a damaged one (empty, not JSON, not
    an object: what a full disk or an editor leaves) is a :class:`~overconf.errors.RecordError` naming it."""
    path = Path(out) / MANIFEST
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecordError(f"{path}: damaged, not a JSON object ({type(exc).__name__}: {str(exc)[:120]})",
                          hint="rerun the run's command (e.g. overconf run SPEC --out RUN): it rebuilds run.json "
                          "from the spec and the record files") from None
    if not isinstance(manifest, dict):
        raise RecordError(f"{path}: damaged, holds a {type(manifest).__name__}, not a JSON object",
                          hint="rerun the run's command (e.g. overconf run SPEC --out RUN): it rebuilds run.json")
    return manifest


def write_manifest(out: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest`` as ``<out>/run.json`` (atomically; not at all when the file already says the same)."""
    path = Path(out) / MANIFEST
    text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
    try:
        unchanged = path.read_text() == text
    except (OSError, UnicodeDecodeError):
        unchanged = False
    if not unchanged:  # an all-done resume rewrites nothing
        write_atomic(path, lambda tmp: tmp.write_text(text))
    return path
