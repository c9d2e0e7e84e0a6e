"""CIFAR loaders on small files in the published pickle layout (no download)."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from overconf.data.base import DATASETS
from overconf.data.cifar import load_cifar10, load_cifar100
from overconf.errors import DataError, MissingFileError


def _write_cifar10(root, n=12, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).tolist()
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batch = {"batch_label": "testing batch 1 of 1", "labels": labels, "data": data,
             "filenames": [f"img_{i}.png" for i in range(n)]}
    (folder / "test_batch").write_bytes(pickle.dumps(batch, protocol=2))
    return data, labels


def test_cifar10_matches_torchvision(tmp_path, monkeypatch):
    from torchvision.datasets import CIFAR10

    data, labels = _write_cifar10(tmp_path)
    ours = DATASETS.get("cifar10")(split="test", data_dir=tmp_path)
    assert (ours.name, ours.num_classes, len(ours)) == ("cifar10", 10, 12)
    monkeypatch.setattr(CIFAR10, "_check_integrity", lambda self: True)  # our file is not the real one
    monkeypatch.setattr(CIFAR10, "_load_meta", lambda self: None)
    theirs = CIFAR10(str(tmp_path), train=False, download=False)
    np.testing.assert_array_equal(ours.images.permute(0, 2, 3, 1).numpy(), theirs.data)
    assert ours.labels.tolist() == theirs.targets == labels
    x, y, index = ours.subset(5)[4]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32 and (y, index) == (labels[4], 4)
    torch.testing.assert_close(x, torch.from_numpy(data[4].reshape(3, 32, 32)).float() / 255)
    assert len(ours.subset(5)) == 5 and ours.subset(5).labels.tolist() == labels[:5]


def test_cifar100_fine_labels_from_data_env(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    data = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
    (folder / "test").write_bytes(pickle.dumps({b"data": data, b"fine_labels": [99, 3], b"coarse_labels": [1, 2]}))
    monkeypatch.setenv("OVERCONF_DATA", str(tmp_path))
    ours = load_cifar100()
    assert ours.labels.tolist() == [99, 3] and ours.num_classes == 100
    assert ours.images[1, 0, 0, 0] == data[1, 0] and ours.images[1, 2, 31, 31] == data[1, 3071]


def test_code_in_a_batch_file_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'MARKER'}",))

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(DataError, match="not allowed"):
        load_cifar10(data_dir=tmp_path)
    assert not (tmp_path / "MARKER").exists()


def test_missing_truncated_and_malformed(tmp_path, monkeypatch):
    monkeypatch.delenv("OVERCONF_DATA", raising=False)
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "cache"))
    with pytest.raises(MissingFileError, match="cifar-10-batches-py"):
        load_cifar10(data_dir=tmp_path)
    _write_cifar10(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataError):
        load_cifar10(data_dir=tmp_path)
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(DataError, match="3072"):
        load_cifar10(data_dir=tmp_path)
