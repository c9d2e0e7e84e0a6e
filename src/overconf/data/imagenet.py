"""ImageNet validation images from a folder of class subfolders, decoded lazily one item at a time.

Layout: ``<root>/<wnid>/<file>.JPEG`` (e.g. ``val/n01440764/ILSVRC2012_val_00000293.JPEG``); ``root`` is
``--data-dir`` itself, or its ``val`` or ``imagenet/val`` subfolder. Class indices are the positions of
the WordNet ids in sorted order (the standard 0..999; RobustBench's ``imagenet_class_to_id_map.json``).

Order (``order``): ``robustbench`` (default) is RobustBench's fixed list of 5,000 validation images
(``robustbench/helper_files/imagenet_test_image_ids.txt``, read from the installed distribution without
importing it), the order its ``load_imagenet`` uses; ``sorted`` is every image found, by class then file
name (torchvision's ``ImageFolder`` order). ``n_examples`` takes the first ``n`` in that order.

Preprocessing (RobustBench's names): ``Res256Crop224`` (resize the short side to 256, centre-crop 224),
``BicubicRes256Crop224``, ``Crop288`` (centre crop 288, no resize), or any other name of the same forms
(:func:`overconf.data.folder.preprocessing_steps`); the result is a float tensor in [0, 1]. The set is an
:class:`overconf.data.folder.ImageFolderSet`, as every image-file set is.
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import metadata
from pathlib import Path

from overconf.data.base import DATASETS
from overconf.data.folder import ImageFolderSet
from overconf.errors import ConfigError, DataError, MissingFileError
from overconf.paths import explicit_data_dir

__all__ = ["EXTENSIONS", "NAME", "NUM_CLASSES", "ORDERS", "ImageFolderSet", "class_index", "find_root",
           "load_imagenet", "robustbench_image_ids"]

NAME = "imagenet"
NUM_CLASSES = 1000
EXTENSIONS = (".jpeg", ".jpg", ".png")
ORDERS = ("robustbench", "sorted")
def _robustbench_helper(name: str) -> Path | None:
    try:
        path = Path(str(metadata.distribution("robustbench").locate_file(f"robustbench/helper_files/{name}")))
    except metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


@cache
def robustbench_image_ids() -> tuple[str, ...]:
    """RobustBench's 5,000 validation images as ``<wnid>/<file>`` paths, in its order."""
    path = _robustbench_helper("imagenet_test_image_ids.txt")
    if path is None:
        raise ConfigError("RobustBench's ImageNet image list is not installed", hint="use --imagenet-order sorted")
    return tuple(line.strip() for line in path.read_text().splitlines() if line.strip())


def class_index(wnids: list[str]) -> dict[str, int]:
    """WordNet id → class index: RobustBench's map when installed, else the sorted ids found."""
    path = _robustbench_helper("imagenet_class_to_id_map.json")
    return json.loads(path.read_text()) if path is not None else {w: i for i, w in enumerate(sorted(wnids))}


def find_root(data_dir: Path | None = None) -> Path:
    """The folder of class subfolders; :class:`MissingFileError` when none is found."""
    explicit = explicit_data_dir(data_dir)
    if explicit is not None:
        bases = [explicit]
    else:
        bases = [Path(os.environ["OVERCONF_DATA"])] if os.environ.get("OVERCONF_DATA") else []
    candidates = [c for base in bases for c in (base / "val", base / "imagenet" / "val", base)]
    for folder in candidates:
        if folder.is_dir() and any(p.is_dir() and p.name.startswith("n") for p in folder.iterdir()):
            return folder
    raise MissingFileError(
        f"no ImageNet validation folder found (looked in: {', '.join(map(str, candidates)) or 'nothing: no --data-dir'})",
        hint="pass --data-dir pointing at a folder with val/<wnid>/*.JPEG (the validation set sorted into class folders)",
    )


@DATASETS.register(NAME)
def load_imagenet(
    split: str = "val",
    data_dir: Path | None = None,
    order: str = "robustbench",
    preprocessing: str = "Res256Crop224",
) -> ImageFolderSet:
    """The ImageNet validation images found under ``data_dir`` (see the module docstring)."""
    if split not in ("val", "test"):
        raise DataError(f"only the ImageNet validation split is supported, not {split!r}", hint="use split 'val'")
    if order not in ORDERS:
        raise ConfigError(f"unknown ImageNet order {order!r}", hint=f"choose one of {', '.join(ORDERS)}")
    root = find_root(data_dir)
    wnids = sorted(p.name for p in root.iterdir() if p.is_dir())
    classes = class_index(wnids)
    unknown = [w for w in wnids if w not in classes]
    if unknown:
        raise DataError(f"{root}: folders {unknown[:3]} are not ImageNet classes")
    if order == "robustbench":
        relative = robustbench_image_ids()
        missing = [r for r in relative if not (root / r).is_file()]
        if missing:
            raise MissingFileError(
                f"{root}: {len(missing)} of RobustBench's {len(relative)} images are missing, e.g. {root / missing[0]}",
                hint="use the full validation set sorted into class folders, or --imagenet-order sorted",
            )
        samples = [(root / r, classes[r.split("/")[0]]) for r in relative]
    else:
        samples = [
            (path, classes[w]) for w in wnids for path in sorted((root / w).iterdir())
            if path.suffix.lower() in EXTENSIONS
        ]
    if not samples:
        raise DataError(f"{root}: no images found", hint=f"expected files ending in {', '.join(EXTENSIONS)}")
    return ImageFolderSet(NAME, samples, NUM_CLASSES, preprocessing)
