"""Files written whole or not at all, and their SHA-256: what every layer writes and hashes.

:func:`write_atomic` writes a temporary file beside the target, fsyncs it and renames it onto the target, so a
reader (or a rerun after a kill) sees the old file or the new one, never half of one; a folder registered with
:func:`upload_writes_under` (the local mirror of an ``s3://`` run, :mod:`overconf.store.location`) has every
file written there handed on at once.

Two SHA-256 caches, both under :func:`overconf.paths.cache_root`, differing on purpose:

- :func:`stamped_sha256` (``record-sha256.json``) guards *integrity*: record files and trained weights whose
  hash ``run.json`` or a cache recorded. A file is read again unless its size, modification time, change time
  and inode are all unchanged; the change time (``st_ctime``) cannot be set by the user, so an edit whose
  modification time was put back is still seen.
- :func:`remembered_sha256` (``sha256/``) saves *time*: a large checkpoint named in a spec or the zoo is hashed
  once per machine until its path, size or modification time change. One small JSON file per checkpoint, so
  concurrent processes never lose each other's entries.

Either cache that cannot be read or written only costs the hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from overconf.paths import cache_root

_UPLOADS: dict[Path, Callable[[Path], None]] = {}
"""Folder (resolved) → what to call with each file :func:`write_atomic` writes below it."""


def upload_writes_under(folder: Path, upload: Callable[[Path], None] | None) -> None:
    """Hand every file :func:`write_atomic` writes below ``folder`` to ``upload`` (``None``: stop)."""
    key = Path(folder).resolve()
    if upload is None:
        _UPLOADS.pop(key, None)
    else:
        _UPLOADS[key] = upload


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path`` (``.<name>.*.tmp``), fsync it, then rename it onto
    ``path``; then hand it to the upload registered for a folder above it (:func:`upload_writes_under`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except OSError as exc:  # e.g. a full disk: name the file being written (the writer may not)
        if not exc.filename:
            exc.filename = str(path)
        raise
    finally:
        tmp.unlink(missing_ok=True)
    if _UPLOADS:
        resolved = path.resolve()
        for folder in resolved.parents:
            if folder in _UPLOADS:
                _UPLOADS[folder](resolved)
                return


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


STAMPED_CACHE = "record-sha256.json"
"""File under :func:`overconf.paths.cache_root` of :func:`stamped_sha256`."""
_STAMPED_ENTRIES = 20_000
_stamped: dict[str, list[Any]] = {}


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _load_stamped() -> dict[str, list[Any]]:
    if not _stamped:
        try:
            loaded = json.loads((cache_root() / STAMPED_CACHE).read_text())
            if isinstance(loaded, dict):
                _stamped.update(loaded)
        except (OSError, ValueError):  # no cache yet, or a damaged one: hash again
            pass
    return _stamped


def _save_stamped(cache: dict[str, list[Any]]) -> None:
    kept = dict(list(cache.items())[-_STAMPED_ENTRIES:])
    try:
        write_atomic(cache_root() / STAMPED_CACHE, lambda tmp: tmp.write_text(json.dumps(kept)))
    except OSError:  # the cache only saves time
        pass


def stamped_sha256(paths: Iterable[Path]) -> dict[Path, str]:
    """Hex SHA-256 of each file, read only when its (size, mtime, ctime, inode) differ from the cached ones
    (integrity checks: see the module docstring)."""
    cache = _load_stamped()
    digests: dict[Path, str] = {}
    changed = False
    for path in paths:
        key = os.path.abspath(path)  # not resolve(): no symlink walk per file; the stamp holds the inode
        stamp = _stamp(Path(path))
        entry = cache.get(key)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == stamp:
            digests[path] = str(entry[1])
            continue
        digests[path] = sha256_file(Path(path))
        cache.pop(key, None)
        cache[key] = [stamp, digests[path]]
        changed = True
    if changed:
        _save_stamped(cache)
    return digests


REMEMBERED_CACHE = "sha256"
"""Folder under :func:`overconf.paths.cache_root` of :func:`remembered_sha256`."""


def remembered_sha256(path: Path) -> str:
    """:func:`sha256_file` of ``path``, remembered by (absolute path, size, modification time in ns): a checkpoint
    is hashed at most once per machine until it changes (speed: see the module docstring). ``overconf zoo
    verify`` hashes afresh."""
    path = Path(path).resolve()
    stat = path.stat()
    key = {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    entry = cache_root() / REMEMBERED_CACHE / f"{hashlib.sha256(str(path).encode()).hexdigest()[:32]}.json"
    try:
        stored = json.loads(entry.read_text())
        if isinstance(stored, dict) and {k: stored.get(k) for k in key} == key and isinstance(stored.get("sha256"), str):
            return str(stored["sha256"])
    except (OSError, ValueError):
        pass
    digest = sha256_file(path)
    try:
        text = json.dumps({**key, "sha256": digest})
        write_atomic(entry, lambda tmp: tmp.write_text(text))
    except OSError:
        pass
    return digest


def remove_stale_temporary(folder: Path, name: str) -> None:
    """Remove the temporary files a killed writer of ``folder/name`` left (``.<name>.*.tmp``, :func:`write_atomic`);
    call it only while no live writer can be writing them."""
    for tmp in Path(folder).glob(f".{name}.*.tmp"):
        try:
            os.unlink(tmp)
        except OSError:
            pass
