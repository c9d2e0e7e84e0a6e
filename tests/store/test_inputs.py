"""Remote inputs made local: a copy under the cache, downloaded again only when the store's object changed, never
seen half-written, checked against the plan's identity on another machine, and errors in one line naming the URI.
The store here is a local folder behind pyarrow's file system interface (the S3 server tests are in
tests/run/test_s3_runs.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Self

import pytest

from overconf.errors import ConfigError, MissingFileError, StoreError
from overconf.files import sha256_file
from overconf.store import inputs
from overconf.store.inputs import RemoteData, checkpoint_here, input_home, local_copy


class Store:
    """A bucket folder served through :class:`pyarrow.fs.SubTreeFileSystem`; counts downloads, and can break
    the next one after ``fail_after`` bytes (or end it short)."""

    def __init__(self, root: Path) -> None:
        from pyarrow import fs

        self.root = root
        self.fs = fs.SubTreeFileSystem(str(root), fs.LocalFileSystem())
        self.downloads: list[str] = []
        self.fail_after: int | None = None
        self.short = False

    def put(self, key: str, data: bytes, mtime: int | None = None) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fs, name)

    def open_input_stream(self, path: str) -> Any:
        self.downloads.append(path)
        data = self.fs.open_input_stream(path).read()
        store = self

        class Stream:
            def __init__(self) -> None:
                self.at = 0

            def __enter__(self) -> Self:
                return self

            def __exit__(self, *exc: object) -> None:
                return None

            def read(self, n: int = -1) -> bytes:
                if store.fail_after is not None and self.at >= store.fail_after:
                    raise OSError("connection reset by peer")
                end = len(data) if n < 0 else self.at + n
                if store.fail_after is not None:
                    end = min(end, store.fail_after)
                if store.short:
                    end = min(end, len(data) // 2)
                chunk, self.at = data[self.at:end], min(end, len(data))
                return chunk

        return Stream()


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(inputs, "_COPIES", {})
    served = Store(tmp_path / "store")
    monkeypatch.setattr(inputs, "s3_filesystem", lambda: served)
    return served


def test_an_object_is_copied_once_and_again_only_when_it_changed(store: Store) -> None:
    store.put("bucket/ckpt/robust.pt", b"weights-1", mtime=1_700_000_000)
    copy = local_copy("s3://bucket/ckpt/robust.pt")
    assert copy.path == input_home("s3://bucket/ckpt/robust.pt") / "robust.pt"
    assert copy.path.read_bytes() == b"weights-1" and len(store.downloads) == 1
    assert local_copy("s3://bucket/ckpt/robust.pt") == copy and len(store.downloads) == 1  # unchanged: kept
    store.put("bucket/ckpt/robust.pt", b"weights-2", mtime=1_700_000_000)  # same size and time: not seen
    assert local_copy("s3://bucket/ckpt/robust.pt").path.read_bytes() == b"weights-1"
    store.put("bucket/ckpt/robust.pt", b"weights-22", mtime=1_700_000_000)  # size changed
    assert local_copy("s3://bucket/ckpt/robust.pt").path.read_bytes() == b"weights-22"
    store.put("bucket/ckpt/robust.pt", b"weights-33", mtime=1_700_000_100)  # time changed
    assert local_copy("s3://bucket/ckpt/robust.pt").path.read_bytes() == b"weights-33"
    assert len(store.downloads) == 3
    assert not [p for p in copy.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_folder_is_copied_file_by_file_and_loses_what_the_store_dropped(store: Store) -> None:
    for name in ("a/0.png", "a/1.png", "b/0.png"):
        store.put(f"bucket/data/test/{name}", name.encode())
    first = local_copy("s3://bucket/data/test")
    assert first.path.name == "test"
    assert sorted(p.relative_to(first.path).as_posix() for p in first.path.rglob("*") if p.is_file()) == [
        "a/0.png", "a/1.png", "b/0.png"]
    (store.root / "bucket/data/test/a/1.png").unlink()
    second = local_copy("s3://bucket/data/test")
    assert not (second.path / "a" / "1.png").exists() and second.digest != first.digest
    assert len(store.downloads) == 3


@pytest.mark.parametrize("how", ["reset", "short"])
def test_a_failed_download_leaves_no_file_and_names_the_uri(store: Store, how: str) -> None:
    store.put("bucket/ckpt/robust.pt", b"x" * 5000)
    if how == "reset":
        store.fail_after = 100
    else:
        store.short = True
    with pytest.raises(StoreError, match=r"^s3://bucket/ckpt/robust.pt: ") as raised:
        local_copy("s3://bucket/ckpt/robust.pt")
    assert "\n" not in str(raised.value)
    home = input_home("s3://bucket/ckpt/robust.pt")
    assert not [p for p in home.rglob("*") if p.is_file()], "a partial file was left"
    store.fail_after, store.short = None, False
    assert local_copy("s3://bucket/ckpt/robust.pt").path.read_bytes() == b"x" * 5000


def test_a_missing_object_is_one_line_naming_the_uri(store: Store) -> None:
    (store.root / "bucket").mkdir(parents=True)
    with pytest.raises(MissingFileError, match=r"^s3://bucket/ckpt/nothing.pt: no such object or folder"):
        local_copy("s3://bucket/ckpt/nothing.pt")


def test_a_checkpoint_replaced_during_the_run_is_refused_where_it_is_loaded(store: Store) -> None:
    store.put("bucket/ckpt/robust.pt", b"weights-1")
    planned = sha256_file(local_copy("s3://bucket/ckpt/robust.pt").path)
    assert checkpoint_here("s3://bucket/ckpt/robust.pt", planned).read_bytes() == b"weights-1"
    store.put("bucket/ckpt/robust.pt", b"weights-22")
    with pytest.raises(StoreError, match="s3://bucket/ckpt/robust.pt changed during the run: its SHA-256"):
        checkpoint_here("s3://bucket/ckpt/robust.pt", planned)


def test_a_data_set_reads_the_copy_of_the_machine_it_runs_on(store: Store, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    class Folder:  # the shape of overconf.data.folder.ImageFolderSet that matters here
        def __init__(self, samples: list[tuple[Path, int]]) -> None:
            self.samples = samples

    for name in ("a/0.png", "b/0.png"):
        store.put(f"bucket/data/test/{name}", name.encode())
    planned = local_copy("s3://bucket/data/test")
    remote = RemoteData("s3://bucket/data/test", planned.path, planned.digest)
    dataset = Folder([(planned.path / "a" / "0.png", 0), (planned.path / "b" / "0.png", 1)])
    assert remote.here(dataset) is dataset  # the machine that planned it

    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "other-machine"))  # another node: its own cache
    monkeypatch.setattr(inputs, "_COPIES", {})
    moved = remote.loading(lambda: dataset)
    assert [p.read_bytes() for p, _ in moved.samples] == [b"a/0.png", b"b/0.png"]
    assert all(p.is_relative_to(tmp_path / "other-machine") for p, _ in moved.samples)
    assert [y for _, y in moved.samples] == [0, 1] and dataset.samples[0][0] == planned.path / "a" / "0.png"

    store.put("bucket/data/test/c/0.png", b"new")  # the store's folder changed since the plan
    monkeypatch.setattr(inputs, "_COPIES", {})
    with pytest.raises(StoreError, match="s3://bucket/data/test changed during the run"):
        remote.here(dataset)


def test_an_emptied_class_folder_leaves_the_copy(store: Store) -> None:
    """An image folder's classes are its sub-folders: a folder the store no longer holds must go, or labels shift."""
    for name in ("a/1.png", "b/1.png", "c/1.png"):
        store.put(f"bucket/data/{name}", name.encode())
    local_copy("s3://bucket/data")
    (store.root / "bucket/data/b/1.png").unlink()
    copy = local_copy("s3://bucket/data")
    assert sorted(p.name for p in copy.path.iterdir()) == ["a", "c"]


@pytest.mark.parametrize("key", ["bucket/data/../../escaped.txt", "bucket/data//x.png", "bucket/data/./x.png"])
def test_a_key_that_is_no_local_path_is_refused_before_anything_is_written(store: Store, key: str,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from pyarrow import fs

    def listing(selector: Any) -> Any:
        if isinstance(selector, fs.FileSelector):
            return [fs.FileInfo(key, type=fs.FileType.File, size=1, mtime_ns=0)]
        return fs.FileInfo(selector, type=fs.FileType.Directory)

    monkeypatch.setattr(store, "get_file_info", listing, raising=False)
    with pytest.raises(StoreError, match="cannot be a local path"):
        local_copy("s3://bucket/data")
    assert not input_home("s3://bucket/data").exists() and store.downloads == []


def test_a_checkpoint_uri_naming_a_folder_is_refused_before_downloading(store: Store) -> None:
    for name in ("m0.pt", "m1.pt"):
        store.put(f"bucket/ckpts/{name}", b"w")
    with pytest.raises(ConfigError, match="is a folder in the store, not one file"):
        local_copy("s3://bucket/ckpts", expect="file")
    assert store.downloads == []
