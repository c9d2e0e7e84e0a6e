"""CIFAR-10 and CIFAR-100 test sets from the standard "python version" folders, unpickled safely.

Files (as extracted from ``cifar-10-python.tar.gz`` / ``cifar-100-python.tar.gz``, also torchvision's
layout): ``cifar-10-batches-py/test_batch`` and ``cifar-100-python/test``. Each is a Python-2 pickle of
a dict: ``data`` (N×3072 uint8, rows of 1024 red, 1024 green, 1024 blue values of a 32×32 image),
``labels`` (CIFAR-10) or ``fine_labels`` (CIFAR-100), plus file names and batch labels. We read it as
torchvision does (``encoding="latin1"``; keys written as bytes are decoded too), with an unpickler that
allows only what such a file holds: numpy's array reconstruction and dtypes.

Where we look, in order: ``--data-dir``, ``$OVERCONF_DATA``, ``$OVERCONF_CACHE/data``
(:func:`overconf.paths.cache_root`). The order of the samples is the file's (RobustBench's ``n_examples`` takes the first ``n``, so do we).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from overconf.data.base import DATASETS, TensorImageSet
from overconf.errors import DataError, MissingFileError
from overconf.paths import cache_root, explicit_data_dir

FILES = {
    "cifar10": ("cifar-10-batches-py", {"train": ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                                                   "data_batch_5"], "test": ["test_batch"]}, "labels", 10),
    "cifar100": ("cifar-100-python", {"train": ["train"], "test": ["test"]}, "fine_labels", 100),
}
URLS = {
    "cifar10": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "cifar100": "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
}
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
}


class _CifarUnpickler(pickle.Unpickler):
    """Resolves only numpy's array reconstruction; any other global is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR batch file")


def read_batch(path: Path) -> dict[str, Any]:
    """One CIFAR batch file as its dict (str keys), read with the restricted unpickler."""
    try:
        with open(path, "rb") as handle:
            batch = _CifarUnpickler(handle, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise DataError(f"{path}: not a CIFAR batch file ({exc})", hint="delete it and extract the archive again") from None
    if not isinstance(batch, dict):
        raise DataError(f"{path}: holds a {type(batch).__name__}, not a dict")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}


def candidate_roots(data_dir: Path | None = None) -> list[Path]:
    """``data_dir`` alone when given (it must exist), else ``$OVERCONF_DATA`` and the cache's ``data/``."""
    explicit = explicit_data_dir(data_dir)
    if explicit is not None:
        return [explicit]
    roots = [Path(os.environ["OVERCONF_DATA"])] if os.environ.get("OVERCONF_DATA") else []
    return [*roots, cache_root() / "data"]


def find_folder(name: str, data_dir: Path | None = None) -> Path:
    """The first ``<root>/<cifar folder>`` holding the test file; :class:`MissingFileError` otherwise."""
    folder, files, _, _ = FILES[name]
    for root in candidate_roots(data_dir):
        if (root / folder / files["test"][0]).is_file():
            return root / folder
    looked = ", ".join(str(r / folder) for r in candidate_roots(data_dir))
    raise MissingFileError(
        f"{name} not found (looked for {folder}/{files['test'][0]} in: {looked})",
        hint=f"download {URLS[name]}, extract it into a folder and pass that folder with --data-dir or $OVERCONF_DATA",
    )


def load_cifar(name: str, split: str = "test", data_dir: Path | None = None) -> TensorImageSet:
    """The split as N×3×32×32 uint8 images and int64 labels, in file order."""
    if name not in FILES:
        raise DataError(f"unknown CIFAR data set {name!r}", hint="use 'cifar10' or 'cifar100'")
    _folder_name, files, label_key, num_classes = FILES[name]
    if split not in files:
        raise DataError(f"unknown {name} split {split!r}", hint="use 'train' or 'test'")
    folder = find_folder(name, data_dir)
    images, labels = [], []
    for file_name in files[split]:
        path = folder / file_name
        if not path.is_file():
            raise MissingFileError(f"{path} not found", hint=f"extract {URLS[name]} completely")
        batch = read_batch(path)
        data, batch_labels = batch.get("data"), batch.get(label_key)
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
            raise DataError(f"{path}: 'data' is not an N×3072 uint8 array")
        if batch_labels is None or len(batch_labels) != data.shape[0]:
            raise DataError(f"{path}: {label_key!r} missing or not one label per image")
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch_labels, dtype=np.int64))
    y = np.concatenate(labels)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise DataError(f"{folder}: labels outside 0..{num_classes - 1}")
    return TensorImageSet(name, torch.from_numpy(np.concatenate(images)), torch.from_numpy(y), num_classes)


@DATASETS.register("cifar10")
def load_cifar10(split: str = "test", data_dir: Path | None = None) -> TensorImageSet:
    """CIFAR-10 (test: 10,000 images, 10 classes)."""
    return load_cifar("cifar10", split, data_dir)


@DATASETS.register("cifar100")
def load_cifar100(split: str = "test", data_dir: Path | None = None) -> TensorImageSet:
    """CIFAR-100 (test: 10,000 images, 100 fine classes)."""
    return load_cifar("cifar100", split, data_dir)
