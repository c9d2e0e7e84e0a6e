"""A run folder that proves it is untouched: ``run.json`` records the SHA-256 of every record file
(``record_sha256``: relative path → hex digest) when a run writes it, and every read checks the files
against it.

What this detects: any change to a record file's bytes after the run recorded it (an edited value, a
truncated or replaced file), and record files that ``run.json`` does not know (:func:`verify_run`). What it
does not: an edit of ``run.json`` itself made together with the records (anyone who can write the folder
can rewrite both: the hashes are a checksum, not a signature), nor results that were wrong when written.

Hashing is cached (:func:`cached_sha256`) by each file's size, modification time, change time and inode in
``<cache root>/record-sha256.json``: a file whose metadata is unchanged is not read again. The change time
(``st_ctime``) cannot be set by the user, so restoring a modification time after an edit does not hide it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from overconf.errors import RecordError

RECORD_HASHES = "record_sha256"
"""The ``run.json`` field: ``{"records/<model>/<perturbation>.parquet": "<sha256 hex>"}``."""

_CACHE_FILE = "record-sha256.json"
_CACHE_ENTRIES = 20_000
_memory: dict[str, list[Any]] = {}


def _cache_path() -> Path:
    from overconf.paths import cache_root

    return cache_root() / _CACHE_FILE


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _load_cache() -> dict[str, list[Any]]:
    if not _memory:
        try:
            loaded = json.loads(_cache_path().read_text())
            if isinstance(loaded, dict):
                _memory.update(loaded)
        except (OSError, ValueError):  # no cache yet, or a damaged one: hash again
            pass
    return _memory


def _save_cache(cache: dict[str, list[Any]]) -> None:
    from overconf.store.parquet import write_atomic

    kept = dict(list(cache.items())[-_CACHE_ENTRIES:])
    try:
        write_atomic(_cache_path(), lambda tmp: tmp.write_text(json.dumps(kept)))
    except OSError:  # the cache only saves time
        pass


def cached_sha256(paths: Iterable[Path]) -> dict[Path, str]:
    """Hex SHA-256 of each file, read only when its (size, mtime, ctime, inode) differ from the cached ones."""
    from overconf.run.manifest import sha256_file

    cache = _load_cache()
    digests: dict[Path, str] = {}
    changed = False
    for path in paths:
        key = str(Path(path).resolve())
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
        _save_cache(cache)
    return digests


def record_hashes(out: Path, fresh: Iterable[Path], previous: dict[str, Any],
                  exclude: Iterable[Path] = ()) -> dict[str, str]:
    """The ``record_sha256`` field of a run.json being written: ``fresh`` files (the run's own cells,
    checked or computed by this run) hashed now; other record files keep the hash ``previous`` (the old
    run.json) recorded for them, except ``exclude`` (cells about to be written or replaced: a run killed
    while replacing one must not leave a hash of the old file); files neither fresh nor recorded stay
    unrecorded."""
    out = Path(out)
    recorded = previous.get(RECORD_HASHES) or {}
    skipped = {str(Path(p).relative_to(out)) for p in exclude}
    hashes = {str(p.relative_to(out)): d for p, d in cached_sha256([p for p in fresh if p.is_file()]).items()}
    for path in sorted(out.glob("records/*/*.parquet")):
        name = str(path.relative_to(out))
        if name not in hashes and name not in skipped and isinstance(recorded.get(name), str):
            hashes[name] = recorded[name]
    return dict(sorted(hashes.items()))


def changed_records(out: Path, files: Sequence[Path], manifest: dict[str, Any]) -> list[tuple[Path, str]]:
    """``(file, why)`` for each of ``files`` whose SHA-256 differs from the one ``manifest`` recorded
    (files it records no hash for are not judged here)."""
    recorded = manifest.get(RECORD_HASHES) or {}
    judged = [f for f in files if isinstance(recorded.get(_relative(out, f)), str)]
    problems = []
    for path, digest in cached_sha256(judged).items():
        expected = recorded[_relative(out, path)]
        if digest != expected:
            problems.append((path, (f"its content changed since run.json recorded it (SHA-256 {digest[:12]}…, "
                                   f"recorded {expected[:12]}…)")))
    return problems


def _relative(out: Path, path: Path) -> str:
    try:
        return str(Path(path).relative_to(out))
    except ValueError:
        return str(path)


def changed_hint(path: Path) -> str:
    return (f"if you did not change it, the folder was edited or damaged: delete {path} and rerun the run's "
            "command to recompute it (`overconf verify RUN` checks the whole folder)")


def check_record_hashes(files: Sequence[Path]) -> None:
    """:class:`RecordError` naming the first of ``files`` (``<run>/records/<model>/<file>``) whose content
    differs from the SHA-256 its run's ``run.json`` recorded."""
    from overconf.run.manifest import read_manifest

    runs: dict[Path, list[Path]] = {}
    for path in files:
        runs.setdefault(Path(path).parent.parent.parent, []).append(Path(path))
    for out, members in runs.items():
        manifest = read_manifest(out)
        for path, why in changed_records(out, members, manifest)[:1]:
            raise RecordError(f"{path}: {why}", hint=changed_hint(path))


def verify_run(out: Path) -> tuple[int, list[str]]:
    """Check a whole run folder: ``run.json`` readable and recording hashes, every record file valid
    (:func:`overconf.store.validation.check_record_file`), its SHA-256 and its stored configuration as
    ``run.json`` recorded them, no recorded file missing and no unrecorded one. Returns (files checked,
    problems: one line each)."""
    from overconf.run.identity import differing_keys
    from overconf.run.manifest import MANIFEST, read_manifest
    from overconf.store.parquet import read_cell
    from overconf.store.validation import check_record_file

    out = Path(out)
    if not out.is_dir():
        raise RecordError(f"{out}: no such run folder", hint="give a folder written by overconf run / demo / evaluate")
    problems: list[str] = []
    try:
        manifest = read_manifest(out)
    except RecordError as exc:
        return 0, [exc.message]
    if not manifest:
        problems.append(f"{out / MANIFEST}: missing")
    recorded = manifest.get(RECORD_HASHES)
    if manifest and not isinstance(recorded, dict):
        problems.append(f"{out / MANIFEST}: records no SHA-256 of the record files (written by an older overconf; "
                        "rerun its command to record them)")
        recorded = {}
    recorded = recorded or {}
    configs = {c.get("file"): c.get("config") for c in manifest.get("cells", []) if isinstance(c, dict)}
    files = sorted(out.glob("records/*/*.parquet"))
    valid = []
    for path in files:
        name = str(path.relative_to(out))
        try:
            check_record_file(path)
        except RecordError as exc:
            problems.append(exc.message)
            continue
        valid.append(path)
        if name not in recorded and recorded:
            problems.append(f"{path}: not recorded in run.json (copied in, or written by another run)")
        expected = configs.get(name)
        if isinstance(expected, dict):
            keys = differing_keys((read_cell(path) or {}).get("config"), expected)
            if keys:
                problems.append(f"{path}: its configuration differs from run.json's in {', '.join(keys[:4])}")
    problems += [f"{path}: {why}" for path, why in changed_records(out, valid, manifest)]
    present = {str(p.relative_to(out)) for p in files}
    problems += [f"{out / name}: recorded in run.json but missing" for name in sorted(set(recorded) - present)]
    return len(files), problems


def remove_stale_temporary(folder: Path, name: str) -> None:
    """Remove the temporary files a killed writer of ``folder/name`` left (``.<name>.*.tmp``,
    :func:`overconf.store.parquet.write_atomic`); call it only while no live writer can be writing them."""
    for tmp in Path(folder).glob(f".{name}.*.tmp"):
        try:
            os.unlink(tmp)
        except OSError:
            pass
