"""``<out>/run.json``: what a run was (command, configuration, seeds, versions, data and checkpoint hashes).

Keys: ``command`` (str), ``created`` (ISO time), ``config`` (dict), ``seed`` (int), ``versions``
(package → version), ``data`` (``{"name", "sha256", "path"}``), ``models`` (list of
``{"model", "pair", "robust", "dataset", "checkpoint", "sha256", "config"}``), ``perturbations`` (list of
spec strings). The report reads it; it is rewritten atomically whenever a run adds to it.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

MANIFEST = "run.json"
_PACKAGES = ("overconf", "torch", "torchvision", "numpy", "scipy", "scikit-learn", "pandas", "pyarrow",
             "duckdb", "matplotlib", "pyautoattack", "robustbench", "timm", "safetensors")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


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
    """The run's manifest, or an empty dict when the run has none yet."""
    path = Path(out) / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else {}


def write_manifest(out: Path, manifest: dict[str, Any]) -> Path:
    # imported here, not at the top: `overconf --version` needs only the functions above
    from overconf.store.parquet import write_atomic

    path = Path(out) / MANIFEST
    text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
    write_atomic(path, lambda tmp: tmp.write_text(text))
    return path
