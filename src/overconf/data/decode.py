"""Decoding image files on the accelerator (``decode="gpu"``): worker processes only read the files' bytes,
the main process decodes a whole batch with nvJPEG (``torchvision.io.decode_jpeg(device="cuda")``) and
resizes / crops on the device.

The result differs from the PIL path (:class:`overconf.data.imagenet.ImageFolderSet`) by rounding: libjpeg
and nvJPEG upsample chroma differently, and PIL resizes in 8-bit integer arithmetic while torchvision resizes
in float (both antialiased). :func:`decode_batch` with ``device="cpu"`` runs the same tensor pipeline with
libjpeg, which is how the tests measure the preprocessing part of the difference on a machine without GPU.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torchvision.transforms.v2 import functional as TF

from overconf.errors import ConfigError, DataError

DECODES = ("cpu", "gpu")
#: preprocessing name → (resize short side or None, interpolation, centre crop or None); see
#: :data:`overconf.data.imagenet.PREPROCESSINGS` (the PIL versions) and ``none`` (ImageNet-C: as stored).
TENSOR_PREPROCESSINGS: dict[str, tuple[int | None, TF.InterpolationMode, int | None]] = {
    "Res256Crop224": (256, TF.InterpolationMode.BILINEAR, 224),
    "BicubicRes256Crop224": (256, TF.InterpolationMode.BICUBIC, 224),
    "Crop288": (None, TF.InterpolationMode.BILINEAR, 288),
    "none": (None, TF.InterpolationMode.BILINEAR, None),
}


def read_encoded(path: Path) -> torch.Tensor:
    """The file's bytes as a 1-D uint8 tensor (what a worker process hands to :func:`decode_batch`)."""
    try:
        return torch.frombuffer(bytearray(Path(path).read_bytes()), dtype=torch.uint8)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})", hint="replace the file or drop it") from None


def check_gpu_decode(device: torch.device) -> None:
    """:class:`ConfigError` unless JPEGs can be decoded on ``device`` (CUDA with torchvision's nvJPEG)."""
    if device.type != "cuda":
        raise ConfigError(f"decode=gpu needs a CUDA device, but the run uses {device}", hint="use --decode cpu")
    try:
        from torchvision.io import decode_jpeg  # noqa: F401
    except ImportError:  # a torchvision without image I/O
        raise ConfigError("this torchvision cannot decode JPEGs", hint="use --decode cpu") from None


def decode_batch(encoded: Sequence[torch.Tensor], preprocessing: str, device: torch.device | str) -> torch.Tensor:
    """Decode JPEG bytes to RGB on ``device`` (nvJPEG on CUDA, libjpeg on the CPU), preprocess each image
    (resize the short side with antialiasing, centre-crop) and return N×3×H×W float32 in [0, 1] on ``device``."""
    from torchvision.io import ImageReadMode, decode_jpeg

    if preprocessing not in TENSOR_PREPROCESSINGS:
        raise ConfigError(f"unknown preprocessing {preprocessing!r}", hint=f"choose one of {', '.join(TENSOR_PREPROCESSINGS)}")
    resize, interpolation, crop = TENSOR_PREPROCESSINGS[preprocessing]
    with warnings.catch_warnings():  # torchvision 0.29 deprecates its image I/O in favour of torchcodec
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="torchvision")
        try:
            images = decode_jpeg(list(encoded), mode=ImageReadMode.RGB, device=device)
        except RuntimeError as exc:
            raise DataError(f"a file of this batch is not a decodable JPEG ({exc})",
                            hint="use --decode cpu (PIL reads PNG and other formats)") from None
    by_shape: dict[tuple[int, ...], list[int]] = {}  # images of one size are resized together: one kernel per size
    for i, image in enumerate(images):
        by_shape.setdefault(tuple(image.shape), []).append(i)
    out: list[torch.Tensor] = [torch.empty(0)] * len(images)
    for rows in by_shape.values():
        group = torch.stack([images[i] for i in rows])
        if resize is not None:
            group = TF.resize(group, [resize], interpolation=interpolation, antialias=True)
        if crop is not None:
            group = TF.center_crop(group, [crop])
        for i, image in zip(rows, group, strict=True):
            out[i] = image
    return torch.stack(out).float().div_(255.0)
