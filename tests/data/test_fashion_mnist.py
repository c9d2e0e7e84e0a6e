"""The Fashion-MNIST loader: search order, validation with clear messages, the real files."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from overconf.data import fashion_mnist as fm
from overconf.errors import DataError, MissingFileError


def write_idx(folder: Path, n_train: int = 6, n_test: int = 4, *, magic_images: int = fm.IMAGES_MAGIC,
              label_value: int | None = None, truncate: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("test", n_test)):
        images_name, labels_name, _ = fm.FILES[split]
        pixels = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8).tobytes()
        if truncate:
            pixels = pixels[:-5]
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        if label_value is not None:
            labels[-1] = label_value
        with gzip.open(folder / images_name, "wb") as f:
            f.write(struct.pack(">IIII", magic_images, n, 28, 28) + pixels)
        with gzip.open(folder / labels_name, "wb") as f:
            f.write(struct.pack(">II", fm.LABELS_MAGIC, n) + labels.tobytes())


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OVERCONF_DATA", raising=False)


def test_reads_valid_files(tmp_path: Path) -> None:
    write_idx(tmp_path)
    images = fm.read_idx_images(tmp_path / fm.FILES["test"][0], expected=4)
    labels = fm.read_idx_labels(tmp_path / fm.FILES["test"][1], expected=4)
    assert images.shape == (4, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (4,) and labels.max() < 10


def test_data_dir_comes_before_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_idx(tmp_path / "a")
    write_idx(tmp_path / "b")
    monkeypatch.setenv("OVERCONF_DATA", str(tmp_path / "b"))
    assert fm.find_dir(tmp_path / "a") == tmp_path / "a"
    assert fm.find_dir(None) == tmp_path / "b"


def test_torchvision_layout_is_found(tmp_path: Path) -> None:
    write_idx(tmp_path / "FashionMNIST" / "raw")
    assert fm.find_dir(tmp_path) == tmp_path / "FashionMNIST" / "raw"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"magic_images": 0x00000801}, "magic number"),
        ({"label_value": 10}, "label 10 outside 0..9"),
        ({"truncate": True}, "truncated"),
    ],
)
def test_malformed_files_name_the_file(tmp_path: Path, kwargs: dict, message: str) -> None:
    write_idx(tmp_path, **kwargs)
    with pytest.raises(DataError, match=message) as info:
        fm.read_idx_images(tmp_path / fm.FILES["test"][0]) if "label" not in message else fm.read_idx_labels(
            tmp_path / fm.FILES["test"][1])
    assert str(tmp_path) in str(info.value)


def test_wrong_count_is_an_error(tmp_path: Path) -> None:
    write_idx(tmp_path, n_test=3)
    with pytest.raises(DataError, match="holds 3 images, expected 10000"):
        fm.load_fashion_mnist("test", tmp_path)


def test_not_gzip_is_an_error(tmp_path: Path) -> None:
    write_idx(tmp_path)
    (tmp_path / fm.FILES["test"][0]).write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="not a readable gzip"):
        fm.read_idx_images(tmp_path / fm.FILES["test"][0])


def test_missing_everywhere_names_places_and_fetch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fm, "DEBIAN_DIR", tmp_path / "nowhere")
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "cache"))
    with pytest.raises(MissingFileError) as info:
        fm.find_dir()
    assert str(tmp_path / "nowhere") in info.value.message and str(tmp_path / "cache") in info.value.message
    assert "overconf data fetch" in (info.value.hint or "")


def test_explicit_data_dir_is_the_only_place_looked_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = tmp_path / "system"
    write_idx(system)
    monkeypatch.setattr(fm, "DEBIAN_DIR", system)  # a complete system copy must not be used instead
    with pytest.raises(MissingFileError) as info:
        fm.find_dir(tmp_path / "nonexistent")
    assert info.value.message == f"--data-dir {tmp_path / 'nonexistent'}: no such folder"
    (tmp_path / "partial").mkdir()
    write_idx(tmp_path / "partial")
    (tmp_path / "partial" / fm.FILES["test"][1]).unlink()
    with pytest.raises(MissingFileError) as info:
        fm.load_fashion_mnist("test", tmp_path / "partial")
    assert info.value.message.startswith(f"--data-dir {tmp_path / 'partial'} lacks Fashion-MNIST's {fm.FILES['test'][1]} ")
    with pytest.raises(MissingFileError):
        fm.fetch(tmp_path / "nonexistent")
    assert not (tmp_path / "nonexistent").exists()


def test_real_test_split() -> None:
    try:
        data = fm.load_fashion_mnist("test")
    except MissingFileError:
        pytest.skip("Fashion-MNIST is not installed (make data)")
    assert len(data) == 10_000 and data.images.shape == (10_000, 1, 28, 28)
    assert np.bincount(data.labels.numpy(), minlength=10).tolist() == [1000] * 10
    x, _y, i = data[3]
    assert x.dtype.is_floating_point and 0 <= float(x.min()) and float(x.max()) <= 1 and i == 3
    assert len(data.subset(100)) == 100


def test_fetch_falls_back_to_torchvision_then_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets

    monkeypatch.setattr(fm, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(fm.shutil, "which", lambda name: None)  # no apt-get here
    calls: list[tuple[str, bool]] = []

    def offline(root: str, train: bool, download: bool) -> None:
        calls.append((root, train))
        raise RuntimeError("network unreachable")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", offline)
    with pytest.raises(MissingFileError) as info:
        fm.fetch()
    assert calls == [(str(tmp_path / "cache" / "data"), True)]
    assert "apt-get not usable" in info.value.message and "network unreachable" in info.value.message
    assert fm.DEBIAN_PACKAGE in (info.value.hint or "")
    (tmp_path / "target").mkdir()
    with pytest.raises(MissingFileError) as info:
        fm.fetch(tmp_path / "target")
    assert calls[-1] == (str(tmp_path / "target"), True)
    assert "apt-get not tried" in info.value.message and "network unreachable" in info.value.message

    def download(root: str, train: bool, download: bool) -> None:  # what torchvision leaves behind
        write_idx(Path(root) / "FashionMNIST" / "raw")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", download)
    assert fm.fetch(tmp_path / "target") == tmp_path / "target" / "FashionMNIST" / "raw"
    assert fm.fetch(tmp_path / "target") == tmp_path / "target" / "FashionMNIST" / "raw"  # present: nothing to do
