"""Where a run lives: a local folder, or an ``s3://bucket/prefix`` URI of any S3-compatible object store.

A local run folder is used as it is. A remote run is worked on through a local *mirror* (``<cache_root>/remote/
<hash of the URI>``): :meth:`RunFolder.pull` copies the run's files that are missing or differ (size, modification
time) from the store into it and drops record files the store no longer holds; every file written atomically in
the mirror (record files, ``run.json``: :func:`overconf.files.write_atomic`) is uploaded at once with one
put (an S3 object appears whole or not at all, so a record file is never partial there either); and
:meth:`RunFolder.push_changed` uploads the rest (summary, report). So the checks, resume loop, report and DuckDB
queries run unchanged on local files (the mirror needs local disk the size of the run; memory stays bounded).

The S3 file system is :class:`pyarrow.fs.S3FileSystem` with the standard variables ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION``/``AWS_DEFAULT_REGION`` and ``AWS_ENDPOINT_URL``
(any S3-compatible store, e.g. MinIO or Ceph: ``AWS_ENDPOINT_URL=http://host:9000``).

Not protected on S3: per-cell claims are ``flock`` s on local files, so two runs writing one S3 folder at the same
time (from two machines) may both compute a cell; the last put wins and both copies are complete, equally
configured record files, but ``run.json`` then records whichever run finished last.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from overconf.errors import ConfigError, StoreError
from overconf.files import upload_writes_under
from overconf.paths import cache_root

SCHEMES = ("s3",)
REMOTE = "remote"
"""Folder under :func:`overconf.paths.cache_root` holding the mirrors of remote runs."""

_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/{1,2}(.*)$")
_MIRRORS: dict[Path, RunFolder] = {}
"""Mirror folders of this process (resolved) → their run (whose :meth:`RunFolder.push` uploads what is written there)."""


def uri_of(out: str | Path, what: str = "a run folder", example: str = "s3://bucket/runs/mine") -> str | None:
    """The remote URI ``out`` names (``None`` for a local path). A ``Path`` made from a URI has lost one slash
    (``s3:/bucket/run``); it is read as the URI it was. ``what`` and ``example`` say what a bare bucket lacks.

    >>> uri_of("s3://bucket/run"), uri_of(Path("s3://bucket/run")), uri_of("runs/mine"), uri_of("C:/x")
    ('s3://bucket/run', 's3://bucket/run', None, None)
    """
    match = _URI.match(str(out))
    if match is None or match.group(1).lower() in ("file",) or len(match.group(1)) == 1:  # C:/ is a drive
        return None
    scheme, rest = match.group(1).lower(), match.group(2).strip("/")
    if scheme not in SCHEMES:
        raise ConfigError(f"{scheme}://{rest}: {scheme}:// is not supported", hint="give a local path or an s3:// URI")
    if "/" not in rest or not rest.split("/", 1)[1]:
        raise ConfigError(f"{scheme}://{rest} names a bucket, not {what} in it", hint=f"e.g. {example}")
    return f"{scheme}://{rest}"


def s3_filesystem() -> Any:
    """A :class:`pyarrow.fs.S3FileSystem` from the standard ``AWS_*`` variables (``AWS_ENDPOINT_URL`` passed
    explicitly, with its ``http``/``https`` scheme)."""
    from pyarrow import fs

    options: dict[str, Any] = {}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        scheme, sep, host = endpoint.partition("://")
        options.update(endpoint_override=host.rstrip("/") if sep else endpoint, scheme=scheme if sep else "https")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        options["region"] = region
    return fs.S3FileSystem(**options)


def _store_error(what: str, exc: BaseException) -> StoreError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    return StoreError(f"{what} ({first})", hint="check the bucket, AWS_ENDPOINT_URL and the AWS_ACCESS_KEY_ID / "
                      "AWS_SECRET_ACCESS_KEY variables, then rerun: finished cells are kept")


def _stamp_matches(local: Path, size: int, mtime_ns: int) -> bool:
    try:
        stat = local.stat()
    except OSError:
        return False
    return stat.st_size == size and stat.st_mtime_ns == mtime_ns


def _hidden(relative: str) -> bool:
    return any(part.startswith(".") for part in relative.split("/"))


@dataclass
class RunFolder:
    """A run folder: ``local`` is where the code reads and writes (the run itself, or the mirror of ``uri``)."""

    local: Path
    uri: str | None = None
    _fs: Any = field(default=None, repr=False)

    @classmethod
    def open(cls, out: str | Path, mirror: Path | None = None) -> RunFolder:
        """The run folder ``out`` names; a remote one gets its mirror (``mirror``, default under the cache root)
        registered so that atomic writes in it are uploaded."""
        uri = uri_of(out)
        if uri is None:
            return cls(Path(out))
        if mirror is None:
            mirror = cache_root() / REMOTE / hashlib.sha256(uri.encode()).hexdigest()[:24]
        folder = cls(Path(mirror), uri, s3_filesystem())
        folder.local.mkdir(parents=True, exist_ok=True)
        _MIRRORS[folder.local.resolve()] = folder
        upload_writes_under(folder.local, folder.push)
        return folder

    @property
    def remote(self) -> bool:
        return self.uri is not None

    @property
    def name(self) -> str:
        """The run as the user named it (URI or local path)."""
        return self.uri or str(self.local)

    @property
    def _root(self) -> str:
        assert self.uri is not None
        return self.uri.split("://", 1)[1]

    def close(self) -> None:
        """Stop uploading what is written in the mirror (the mirror itself stays)."""
        _MIRRORS.pop(self.local.resolve(), None)
        upload_writes_under(self.local, None)

    def _listing(self) -> dict[str, Any]:
        """Relative path → :class:`pyarrow.fs.FileInfo` of every file of the remote run."""
        from pyarrow import ArrowException, fs

        try:
            infos = self._fs.get_file_info(fs.FileSelector(self._root, recursive=True, allow_not_found=True))
        except (OSError, ArrowException) as exc:
            raise _store_error(f"{self.uri}: cannot list it", exc) from None
        return {info.path[len(self._root) + 1:]: info for info in infos if info.type == fs.FileType.File}

    def pull(self, only: list[str] | None = None) -> int:
        """Copy the remote run's files (or only the relative paths ``only``) that the mirror lacks or holds
        otherwise; drop mirror record files the store does not hold. Returns the number of files copied."""
        if not self.remote:
            return 0
        from pyarrow import ArrowException

        listing = self._listing()
        wanted = listing if only is None else {k: v for k, v in listing.items() if k in only}
        copied = 0
        for relative, info in wanted.items():
            target = self.local / relative
            if _hidden(relative) or _stamp_matches(target, info.size, info.mtime_ns):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.pull.tmp")
            try:
                with self._fs.open_input_stream(info.path) as source, open(tmp, "wb") as sink:
                    shutil.copyfileobj(source, sink, 1 << 20)
            except (OSError, ArrowException) as exc:
                tmp.unlink(missing_ok=True)
                raise _store_error(f"{self.uri}/{relative}: cannot read it", exc) from None
            os.replace(tmp, target)
            os.utime(target, ns=(info.mtime_ns, info.mtime_ns))
            copied += 1
        if only is None:
            for stale in (self.local / "records").glob("*/*.parquet"):
                if str(stale.relative_to(self.local)) not in listing:
                    stale.unlink()
        return copied

    def push(self, path: Path) -> None:
        """Upload one mirror file (one put, or one multipart upload completed at the end: the object appears whole
        or not at all)."""
        if not self.remote:
            return
        from pyarrow import ArrowException

        relative = Path(path).resolve().relative_to(self.local.resolve()).as_posix()
        key = f"{self._root}/{relative}"
        data = Path(path).read_bytes()  # read first: a failed local read must not complete a partial object
        try:
            with self._fs.open_output_stream(key) as sink:
                sink.write(data)
            info = self._fs.get_file_info(key)
        except (OSError, ArrowException) as exc:
            raise _store_error(f"{self.uri}/{relative}: cannot write it", exc) from None
        os.utime(path, ns=(info.mtime_ns, info.mtime_ns))  # the mirror now matches the store

    def push_changed(self) -> int:
        """Upload every mirror file (hidden ones aside) the store lacks or holds otherwise; returns how many."""
        if not self.remote:
            return 0
        listing = self._listing()
        pushed = 0
        for path in sorted(p for p in self.local.rglob("*") if p.is_file()):
            relative = path.relative_to(self.local).as_posix()
            info = listing.get(relative)
            if _hidden(relative) or (info is not None and _stamp_matches(path, info.size, info.mtime_ns)):
                continue
            self.push(path)
            pushed += 1
        return pushed


def mirrored(local: Path) -> RunFolder | None:
    """The remote run whose mirror ``local`` is (``None`` for a plain local folder)."""
    return _MIRRORS.get(Path(local).resolve())


@contextmanager
def opened(out: str | Path) -> Iterator[RunFolder]:
    """The run ``out`` names, its remote files copied into the mirror first; what the block wrote there is
    uploaded when it ends without an error."""
    folder = RunFolder.open(out)
    try:
        folder.pull()
        yield folder
        folder.push_changed()
    finally:
        folder.close()
