"""Pre-generated corrupted test sets: CIFAR-10-C, CIFAR-100-C (Hendrycks & Dietterich 2019) and ImageNet-C.

Layouts (RobustBench's):

- ``<root>/CIFAR-10-C/<corruption>.npy`` (likewise ``CIFAR-100-C``): uint8, 5·n × 32 × 32 × 3, severities
  stacked: severity ``s`` is rows ``(s−1)·n … s·n − 1`` (n = 10,000 in the published files), in the order
  of the clean test set, so row ``(s−1)·n + i`` is test image ``i``; ``labels.npy`` holds the 5·n labels.
- ``<root>/ImageNet-C/<corruption>/<severity>/<wnid>/<image>``: 224×224 JPEGs, classes by sorted WordNet
  id (RobustBench's class map when installed), images by class then file name.

``root`` is ``--data-dir``, ``$OVERCONF_DATA`` or ``$OVERCONF_CACHE/data`` (:func:`overconf.paths.cache_root`) (the first holding the folder).
The returned sets index images as the clean test set does (``index`` = position in it), so their records
join with the clean ones; evaluate them with :func:`overconf.perturb.corruption.pregenerated` as the
perturbation, which records them as family ``corruption`` under the label ``<corruption>:severity=<s>``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from overconf.data.base import TensorImageSet
from overconf.data.cifar import candidate_roots
from overconf.data.corruptions import SEVERITIES
from overconf.data.folder import ImageFolderSet
from overconf.data.imagenet import EXTENSIONS, class_index
from overconf.errors import ConfigError, DataError, MissingFileError

CIFAR_C = {"cifar10": ("CIFAR-10-C", 10), "cifar100": ("CIFAR-100-C", 100)}
IMAGENET_C = "ImageNet-C"


def _check_severity(severity: int) -> int:
    if isinstance(severity, bool) or severity not in SEVERITIES:
        raise ConfigError(f"severity {severity!r} is not one of 1, 2, 3, 4, 5")
    return int(severity)


def find_corrupted_folder(folder: str, data_dir: Path | None = None) -> Path:
    """The first ``<root>/<folder>`` that exists (``folder`` = ``CIFAR-10-C``, ``ImageNet-C``, …)."""
    roots = candidate_roots(data_dir)
    for root in roots:
        if (root / folder).is_dir():
            return root / folder
        if root.name == folder and root.is_dir():
            return root
    raise MissingFileError(
        f"{folder} not found (looked in: {', '.join(str(r / folder) for r in roots)})",
        hint=f"download {folder} (RobustBench's layout) into a folder and pass it with --data-dir or $OVERCONF_DATA",
    )


def _load_npy(path: Path) -> np.ndarray:
    if not path.is_file():
        raise MissingFileError(f"{path} not found", hint=f"the folder {path.parent} must hold <corruption>.npy and labels.npy")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: not a readable .npy array ({exc})", hint="delete it and download it again") from None


def load_cifar_c(dataset: str, corruption: str, severity: int, data_dir: Path | None = None) -> TensorImageSet:
    """CIFAR-10-C / CIFAR-100-C images of one corruption at one severity, N×3×32×32 uint8 (see module doc)."""
    if dataset not in CIFAR_C:
        raise ConfigError(f"no corrupted version of {dataset!r}", hint=f"choose one of: {', '.join(CIFAR_C)}")
    severity = _check_severity(severity)
    folder_name, num_classes = CIFAR_C[dataset]
    folder = find_corrupted_folder(folder_name, data_dir)
    images = _load_npy(folder / f"{corruption}.npy")
    labels = _load_npy(folder / "labels.npy")
    if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
        raise DataError(f"{folder / corruption}.npy: {images.dtype} array of shape {images.shape}, expected uint8 N×H×W×3")
    if images.shape[0] % len(SEVERITIES) or labels.shape != (images.shape[0],):
        raise DataError(
            f"{folder}: {images.shape[0]} images and {labels.shape} labels; expected 5·n of each (5 severities)",
            hint="the files may be truncated: download them again",
        )
    n = images.shape[0] // len(SEVERITIES)
    rows = slice((severity - 1) * n, severity * n)
    y = np.asarray(labels[rows]).astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise DataError(f"{folder / 'labels.npy'}: labels outside 0..{num_classes - 1}")
    x = torch.from_numpy(np.ascontiguousarray(images[rows].transpose(0, 3, 1, 2)))
    return TensorImageSet(f"{dataset}-c", x, torch.from_numpy(y), num_classes)


def load_imagenet_c(corruption: str, severity: int, data_dir: Path | None = None, preprocessing: str = "none") -> ImageFolderSet:
    """ImageNet-C images of one corruption at one severity (see the module doc), decoded lazily: as stored
    (224×224) with ``preprocessing="none"``, else resized / cropped as named (:mod:`overconf.data.folder`)."""
    severity = _check_severity(severity)
    folder = find_corrupted_folder(IMAGENET_C, data_dir) / corruption / str(severity)
    if not folder.is_dir():
        raise MissingFileError(f"{folder} not found", hint=f"{IMAGENET_C} must hold <corruption>/<severity>/<wnid>/ folders")
    wnids = sorted(p.name for p in folder.iterdir() if p.is_dir())
    classes = class_index(wnids)
    unknown = [w for w in wnids if w not in classes]
    if unknown:
        raise DataError(f"{folder}: folders {unknown[:3]} are not ImageNet classes")
    samples = [
        (path, classes[w]) for w in wnids for path in sorted((folder / w).iterdir()) if path.suffix.lower() in EXTENSIONS
    ]
    if not samples:
        raise DataError(f"{folder}: no images found", hint=f"expected files ending in {', '.join(EXTENSIONS)}")
    return ImageFolderSet("imagenet-c", samples, 1000, preprocessing)
