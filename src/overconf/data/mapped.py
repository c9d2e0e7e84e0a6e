"""Any map-style dataset as an :class:`~overconf.data.base.ImageSet`: items ``(x, y)`` or ``(x, y, index)``
(e.g. a ``torch.utils.data.TensorDataset`` of images in [0, 1] and labels, or a torchvision data set with
``transform=ToTensor()``), or dict rows ``{"image": PIL image | array | tensor, "label": int}`` as Hugging Face
datasets yield them (other keys: ``keys=("img", "fine_label")``).

Images are checked as they are read: a tensor must be C×H×W float in [0, 1] with 1 or 3 channels (uint8
tensors and normalised floats are refused: models normalise inside); in dict rows a PIL image or an array
(H×W×C or H×W, uint8 in 0..255 or float in [0, 1]) is converted as ``ToTensor()`` does. ``num_classes``
defaults to what the data says (:func:`infer_num_classes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch.utils.data import Dataset

from overconf.data.base import ImageSet
from overconf.errors import DataError

DEFAULT_KEYS = ("image", "label")
"""The image and label keys of dict rows (Hugging Face's ``image``/``label`` convention)."""


def _from_row_image(x: Any, where: str) -> torch.Tensor:
    """A dict row's image (PIL, array or tensor) as a C×H×W float tensor, as ``ToTensor()`` converts it."""
    import numpy as np

    if hasattr(x, "getbands") and hasattr(x, "convert"):  # a PIL image
        x = np.asarray(x.convert("RGB" if len(x.getbands()) >= 3 else "L"))
    if isinstance(x, np.ndarray):
        if x.ndim == 2:
            x = x[:, :, None]
        if x.ndim != 3 or x.shape[2] not in (1, 3):
            raise DataError(f"{where}: image array of shape {x.shape}, expected H×W×C with C = 1 or 3 (or H×W)",
                            hint="dict rows hold images as PIL images or H×W×C arrays")
        scale = 255.0 if x.dtype == np.uint8 else 1.0
        return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))).float() / scale
    if isinstance(x, torch.Tensor) and x.dtype == torch.uint8 and x.ndim == 3 and x.shape[2] in (1, 3) \
            and x.shape[0] not in (1, 3):  # H×W×C uint8, as .with_format("torch") gives
        return x.permute(2, 0, 1).float() / 255
    return x  # type: ignore[no-any-return]


def check_image(x: Any, where: str) -> torch.Tensor:
    """``x`` if it is a C×H×W float tensor in [0, 1] with 1 or 3 channels, else a :class:`DataError`
    saying what it is and what to do."""
    if not isinstance(x, torch.Tensor) or x.ndim != 3:
        raise DataError(f"{where}: image is {type(x).__name__} of shape {tuple(getattr(x, 'shape', ()))}, "
                        "expected a C×H×W tensor",
                        hint="use transform=ToTensor() (or a tensor dataset) so images are C×H×W in [0, 1]")
    if not x.is_floating_point():
        raise DataError(f"{where}: image of dtype {x.dtype} ({'0..255 pixels' if x.dtype == torch.uint8 else 'integers'})"
                        ", expected floats in [0, 1]", hint="divide uint8 pixels by 255 (ToTensor() does)")
    if x.shape[0] not in (1, 3):
        raise DataError(f"{where}: image of shape {tuple(x.shape)} has {x.shape[0]} channels, expected 1 or 3 "
                        "(C×H×W)", hint="images are C×H×W; permute H×W×C images with x.permute(2, 0, 1)")
    low, high = float(x.min()), float(x.max())
    if not (0.0 <= low and high <= 1.0):  # also NaN
        raise DataError(f"{where}: pixel values {low:.3g}..{high:.3g}, expected [0, 1]",
                        hint="pass images in [0, 1] and leave normalisation to the model (a Normalize layer inside "
                        "it, or compare(..., mean=..., std=...))" if low < 0 else
                        "divide 0..255 pixels by 255 (ToTensor() does)")
    return x.float()


class MappedImageSet(ImageSet):
    """Wraps ``dataset``; ``index`` is the item's position unless the item carries its own; ``keys``: the
    image and label keys of dict rows."""

    def __init__(self, dataset: Dataset[Any], name: str = "data", num_classes: int | None = None,
                 rows: range | None = None, keys: tuple[str, str] = DEFAULT_KEYS) -> None:
        self.dataset, self.name, self.keys = dataset, name, keys
        self.num_classes = num_classes or 0
        self.rows = rows if rows is not None else range(len(dataset))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        item = self.dataset[self.rows[i]]
        where = f"{self.name}: item {i}"
        if isinstance(item, Mapping):
            missing = [k for k in self.keys if k not in item]
            if missing:
                raise DataError(f"{where} is a dict with keys {sorted(item)[:8]}, lacking {missing[0]!r}",
                                hint="name the image and label keys: keys=(\"img\", \"label\")")
            x, y, index = _from_row_image(item[self.keys[0]], where), item[self.keys[1]], self.rows[i]
        elif isinstance(item, (tuple, list)) and len(item) in (2, 3):
            x, y = item[0], item[1]
            index = int(item[2]) if len(item) == 3 else self.rows[i]
        else:
            raise DataError(f"{where} is a {type(item).__name__} of length "
                            f"{len(item) if hasattr(item, '__len__') else '?'}, expected (x, y) or (x, y, index), "
                            "or a dict row", hint="wrap your data so that dataset[i] returns (image tensor in [0, 1], label)")
        label = int(y)
        if self.num_classes and not 0 <= label < self.num_classes:
            raise DataError(f"{where}: label {label} outside 0..{self.num_classes - 1}",
                            hint="labels are class indices below num_classes")
        return check_image(x, where), label, index

    def fingerprint(self) -> str:
        """SHA-256 of what is evaluated: every image's shape and float32 bytes and every label (reads each item once)."""
        import hashlib

        digest = hashlib.sha256()
        for i in range(len(self)):
            x, y, index = self[i]
            digest.update(f"{tuple(x.shape)}\t{y}\t{index}\n".encode())
            digest.update(x.contiguous().numpy().tobytes())
        return digest.hexdigest()

    def label_of(self, i: int) -> int:
        """Item ``i``'s label (its image is not converted)."""
        item = self.dataset[self.rows[i]]
        try:
            return int(item[self.keys[1]] if isinstance(item, Mapping) else item[1])
        except (KeyError, IndexError, TypeError, ValueError):
            return self[i][1]  # the full read names what is wrong

    def subset(self, n: int | None) -> MappedImageSet:
        if n is None or n >= len(self):
            return self
        return MappedImageSet(self.dataset, self.name, self.num_classes, self.rows[:n], self.keys)


def infer_num_classes(dataset: Any, keys: tuple[str, str] = DEFAULT_KEYS) -> int | None:
    """The number of classes a dataset declares (``classes``, a Hugging Face ``ClassLabel`` feature), else
    the largest label + 1 (labels of a ``TensorDataset`` or ``targets``, else read item by item); ``None``
    for no items."""
    features = getattr(dataset, "features", None)
    feature = features.get(keys[1]) if isinstance(features, Mapping) else None
    declared = getattr(feature, "num_classes", None)
    if isinstance(declared, int) and declared > 0:
        return declared
    classes = getattr(dataset, "classes", None)
    if isinstance(classes, (list, tuple)) and classes:
        return len(classes)
    labels: Any = None
    tensors = getattr(dataset, "tensors", None)
    if isinstance(tensors, tuple) and len(tensors) >= 2:
        labels = tensors[1]
    elif getattr(dataset, "targets", None) is not None:
        labels = dataset.targets
    if labels is not None:
        values = torch.as_tensor(labels)
        return int(values.max()) + 1 if values.numel() else None
    items = MappedImageSet(dataset, type(dataset).__name__, keys=keys)
    seen = [items.label_of(i) for i in range(len(items))]
    return max(seen) + 1 if seen else None


def as_image_set(dataset: Dataset[Any], name: str | None = None, num_classes: int | None = None,
                 keys: tuple[str, str] = DEFAULT_KEYS, infer: bool = False) -> ImageSet:
    """``dataset`` itself when it is an :class:`ImageSet`, else wrapped in a :class:`MappedImageSet`
    (``infer``: ``num_classes`` defaults to :func:`infer_num_classes`)."""
    if isinstance(dataset, ImageSet):
        if num_classes is not None and num_classes != dataset.num_classes:
            raise DataError(f"{dataset.name}: num_classes = {num_classes} but the data set has {dataset.num_classes}")
        return dataset
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise DataError(f"{type(dataset).__name__} is not a map-style dataset (no __len__/__getitem__)",
                        hint="pass e.g. a torch.utils.data.TensorDataset(images, labels)")
    if num_classes is None and infer:
        num_classes = infer_num_classes(dataset, keys)
    return MappedImageSet(dataset, name or type(dataset).__name__, num_classes, keys=keys)
