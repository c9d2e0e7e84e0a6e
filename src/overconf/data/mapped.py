"""Any map-style dataset as an :class:`~overconf.data.base.ImageSet`: items ``(x, y)`` or ``(x, y, index)``
(e.g. a ``torch.utils.data.TensorDataset`` of images in [0, 1] and labels, or a torchvision data set with
``transform=ToTensor()``)."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from overconf.data.base import ImageSet
from overconf.errors import DataError


class MappedImageSet(ImageSet):
    """Wraps ``dataset``; ``index`` is the item's position unless the item carries its own."""

    def __init__(self, dataset: Dataset[Any], name: str = "data", num_classes: int | None = None,
                 rows: range | None = None) -> None:
        self.dataset, self.name = dataset, name
        self.num_classes = num_classes or 0
        self.rows = rows if rows is not None else range(len(dataset))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        item = self.dataset[self.rows[i]]
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise DataError(f"{self.name}: item {i} is a {type(item).__name__} of length "
                            f"{len(item) if hasattr(item, '__len__') else '?'}, expected (x, y) or (x, y, index)",
                            hint="wrap your data so that dataset[i] returns (image tensor in [0, 1], label)")
        x, y = item[0], item[1]
        index = int(item[2]) if len(item) == 3 else self.rows[i]
        if not isinstance(x, torch.Tensor) or x.ndim != 3:
            raise DataError(f"{self.name}: item {i}'s image is {type(x).__name__} of shape "
                            f"{tuple(getattr(x, 'shape', ()))}, expected a C×H×W tensor",
                            hint="use transform=ToTensor() (or a tensor dataset) so images are C×H×W in [0, 1]")
        return x.float(), int(y), index

    def subset(self, n: int | None) -> MappedImageSet:
        if n is None or n >= len(self):
            return self
        return MappedImageSet(self.dataset, self.name, self.num_classes, self.rows[:n])


def as_image_set(dataset: Dataset[Any], name: str | None = None, num_classes: int | None = None) -> ImageSet:
    """``dataset`` itself when it is an :class:`ImageSet`, else wrapped in a :class:`MappedImageSet`."""
    if isinstance(dataset, ImageSet):
        return dataset
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise DataError(f"{type(dataset).__name__} is not a map-style dataset (no __len__/__getitem__)",
                        hint="pass e.g. a torch.utils.data.TensorDataset(images, labels)")
    return MappedImageSet(dataset, name or type(dataset).__name__, num_classes)
