"""Loaders of pre-generated CIFAR-10-C / CIFAR-100-C / ImageNet-C, on small files made here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from overconf.data.corrupted import load_cifar_c, load_imagenet_c
from overconf.data.imagenet import class_index
from overconf.errors import ConfigError, DataError, MissingFileError

N = 4  # images per severity in the fake files


def make_cifar_c(root: Path, folder: str = "CIFAR-10-C", corruption: str = "fog", classes: int = 10) -> np.ndarray:
    """Rows (s−1)·N + i hold value 10·s + i in the red channel at pixel (0, 1); labels repeat per severity."""
    images = np.zeros((5 * N, 32, 32, 3), dtype=np.uint8)
    for s in range(1, 6):
        for i in range(N):
            images[(s - 1) * N + i, 0, 1, 0] = 10 * s + i
            images[(s - 1) * N + i, 2, 3, 2] = 200
    labels = np.tile(np.arange(N) % classes, 5).astype(np.uint8)
    (root / folder).mkdir(parents=True)
    np.save(root / folder / f"{corruption}.npy", images)
    np.save(root / folder / "labels.npy", labels)
    return images


@pytest.mark.parametrize("dataset,folder,classes", [("cifar10", "CIFAR-10-C", 10), ("cifar100", "CIFAR-100-C", 100)])
def test_cifar_c_severity_rows_and_channel_order(tmp_path: Path, dataset: str, folder: str, classes: int) -> None:
    make_cifar_c(tmp_path, folder, classes=classes)
    for severity in range(1, 6):
        data = load_cifar_c(dataset, "fog", severity, tmp_path)
        assert len(data) == N and data.num_classes == classes
        assert data.images.shape == (N, 3, 32, 32) and data.images.dtype == torch.uint8
        assert data.images[:, 0, 0, 1].tolist() == [10 * severity + i for i in range(N)]
        assert bool((data.images[:, 2, 2, 3] == 200).all())
        assert data.labels.tolist() == list(range(N))
        x, y, index = data[2]
        assert float(x[0, 0, 1]) == pytest.approx((10 * severity + 2) / 255) and (y, index) == (2, 2)
    assert len(load_cifar_c(dataset, "fog", 3, tmp_path).subset(2)) == 2


def test_cifar_c_found_through_the_environment_and_the_folder_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_cifar_c(tmp_path)
    monkeypatch.setenv("OVERCONF_DATA", str(tmp_path))
    assert len(load_cifar_c("cifar10", "fog", 1)) == N
    assert len(load_cifar_c("cifar10", "fog", 1, tmp_path / "CIFAR-10-C")) == N


def test_cifar_c_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OVERCONF_DATA", raising=False)
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "cache"))
    with pytest.raises(MissingFileError, match="CIFAR-10-C"):
        load_cifar_c("cifar10", "fog", 1, tmp_path)
    make_cifar_c(tmp_path)
    with pytest.raises(MissingFileError, match="snow.npy"):
        load_cifar_c("cifar10", "snow", 1, tmp_path)
    with pytest.raises(ConfigError):
        load_cifar_c("cifar10", "fog", 6, tmp_path)
    with pytest.raises(ConfigError):
        load_cifar_c("mnist", "fog", 1, tmp_path)
    np.save(tmp_path / "CIFAR-10-C" / "labels.npy", np.zeros(5 * N - 1, dtype=np.uint8))
    with pytest.raises(DataError, match="5 severities"):
        load_cifar_c("cifar10", "fog", 1, tmp_path)
    np.save(tmp_path / "CIFAR-10-C" / "labels.npy", np.full(5 * N, 10, dtype=np.uint8))
    with pytest.raises(DataError, match="labels outside"):
        load_cifar_c("cifar10", "fog", 1, tmp_path)
    np.save(tmp_path / "CIFAR-10-C" / "fog.npy", np.zeros((5 * N, 32, 32), dtype=np.uint8))
    with pytest.raises(DataError, match="expected uint8"):
        load_cifar_c("cifar10", "fog", 1, tmp_path)
    (tmp_path / "CIFAR-10-C" / "fog.npy").write_bytes(b"not an array")
    with pytest.raises(DataError, match="readable"):
        load_cifar_c("cifar10", "fog", 1, tmp_path)


def test_imagenet_c_classes_order_and_lazy_decoding(tmp_path: Path) -> None:
    wnids = ["n01443537", "n01440764"]  # tench (0) and goldfish (1), created out of order
    for k, wnid in enumerate(wnids):
        folder = tmp_path / "ImageNet-C" / "snow" / "2" / wnid
        folder.mkdir(parents=True)
        for j in (1, 0):
            Image.fromarray(np.full((224, 224, 3), 50 * k + 10 * j, dtype=np.uint8)).save(folder / f"img{j}.png")
    data = load_imagenet_c("snow", 2, tmp_path)
    classes = class_index(wnids)
    assert [label for _, label in data.samples] == [classes["n01440764"]] * 2 + [classes["n01443537"]] * 2
    assert [p.name for p, _ in data.samples] == ["img0.png", "img1.png"] * 2
    x, y, index = data[1]
    assert x.shape == (3, 224, 224) and float(x.max()) == pytest.approx(60 / 255) and index == 1
    assert y == classes["n01440764"]
    assert len(data.subset(3)) == 3 and data.subset(3).preprocessing == "none"
    resized = load_imagenet_c("snow", 2, tmp_path, preprocessing="Res256Crop224")
    assert resized[0][0].shape == (3, 224, 224)
    with pytest.raises(MissingFileError):
        load_imagenet_c("snow", 3, tmp_path)
    with pytest.raises(ConfigError):
        load_imagenet_c("snow", 2, tmp_path, preprocessing="Res256")
