"""Data sets: loaders return :class:`~overconf.data.base.ImageSet` of ``(x in [0, 1], y, index)``."""

from overconf.data.base import DATASETS, ImageSet, TensorImageSet
from overconf.vocabulary import DEFAULT_EPS

__all__ = ["DATASETS", "DEFAULT_EPS", "ImageSet", "TensorImageSet"]
