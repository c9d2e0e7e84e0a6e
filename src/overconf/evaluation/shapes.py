"""A shape mismatch between data and model said in words: torch's message for a convolution given the wrong number
of channels, a linear layer given images of another size, or a normalisation of another channel count, turned into
what the user should change (the run's failure line, ``overconf.evaluate``, ``zoo verify --accuracy``)."""

from __future__ import annotations

import re
from typing import Any

_CONV_CHANNELS = re.compile(r"expected input\[[^\]]*\] to have (\d+) channels, but got (\d+) channels")
_MATMUL = re.compile(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)")
_BROADCAST = re.compile(r"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at non-singleton "
                        r"dimension 1")


def _data_shape(data: Any) -> tuple[int, ...] | None:
    try:
        return tuple(int(d) for d in data[0][0].shape)
    except Exception:  # noqa: BLE001  only used to word a message
        return None


def _channel_hint(data: Any, wanted: int) -> str:
    if type(data).__name__ == "ImageFolderSet" and wanted in (1, 3):
        return f'set mode = "{"RGB" if wanted == 3 else "L"}" in [data]'
    return f"give the model {wanted}-channel images (or build it for the data's channels)"


def explain_shape_error(exc: BaseException, data: Any = None) -> str | None:
    """Words for a shape mismatch between data and model (``None`` when ``exc`` is not one).

    >>> explain_shape_error(RuntimeError("Given groups=1, weight of size [16, 3, 3, 3], expected "
    ...                                  "input[2, 1, 28, 28] to have 3 channels, but got 1 channels instead"))
    "model expects 3 channels, data has 1: give the model 3-channel images (or build it for the data's channels)"
    """
    text = str(exc)
    if match := _CONV_CHANNELS.search(text):
        wanted, got = int(match[1]), int(match[2])
        return f"model expects {wanted} channels, data has {got}: {_channel_hint(data, wanted)}"
    shape = _data_shape(data) if data is not None else None
    shown = "×".join(map(str, shape)) if shape else "its C×H×W"
    if match := _MATMUL.search(text):
        got, wanted = int(match[2]), int(match[3])
        return (f"a linear layer of the model expects {wanted} input features but gets {got} from images of "
                f"{shown}: set image_size in [data] to the size the model was built for")
    if (match := _BROADCAST.search(text)) and shape is not None and shape[0] in (int(match[1]), int(match[2])):
        wanted = int(match[1]) if int(match[2]) == shape[0] else int(match[2])
        return f"the model (or its mean/std) has {wanted} channels, data has {shape[0]}: {_channel_hint(data, wanted)}"
    return None
