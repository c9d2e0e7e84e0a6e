"""``<out>/run.json``: what a run was (command, configuration, seeds, versions, data and checkpoint hashes).

Keys: ``command`` (str), ``created`` (ISO time), ``config`` (dict), ``seed`` (int), ``versions``
(package → version), ``data`` (``{"name", "sha256", "path"}``), ``models`` (list of
``{"model", "pair", "robust", "dataset", "checkpoint", "sha256", "config"}``), ``perturbations`` (list of
spec strings). The report reads it; it is rewritten atomically whenever a run adds to it (and left alone when
its content would not change).
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from overconf.errors import RecordError

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


HASH_CACHE = "sha256"
"""Folder under :func:`overconf.paths.cache_root` remembering checkpoint hashes (:func:`cached_sha256`)."""


def cached_sha256(path: Path) -> str:
    """:func:`sha256_file` of ``path``, remembered under ``<cache_root>/sha256/`` by (absolute path, size,
    modification time in ns): a checkpoint is hashed at most once per machine until it changes. One small JSON
    file per checkpoint (written atomically), so concurrent processes never lose each other's entries; a
    cache that cannot be read or written only costs the hash. ``overconf zoo verify`` hashes afresh."""
    from overconf.paths import cache_root

    path = Path(path).resolve()
    stat = path.stat()
    key = {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    entry = cache_root() / HASH_CACHE / f"{hashlib.sha256(str(path).encode()).hexdigest()[:32]}.json"
    try:
        stored = json.loads(entry.read_text())
        if isinstance(stored, dict) and {k: stored.get(k) for k in key} == key and isinstance(stored.get("sha256"), str):
            return str(stored["sha256"])
    except (OSError, ValueError):
        pass
    digest = sha256_file(path)
    try:
        from overconf.store.parquet import write_atomic

        text = json.dumps({**key, "sha256": digest})
        write_atomic(entry, lambda tmp: tmp.write_text(text))
    except OSError:
        pass
    return digest


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
    # imported here, not at the top: `overconf --version` needs only the functions above
    from overconf.store.parquet import write_atomic

    path = Path(out) / MANIFEST
    text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
    try:
        unchanged = path.read_text() == text
    except (OSError, UnicodeDecodeError):
        unchanged = False
    if not unchanged:  # an all-done resume rewrites nothing
        write_atomic(path, lambda tmp: tmp.write_text(text))
    return path
