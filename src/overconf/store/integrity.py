"""A run folder that proves it is untouched: ``run.json`` records the SHA-256 of every record file
(``record_sha256``: relative path → hex digest) when a run writes it, and every read checks the files
against it.

What this detects: any change to a record file's bytes after the run recorded it (an edited value, a
truncated or replaced file), and record files that ``run.json`` does not know (:func:`overconf.store.verify.verify_run`). What it
does not: an edit of ``run.json`` itself made together with the records (anyone who can write the folder
can rewrite both: the hashes are a checksum, not a signature), nor results that were wrong when written.

Hashing is cached (:func:`overconf.files.stamped_sha256`) by each file's size, modification time, change time
and inode: a file whose metadata is unchanged is not read again. The change time (``st_ctime``) cannot be set by
the user, so restoring a modification time after an edit does not hide it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from overconf.errors import RecordError
from overconf.files import stamped_sha256
from overconf.store.run_json import read_manifest

RECORD_HASHES = "record_sha256"
"""The ``run.json`` field: ``{"records/<model>/<perturbation>.parquet": "<sha256 hex>"}``."""

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
    hashes = {str(p.relative_to(out)): d for p, d in stamped_sha256([p for p in fresh if p.is_file()]).items()}
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
    for path, digest in stamped_sha256(judged).items():
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
    runs: dict[Path, list[Path]] = {}
    for path in files:
        runs.setdefault(Path(path).parent.parent.parent, []).append(Path(path))
    for out, members in runs.items():
        manifest = read_manifest(out)
        for path, why in changed_records(out, members, manifest)[:1]:
            raise RecordError(f"{path}: {why}", hint=changed_hint(path))
