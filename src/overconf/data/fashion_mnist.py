"""Fashion-MNIST from its gzipped IDX files, validated, with a fetch that never surprises.

Where we look: only in ``--data-dir`` when it is given (also as a torchvision root, i.e. its
``FashionMNIST/raw/`` subfolder; data missing there is an error naming the missing files); otherwise, in
order, ``$OVERCONF_DATA`` (likewise), ``/usr/share/datasets/fashion-mnist/`` (Debian's
``dataset-fashion-mnist``), and the torchvision-style folder that ``fetch`` downloads into,
``$OVERCONF_CACHE/data/FashionMNIST/raw/``.

IDX format (big-endian): magic ``0x00000803`` + count, rows, cols for images (uint8), magic
``0x00000801`` + count for labels (uint8, 0..9).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import torch

from overconf.data.base import DATASETS, TensorImageSet
from overconf.errors import DataError, MissingFileError
from overconf.paths import cache_root, explicit_data_dir

NAME = "fashion-mnist"
NUM_CLASSES = 10
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60_000),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10_000),
}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "dataset-fashion-mnist"
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801


def candidate_dirs(data_dir: Path | None = None) -> list[Path]:
    """Folders that may hold the four ``.gz`` files, in the order they are tried."""
    if data_dir is not None:
        return [Path(data_dir), Path(data_dir) / "FashionMNIST" / "raw"]
    roots = [Path(os.environ["OVERCONF_DATA"])] if os.environ.get("OVERCONF_DATA") else []
    dirs = [d for root in roots for d in (root, root / "FashionMNIST" / "raw")]
    return [*dirs, DEBIAN_DIR, cache_root() / "data" / "FashionMNIST" / "raw"]


def find_dir(data_dir: Path | None = None) -> Path:
    """The first candidate folder holding all four files; :class:`MissingFileError` otherwise (for an
    explicit ``data_dir``: naming the files it lacks)."""
    data_dir = explicit_data_dir(data_dir)
    needed = [name for images, labels, _ in FILES.values() for name in (images, labels)]
    for folder in candidate_dirs(data_dir):
        if all((folder / name).is_file() for name in needed):
            return folder
    if data_dir is not None:
        missing = [name for name in needed if not (data_dir / name).is_file()]
        raise MissingFileError(
            f"--data-dir {data_dir} lacks Fashion-MNIST's {', '.join(missing)} (also looked in {data_dir}/FashionMNIST/raw)",
            hint=f"copy the four IDX .gz files there (Debian's copy: {DEBIAN_DIR}), "
            "run `overconf data fetch fashion-mnist --data-dir` with that folder, or leave --data-dir out",
        )
    looked = ", ".join(str(d) for d in candidate_dirs(data_dir))
    raise MissingFileError(
        f"Fashion-MNIST not found (looked in: {looked})",
        hint="run `overconf data fetch fashion-mnist`, or pass --data-dir to a folder with the four IDX .gz files",
    )


def _read_gz(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable gzip file ({exc})", hint="delete it and fetch the data again") from None


def read_idx_images(path: Path, expected: int | None = None) -> np.ndarray:
    """N×28×28 uint8 images from a gzipped IDX3 file, validated."""
    raw = _read_gz(path)
    if len(raw) < 16:
        raise DataError(f"{path}: too short for an IDX image header ({len(raw)} bytes)")
    magic, count, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != IMAGES_MAGIC:
        raise DataError(f"{path}: magic number {magic:#010x}, expected {IMAGES_MAGIC:#010x} (IDX images)")
    if (rows, cols) != (28, 28):
        raise DataError(f"{path}: images are {rows}×{cols}, expected 28×28")
    if expected is not None and count != expected:
        raise DataError(f"{path}: holds {count} images, expected {expected}")
    if len(raw) != 16 + count * rows * cols:
        raise DataError(f"{path}: {len(raw) - 16} bytes of pixels, expected {count * rows * cols} (truncated?)")
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, rows, cols)


def read_idx_labels(path: Path, expected: int | None = None, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """N uint8 labels from a gzipped IDX1 file, validated (count and range 0..num_classes−1)."""
    raw = _read_gz(path)
    if len(raw) < 8:
        raise DataError(f"{path}: too short for an IDX label header ({len(raw)} bytes)")
    magic, count = struct.unpack(">II", raw[:8])
    if magic != LABELS_MAGIC:
        raise DataError(f"{path}: magic number {magic:#010x}, expected {LABELS_MAGIC:#010x} (IDX labels)")
    if expected is not None and count != expected:
        raise DataError(f"{path}: holds {count} labels, expected {expected}")
    if len(raw) != 8 + count:
        raise DataError(f"{path}: {len(raw) - 8} label bytes, expected {count} (truncated?)")
    labels = np.frombuffer(raw, dtype=np.uint8, offset=8)
    if labels.size and int(labels.max()) >= num_classes:
        raise DataError(f"{path}: label {int(labels.max())} outside 0..{num_classes - 1}")
    return labels


@DATASETS.register(NAME)
def load_fashion_mnist(split: str = "test", data_dir: Path | None = None) -> TensorImageSet:
    """The ``train`` (60,000) or ``test`` (10,000) split as N×1×28×28 uint8 images and int64 labels."""
    if split not in FILES:
        raise DataError(f"unknown Fashion-MNIST split {split!r}", hint="use 'train' or 'test'")
    folder = find_dir(data_dir)
    images_name, labels_name, count = FILES[split]
    images = read_idx_images(folder / images_name, count)
    labels = read_idx_labels(folder / labels_name, count)
    return TensorImageSet(
        NAME,
        torch.from_numpy(images.copy()).unsqueeze(1),
        torch.from_numpy(labels.astype(np.int64)),
        NUM_CLASSES,
    )


def fingerprint(data_dir: Path | None = None) -> str:
    """SHA-256 over the four files' contents: part of every trained model's cache key."""
    folder = find_dir(data_dir)
    digest = hashlib.sha256()
    for images, labels, _ in FILES.values():
        for name in (images, labels):
            digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def fetch(data_dir: Path | None = None) -> Path:
    """Make the data present: already there → its folder; else Debian's package when apt is usable
    (only without ``data_dir``: it installs into its own folder); else torchvision's download into
    ``data_dir`` (which must exist) / ``$OVERCONF_DATA`` / the cache folder."""
    data_dir = explicit_data_dir(data_dir)
    try:
        return find_dir(data_dir)
    except MissingFileError:
        pass
    errors: list[str] = []
    if data_dir is not None:
        errors.append(f"apt-get not tried (it installs into {DEBIAN_DIR}, not --data-dir)")
    elif shutil.which("apt-get") and os.geteuid() == 0:
        result = subprocess.run(
            ["apt-get", "install", "-y", "-q", DEBIAN_PACKAGE], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
            result = subprocess.run(
                ["apt-get", "install", "-y", "-q", DEBIAN_PACKAGE], capture_output=True, text=True, check=False
            )
        if result.returncode == 0:
            return find_dir(data_dir)
        errors.append(f"apt-get install {DEBIAN_PACKAGE}: {result.stderr.strip().splitlines()[-1:]}")
    else:
        errors.append("apt-get not usable (not root or not Debian)")
    root = Path(data_dir or os.environ.get("OVERCONF_DATA") or cache_root() / "data")
    try:
        from torchvision.datasets import FashionMNIST

        for train in (True, False):
            FashionMNIST(str(root), train=train, download=True)
        return find_dir(data_dir if data_dir else root)
    except Exception as exc:  # noqa: BLE001 - any download failure becomes one clear message
        errors.append(f"torchvision download into {root}: {exc}")
    raise MissingFileError(
        "could not fetch Fashion-MNIST: " + "; ".join(errors),
        hint=f"install the Debian package {DEBIAN_PACKAGE}, or copy the four IDX .gz files into a folder "
        "and pass it with --data-dir or $OVERCONF_DATA",
    )
