"""Data sets by name: every registered loader, and one split of one.

The loader modules register themselves in :data:`overconf.data.base.DATASETS` when imported; the names
here import them all first.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from overconf.data.base import DATASETS, ImageSet

_LOADER_MODULES = ("overconf.data.fashion_mnist", "overconf.data.cifar", "overconf.data.imagenet",
                   "overconf.data.folder")


def dataset_names() -> list[str]:
    """Every registered data set (importing the loader modules registers them)."""
    for module in _LOADER_MODULES:
        importlib.import_module(module)
    return DATASETS.names()


def load_split(dataset: str, data_dir: Path | None = None, *, split: str | None = None, **options: Any) -> ImageSet:
    """The ``split`` of ``dataset`` (default: its evaluation split, ``val`` for ImageNet, else ``test``) with
    loader ``options``."""
    dataset_names()
    loader = DATASETS.get(dataset)
    split = split or ("val" if dataset == "imagenet" else "test")
    return loader(split=split, data_dir=data_dir, **{k: v for k, v in options.items() if v is not None})
