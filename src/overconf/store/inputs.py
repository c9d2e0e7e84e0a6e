"""A run's inputs named by ``s3://`` URIs (a spec's checkpoints, its image folder or ``.npz`` file), made local on
each machine that reads them.

:func:`local_copy` downloads the object, or every object under the prefix (a folder), into
``<cache_root>/inputs/<SHA-256 of the URI>/<last name of the URI>`` through
:func:`overconf.store.location.s3_filesystem` (the standard ``AWS_*`` variables). The last name is kept, so the
copy reads as the original would (the checkpoint's suffix, the data set's name). A file is downloaded again only
when the store's size or modification time differ from the copy's (the copy takes the object's modification
time); it is written to a temporary name beside its place and renamed there, so no process ever sees a partial
file; a machine's processes copy one URI one at a time (an ``flock`` on ``<SHA-256 of the URI>.lock``), so the
second finds the copy made. Files of a folder copy that the store no longer holds are removed.

Identity does not change: a checkpoint is its SHA-256 (of the copy, :func:`overconf.files.remembered_sha256`),
a data folder its fingerprint (file names, sizes, labels). The process that resolves a plan makes the copies; a
task on another machine (``--backend ray``) makes its own and checks that it is what the plan was made from
(:func:`checkpoint_here`: the SHA-256; :meth:`RemoteData.here`: the listing digest, names and sizes of the
folder's files), so an object replaced during the run is an error rather than records of other inputs.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import copy as shallow_copy
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from overconf.errors import ConfigError, MissingFileError, StoreError
from overconf.files import remembered_sha256
from overconf.paths import cache_root
from overconf.store.location import _stamp_matches, _store_error, s3_filesystem

INPUTS = "inputs"
"""Folder under :func:`overconf.paths.cache_root` holding the local copies of remote inputs."""

T = TypeVar("T")


@dataclass(frozen=True)
class LocalCopy:
    """Where this machine holds a remote input, and the digest of what it copied (SHA-256 over each file's path
    relative to the URI and size, one ``<path>\\t<size>`` line each; an object's path is empty)."""

    path: Path
    digest: str


_COPIES: dict[str, LocalCopy] = {}
"""URI → its copy made by this process (a task reading a folder once per cell lists the store once)."""


def input_home(uri: str) -> Path:
    """The folder of ``uri``'s copy: ``<cache_root>/inputs/<SHA-256 of the URI>``."""
    return cache_root() / INPUTS / hashlib.sha256(uri.encode()).hexdigest()


@contextmanager
def _one_at_a_time(lock: Path) -> Iterator[None]:
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel however the holder ends
        yield
    finally:
        os.close(fd)


def _listing(filesystem: Any, uri: str) -> dict[str, Any]:
    """Path relative to the URI (``""`` for the object itself) → :class:`pyarrow.fs.FileInfo` of each file."""
    from pyarrow import ArrowException, fs

    key = uri.split("://", 1)[1]
    try:
        info = filesystem.get_file_info(key)
        if info.type == fs.FileType.File:
            return {"": info}
        infos = filesystem.get_file_info(fs.FileSelector(key, recursive=True, allow_not_found=True))
    except (OSError, ArrowException) as exc:
        raise _store_error(f"{uri}: cannot read it", exc) from None
    listing = {i.path[len(key) + 1:]: i for i in infos if i.type == fs.FileType.File}
    for relative, info in listing.items():  # a key must not name a place outside the copy
        parts = relative.split("/")
        if any(part in ("", ".", "..") for part in parts) or PurePosixPath(relative).is_absolute():
            raise StoreError(f"{uri}: object {info.path} has a key that cannot be a local path",
                             hint="rename or remove that object in the store")
    folded: dict[str, str] = {}
    for relative in listing:  # one file on a case-insensitive disk (macOS, Windows)
        other = folded.setdefault(relative.casefold(), relative)
        if other != relative:
            raise StoreError(f"{uri}: objects {other} and {relative} differ only in case",
                             hint="rename one of them in the store: they would be one file on macOS and Windows")
    return listing


def _download(filesystem: Any, info: Any, target: Path, uri: str) -> None:
    """One object to ``target``: a temporary file beside it, renamed onto it when complete."""
    from pyarrow import ArrowException

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StoreError(f"{uri}: {info.path} lies below another object of the same name as its folder",
                         hint="an object and a folder cannot share a name here: rename one in the store") from None
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as sink, filesystem.open_input_stream(info.path) as source:
            shutil.copyfileobj(source, sink, 1 << 20)
        if tmp.stat().st_size != info.size:
            raise StoreError(f"{uri}: {info.path} changed size while copied ({tmp.stat().st_size} of {info.size} bytes)",
                             hint="rerun: the copy is made again")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        os.utime(target, ns=(info.mtime_ns, info.mtime_ns))
    except (OSError, ArrowException) as exc:
        if isinstance(exc, StoreError):
            raise
        raise _store_error(f"{uri}: cannot copy {info.path} here", exc) from None
    finally:
        tmp.unlink(missing_ok=True)


def local_copy(uri: str, *, expect: str | None = None) -> LocalCopy:
    """This machine's copy of the object or folder ``uri`` names (``s3://bucket/key``), brought up to date with
    the store first (module docstring). :class:`MissingFileError` when the store holds nothing there,
    :class:`StoreError` when it cannot be read (one line naming the URI, with a hint)."""
    filesystem = s3_filesystem()
    listing = _listing(filesystem, uri)
    if not listing:
        raise MissingFileError(f"{uri}: no such object or folder in the store",
                               hint="check the bucket and key (s3://bucket/key) and AWS_ENDPOINT_URL")
    if expect == "file" and "" not in listing:  # said before a folder's objects are downloaded
        raise ConfigError(f"{uri}: is a folder in the store, not one file", hint="name the checkpoint object itself")
    home = input_home(uri)
    target = home / uri.rstrip("/").rsplit("/", 1)[-1]
    with _one_at_a_time(home.with_name(f"{home.name}.lock")):
        if "" in listing and target.is_dir():  # the URI named a folder before, an object now
            shutil.rmtree(target)
        elif "" not in listing and target.is_file():
            target.unlink()
        for relative, info in sorted(listing.items()):
            local = target / relative if relative else target
            if not _stamp_matches(local, info.size, info.mtime_ns):
                _download(filesystem, info, local, uri)
        if "" not in listing:
            for stale in [p for p in target.rglob("*") if p.is_file()]:
                if stale.relative_to(target).as_posix() not in listing:
                    stale.unlink()
            # an emptied folder would still count as a class of an image folder: remove it, deepest first
            for folder in sorted((p for p in target.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
                if not any(folder.iterdir()):
                    folder.rmdir()
    digest = hashlib.sha256("".join(f"{r}\t{i.size}\n" for r, i in sorted(listing.items())).encode()).hexdigest()
    _COPIES[uri] = LocalCopy(target, digest)
    return _COPIES[uri]


def _changed(uri: str, what: str) -> StoreError:
    return StoreError(f"{uri} changed during the run: {what}",
                      hint="rerun: the run is planned again from the store's objects as they are now")


def checkpoint_here(uri: str, sha256: str) -> Path:
    """This machine's copy of the checkpoint ``uri``, checked against the SHA-256 the plan was made with."""
    path = local_copy(uri, expect="file").path
    found = remembered_sha256(path)
    if found != sha256:
        raise _changed(uri, f"its SHA-256 is {found[:12]}… here, {sha256[:12]}… when the run was planned")
    return path


@dataclass(frozen=True)
class RemoteData:
    """A data folder or file named by a URI, as the process that resolved the plan copied it (``origin``,
    ``digest``: :class:`LocalCopy`)."""

    uri: str
    origin: Path
    digest: str

    def here(self, dataset: T) -> T:
        """``dataset`` (read from ``origin``) reading this machine's copy: its ``samples`` (``(path, label)``)
        under ``origin`` moved to the copy here; the same object where the copy is at ``origin``."""
        made = _COPIES.get(self.uri)
        if made is None or made.digest != self.digest or not made.path.exists():
            made = local_copy(self.uri)
        if made.digest != self.digest:
            raise _changed(self.uri, "the names or sizes of its files differ from those the run was planned with")
        samples = getattr(dataset, "samples", None)
        if made.path == self.origin or samples is None:
            return dataset
        moved = shallow_copy(dataset)
        moved.samples = [(self._moved(Path(p), made.path), y) for p, y in samples]  # type: ignore[attr-defined]
        return moved

    def _moved(self, path: Path, here: Path) -> Path:
        return here / path.relative_to(self.origin) if path.is_relative_to(self.origin) else path

    def loading(self, load: Callable[[], T]) -> T:
        """:meth:`here` of what ``load`` returns (a cell's data, wherever the cell runs)."""
        return self.here(load())
