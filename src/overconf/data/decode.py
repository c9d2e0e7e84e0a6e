"""Decoding image files on the accelerator (``decode="gpu"``): worker processes only read the files' bytes,
the main process decodes a whole batch with nvJPEG (``torchvision.io.decode_jpeg(device="cuda")``) and
resizes / crops on the device.

Any :class:`overconf.data.folder.ImageFolderSet` of JPEG files can be decoded so (``imagefolder``,
``imagenet``, ImageNet-C): its preprocessing names are parsed by the same
:func:`overconf.data.folder.preprocessing_steps` for both paths, and its mode (RGB or L) is kept.
The result differs from the PIL path (:class:`overconf.data.folder.ImageFolderSet`) by rounding: libjpeg
and nvJPEG upsample chroma differently, and PIL resizes in 8-bit integer arithmetic while torchvision resizes
in float (both antialiased). :func:`decode_batch` with ``device="cpu"`` runs the same tensor pipeline with
libjpeg, which is how the tests measure the preprocessing part of the difference on a machine without GPU.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch

from overconf.data.base import ImageSet
from overconf.data.folder import ImageFolderSet, preprocessing_steps
from overconf.errors import ConfigError, DataError


def read_encoded(path: Path) -> torch.Tensor:
    """The file's bytes as a 1-D uint8 tensor (what a worker process hands to :func:`decode_batch`)."""
    try:
        return torch.frombuffer(bytearray(Path(path).read_bytes()), dtype=torch.uint8)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})", hint="replace the file or drop it") from None


def check_gpu_decodable(dataset: ImageSet) -> None:
    """:class:`ConfigError` unless ``dataset`` is a set of JPEG files (an :class:`ImageFolderSet`)."""
    if not isinstance(dataset, ImageFolderSet):
        raise ConfigError(f"decode=gpu needs a data set of image files, which {dataset.name} is not "
                          "(it is held in memory)", hint="use --decode cpu")
    problem = dataset.gpu_decode_problem()
    if problem is not None:
        raise ConfigError(f"decode=gpu decodes JPEG files only, but {dataset.name}: {problem}", hint="use --decode cpu")


def check_gpu_decode(device: torch.device, dataset: ImageSet | None = None) -> None:
    """:class:`ConfigError` unless ``dataset`` (when given, :func:`check_gpu_decodable`) can be decoded on
    ``device`` (CUDA with torchvision's nvJPEG)."""
    if dataset is not None:
        check_gpu_decodable(dataset)
    if device.type != "cuda":
        raise ConfigError(f"decode=gpu needs a CUDA device, but the run uses {device}", hint="use --decode cpu")
    try:
        from torchvision.io import decode_jpeg  # noqa: F401
    except ImportError:  # a torchvision without image I/O
        raise ConfigError("this torchvision cannot decode JPEGs", hint="use --decode cpu") from None


def decode_batch(encoded: Sequence[torch.Tensor], preprocessing: str, device: torch.device | str,
                 mode: str = "RGB") -> torch.Tensor:
    """Decode JPEG bytes to ``mode`` (RGB or L) on ``device`` (nvJPEG on CUDA, libjpeg on the CPU), preprocess
    each image (resize the short side with antialiasing, centre-crop) and return N×C×H×W float32 in [0, 1]
    on ``device``."""
    from torchvision.io import ImageReadMode, decode_jpeg

    resize, interpolation, crop = preprocessing_steps(preprocessing)
    if mode not in ("RGB", "L"):
        raise ConfigError(f"unknown image mode {mode!r}", hint="choose RGB or L")
    read_mode = ImageReadMode.RGB if mode == "RGB" else ImageReadMode.GRAY
    with warnings.catch_warnings():  # torchvision 0.29 deprecates its image I/O in favour of torchcodec
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="torchvision")
        try:
            images = decode_jpeg(list(encoded), mode=read_mode, device=device)
        except RuntimeError as exc:
            raise DataError(f"a file of this batch is not a decodable JPEG ({exc})",
                            hint="use --decode cpu (PIL reads PNG and other formats)") from None
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.v2 import functional as TF  # lazy: start-up time

    by_shape: dict[tuple[int, ...], list[int]] = {}  # images of one size are resized together: one kernel per size
    for i, image in enumerate(images):
        by_shape.setdefault(tuple(image.shape), []).append(i)
    out: list[torch.Tensor] = [torch.empty(0)] * len(images)
    for rows in by_shape.values():
        group = torch.stack([images[i] for i in rows])
        if resize is not None:
            group = TF.resize(group, [resize], interpolation=InterpolationMode(interpolation), antialias=True)
        if crop is not None:
            group = TF.center_crop(group, [crop])
        for i, image in zip(rows, group, strict=True):
            out[i] = image
    return torch.stack(out).float().div_(255.0)
