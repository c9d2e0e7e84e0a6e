"""What every data set loader returns: a map-style torch Dataset of ``(x, y, index)``.

``x`` is a C×H×W float32 tensor in [0, 1] (normalisation lives inside the models), ``y`` the class,
``index`` the sample's position in its split, kept in every record so runs can be joined and resumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from overconf.registry import Registry
from overconf.validate import check_int


class ImageSet(Dataset[tuple[torch.Tensor, int, int]]):
    """Base class: a named split with ``num_classes`` and ``(x, y, index)`` items."""

    name: str
    num_classes: int

    def __len__(self) -> int:
        raise NotImplementedError

    def subset(self, n: int | None) -> ImageSet:
        """The first ``n`` samples (deterministic order, as RobustBench's ``n_examples``)."""
        raise NotImplementedError


@dataclass
class TensorImageSet(ImageSet):
    """An in-memory split: ``images`` N×C×H×W uint8 (0..255) or float in [0, 1], ``labels`` N int64."""

    name: str
    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int

    def __post_init__(self) -> None:
        if self.images.shape[0] != self.labels.shape[0]:
            raise ValueError(f"{self.images.shape[0]} images but {self.labels.shape[0]} labels")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        return self.float_images(slice(i, i + 1))[0], int(self.labels[i]), i

    def float_images(self, rows: slice | torch.Tensor = slice(None)) -> torch.Tensor:
        """Images as float32 in [0, 1]."""
        x = self.images[rows]
        return x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()

    def subset(self, n: int | None) -> TensorImageSet:
        if n is not None:
            check_int("n_examples", n)
        if n is None or n >= len(self):
            return self
        return TensorImageSet(self.name, self.images[:n], self.labels[:n], self.num_classes)


DATASETS: Registry[ImageSet] = Registry("dataset")
