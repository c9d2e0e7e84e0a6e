"""Data sets from files: image files decoded on access (:class:`ImageFolderSet`, the one class behind the
``imagefolder``, ``imagenet`` and ImageNet-C sets), and an ``.npz`` array file.

Both give ``(x, y, index)`` with ``x`` a C×H×W float32 tensor in [0, 1], like every loader
(:mod:`overconf.data.base`). Classes of a folder are the sub-folder names in sorted order mapped to
0..K−1 (torchvision's ``ImageFolder`` rule); ``num_classes`` is required and must be ≥ K, so a folder
that lacks some classes still gets the model's class indices. ``image_size`` (optional) resizes the
shorter side to ``image_size`` and centre-crops a square of that side (preprocessing ``Res<N>Crop<N>``).

Preprocessing names (RobustBench's, generalised): ``none`` (as stored), ``Crop<C>`` (centre crop),
``Res<R>Crop<C>`` (resize the short side to R, bilinear, antialiased, then centre-crop C) and
``BicubicRes<R>Crop<C>``; :func:`preprocessing_steps` parses them for both the PIL path here and the
tensor path of :mod:`overconf.data.decode` (``decode="gpu"``), so every image-file set can be decoded on
the device.

``npz``: arrays ``x`` — N×H×W×C ``uint8`` (0..255) or N×C×H×W floating point in [0, 1] — and ``y``
(N integers in 0..num_classes−1).
"""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from overconf.data.base import DATASETS, ImageSet, TensorImageSet
from overconf.errors import ConfigError, DataError, MissingFileError
from overconf.validate import check_int
from overconf.vocabulary import IMAGE_MODES as MODES

if TYPE_CHECKING:
    from torchvision import transforms

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
JPEG_EXTENSIONS = (".jpg", ".jpeg")
_PREPROCESSING = re.compile(r"none|Crop(?P<crop>[1-9][0-9]*)|(?P<bicubic>Bicubic)?Res(?P<resize>[1-9][0-9]*)Crop(?P<crop2>[1-9][0-9]*)")
PREPROCESSING_FORMS = "none, Crop<C>, Res<R>Crop<C> or BicubicRes<R>Crop<C> (e.g. Res256Crop224)"


def preprocessing_steps(name: str) -> tuple[int | None, str, int | None]:
    """``(resize short side or None, interpolation, centre crop or None)`` of a preprocessing name (see the
    module docstring); :class:`ConfigError` for any other name. The interpolation is the value of a
    ``torchvision.transforms.InterpolationMode`` (``"bilinear"`` or ``"bicubic"``).

    >>> preprocessing_steps("Res256Crop224")
    (256, 'bilinear', 224)
    >>> preprocessing_steps("none")
    (None, 'bilinear', None)
    """
    match = _PREPROCESSING.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise ConfigError(f"unknown preprocessing {name!r}", hint=f"choose {PREPROCESSING_FORMS}")
    mode = "bicubic" if match["bicubic"] else "bilinear"
    resize = int(match["resize"]) if match["resize"] else None
    crop = match["crop"] or match["crop2"]
    return resize, mode, int(crop) if crop else None


def pil_transform(preprocessing: str) -> transforms.Compose:
    """The PIL pipeline of a preprocessing name: resize, centre crop, then a float tensor in [0, 1]."""
    from torchvision import transforms  # lazy: start-up time (torchvision imports torch._dynamo, about 2 s)

    resize, interpolation, crop = preprocessing_steps(preprocessing)
    steps: list[object] = []
    if resize is not None:
        steps.append(transforms.Resize(resize, interpolation=transforms.InterpolationMode(interpolation)))
    if crop is not None:
        steps.append(transforms.CenterCrop(crop))
    return transforms.Compose([*steps, transforms.ToTensor()])


def _check_classes(num_classes: object, where: str) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ConfigError(f"{where}: num_classes must be an integer ≥ 2, got {num_classes!r}",
                          hint="set [data] num_classes to the number of outputs of your models")
    return num_classes


def _check_size(image_size: object) -> int | None:
    if image_size is None:
        return None
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ConfigError(f"image_size must be a positive integer, got {image_size!r}")
    return image_size


class ImageFolderSet(ImageSet):
    """Items ``(x, y, index)`` decoded from the image file ``samples[index] = (path, label)`` on access
    (nothing is held in memory), converted to ``mode`` (``RGB`` or ``L``: 3 or 1 channels) and preprocessed
    by name (see the module docstring). ``transform`` is the PIL pipeline; :mod:`overconf.data.decode`
    reproduces it on the device for JPEG files (``decode="gpu"``, :meth:`gpu_decode_problem`)."""

    def __init__(self, name: str, samples: list[tuple[Path, int]], num_classes: int, preprocessing: str = "none",
                 mode: str = "RGB") -> None:
        if mode not in MODES:
            raise ConfigError(f"unknown image mode {mode!r}", hint=f"choose one of {', '.join(MODES)}")
        self.name, self.samples, self.num_classes = name, samples, num_classes
        self.preprocessing, self.mode = preprocessing, mode
        preprocessing_steps(preprocessing)  # an unknown name is said here; the transform is built on first use
        self._transform: transforms.Compose | None = None

    @property
    def transform(self) -> transforms.Compose:
        """The PIL pipeline (:func:`pil_transform`), built on first use (it imports torchvision)."""
        if self._transform is None:
            self._transform = pil_transform(self.preprocessing)
        return self._transform

    @property
    def channels(self) -> int:
        return 3 if self.mode == "RGB" else 1

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        path, label = self.samples[i]
        try:
            with Image.open(path) as image:
                x = self.transform(image.convert(self.mode))
        except (OSError, UnidentifiedImageError) as exc:
            raise DataError(f"{path}: not a readable image ({exc})",
                            hint="replace the file or remove it from the folder") from None
        return x, label, i

    def subset(self, n: int | None) -> ImageFolderSet:
        if n is not None:
            check_int("n_examples", n)
        if n is None or n >= len(self):
            return self
        part = copy.copy(self)
        part.samples = self.samples[:n]
        return part

    def fingerprint(self) -> str:
        """SHA-256 over each file's class folder, name, size and label (not the pixel bytes: cheap for 50k files)."""
        digest = hashlib.sha256()
        for path, label in self.samples:
            digest.update(f"{path.parent.name}/{path.name}\t{path.stat().st_size}\t{label}\n".encode())
        return digest.hexdigest()

    def gpu_decode_problem(self) -> str | None:
        """Why these files cannot be decoded on the device (``decode="gpu"``: nvJPEG reads JPEG only), or None."""
        other = next((p for p, _ in self.samples if p.suffix.lower() not in JPEG_EXTENSIONS), None)
        return None if other is None else f"it holds files other than JPEG (e.g. {other.name})"


@DATASETS.register("imagefolder")
def load_image_folder(split: str = "test", data_dir: Path | None = None, *, path: Path | str | None = None,
                      num_classes: int | None = None, image_size: int | None = None,
                      mode: str | None = None,
                      classes: list[str] | tuple[str, ...] | None = None) -> ImageFolderSet:
    """``<path>/<class>/<image>``: classes in sorted folder order (or, with ``classes``, class ``k`` is the folder
    named ``classes[k]``), images sorted by name within a class; ``mode``: ``RGB`` or ``L`` (3 or 1 channels;
    default: the first image's). Without ``image_size`` every image must have the first one's width and height
    (read from the file headers)."""
    root = Path(path if path is not None else data_dir or "")
    if path is None and data_dir is None:
        raise ConfigError("the imagefolder data set needs a path", hint='set [data] path = "my/images"')
    if not root.is_dir():
        raise MissingFileError(f"image folder {root} not found", hint="path must be a folder of class sub-folders")
    n_classes = _check_classes(num_classes, str(root))
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DataError(f"{root}: no class sub-folders", hint="expected <path>/<class>/<image>.png|jpg")
    if len(folders) > n_classes:
        raise DataError(f"{root}: {len(folders)} class folders but num_classes = {n_classes}",
                        hint="num_classes must be at least the number of class folders")
    if classes is not None and len(classes) > n_classes:
        raise DataError(f"{root}: {len(classes)} classes listed but num_classes = {n_classes}",
                        hint="num_classes must be at least the number of classes listed")
    index = {f.name: k for k, f in enumerate(folders)} if classes is None else {c: k for k, c in enumerate(classes)}
    unknown = [f.name for f in folders if f.name not in index]
    if unknown:
        raise DataError(f"{root}: class folder {unknown[0]!r} is not in [data] classes",
                        hint="list every class folder in classes, in the models' output order")
    samples = [(f, index[folder.name]) for folder in sorted(folders, key=lambda f: index[f.name])
               for f in sorted(folder.iterdir()) if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS]
    if not samples:
        raise DataError(f"{root}: no images found", hint=f"expected files ending in {', '.join(IMAGE_EXTENSIONS)}")
    with Image.open(samples[0][0]) as first:
        mode = mode or ("L" if first.mode in ("L", "1", "I;16", "I") else "RGB")
        first_size = first.size
    size = _check_size(image_size)
    if size is None:
        for file, _ in samples[1:]:
            try:
                with Image.open(file) as image:
                    other = image.size
            except (OSError, UnidentifiedImageError) as exc:
                raise DataError(f"{file}: not a readable image ({exc})",
                                hint="replace the file or remove it from the folder") from None
            if other != first_size:
                raise DataError(f"{root}: images of different sizes ({samples[0][0].name} is {first_size[0]}×"
                                f"{first_size[1]}, {file.relative_to(root)} is {other[0]}×{other[1]}) and no image_size",
                                hint="set image_size in [data] (resize + centre crop to a square of that side)")
    return ImageFolderSet(root.name, samples, n_classes, f"Res{size}Crop{size}" if size else "none", mode)


@DATASETS.register("npz")
def load_npz(split: str = "test", data_dir: Path | None = None, *, path: Path | str | None = None,
             num_classes: int | None = None, image_size: int | None = None) -> TensorImageSet:
    """Arrays ``x`` and ``y`` of an ``.npz`` file (see the module docstring), checked for shape, range and labels."""
    file = Path(path) if path is not None else None
    if file is None:
        raise ConfigError("the npz data set needs a path", hint='set [data] path = "my/test.npz"')
    if not file.is_file():
        raise MissingFileError(f"npz file {file} not found", hint="path must name a .npz file holding arrays x and y")
    classes = _check_classes(num_classes, str(file))
    try:
        with np.load(file, allow_pickle=False) as arrays:
            missing = [k for k in ("x", "y") if k not in arrays.files]
            if missing:
                raise DataError(f"{file}: no array {missing[0]!r} (holds {sorted(arrays.files)})",
                                hint="save it with np.savez(path, x=images, y=labels)")
            x, y = arrays["x"], arrays["y"]
    except (ValueError, OSError) as exc:
        raise DataError(f"{file}: not a readable .npz file ({exc})") from None
    if x.ndim != 4:
        raise DataError(f"{file}: x has shape {x.shape}, expected 4 dimensions (N,H,W,C uint8 or N,C,H,W float)")
    if x.dtype == np.uint8:
        if x.shape[3] not in (1, 3):
            raise DataError(f"{file}: uint8 x of shape {x.shape} is not N×H×W×C with C = 1 or 3")
        images = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    elif np.issubdtype(x.dtype, np.floating):
        if x.shape[1] not in (1, 3):
            raise DataError(f"{file}: float x of shape {x.shape} is not N×C×H×W with C = 1 or 3")
        if not np.isfinite(x).all() or x.min(initial=0.0) < 0 or x.max(initial=0.0) > 1:
            raise DataError(f"{file}: float x must lie in [0, 1] (found {x.min():.3g} .. {x.max():.3g})",
                            hint="divide uint8 pixels by 255, and undo any normalisation (models normalise inside)")
        images = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    else:
        raise DataError(f"{file}: x has dtype {x.dtype}, expected uint8 or float")
    if y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{file}: y has shape {y.shape} and dtype {y.dtype}, expected {x.shape[0]} integers")
    if y.size and (y.min() < 0 or y.max() >= classes):
        raise DataError(f"{file}: labels {int(y.min())}..{int(y.max())} outside 0..{classes - 1}",
                        hint="labels must be class indices below num_classes")
    size = _check_size(image_size)
    if size is not None:
        images = _resize_crop(images, size)
    return TensorImageSet(file.stem, images, torch.from_numpy(y.astype(np.int64)), classes)


def _resize_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    """Shorter side → ``size`` (bilinear, antialiased) then a centre crop, as the image folder's transform."""
    x = images.float() / 255 if images.dtype == torch.uint8 else images
    h, w = x.shape[2:]
    scale = size / min(h, w)
    x = F.interpolate(x, size=(max(size, round(h * scale)), max(size, round(w * scale))), mode="bilinear",
                      antialias=True, align_corners=False).clamp_(0, 1)
    top, left = (x.shape[2] - size) // 2, (x.shape[3] - size) // 2
    return x[:, :, top:top + size, left:left + size].contiguous()
