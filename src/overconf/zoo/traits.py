"""Architecture traits derived from the code, not typed in: which activations a model applies and how it
downsamples, read off one forward pass on the ``meta`` device (shapes only: no memory, no weights).

A :class:`torch.overrides.TorchFunctionMode` sees every ``torch.nn.functional`` call, so activations
applied functionally (``F.relu`` inside ``forward``) count as well as ``nn.ReLU`` modules. An activation
computed inside a leaf module defined outside ``torch.nn`` (``Swish``, ``PSSiLU``) is named after that
module's class, lower-cased. Downsampling is named by what reduces the spatial size: ``strided``
(a convolution with stride > 1), ``maxpool``, ``avgpool``, ``spectral`` (an FFT outside such a module),
or, for a leaf module defined outside ``torch.nn`` that makes its input smaller, that module's class,
lower-cased (``FLCPooling`` → ``flc``); pooling down to 1×1 before the classifier is not counted: every
model has it. Names follow :mod:`overconf.models.vocabulary` (aliases such as ``swish`` → ``silu`` mapped).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from overconf.models.vocabulary import ACTIVATION_ALIASES, DOWNSAMPLING_ALIASES

_ACTIVATIONS: dict[Callable[..., object], str] = {
    F.relu: "relu", torch.relu: "relu", torch.relu_: "relu", F.relu_: "relu", F.relu6: "relu6",
    F.leaky_relu: "leaky_relu", F.elu: "elu", F.gelu: "gelu", F.silu: "silu", F.softplus: "softplus",
    F.hardswish: "hardswish", F.mish: "mish", torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid",
    torch.Tensor.relu: "relu", torch.Tensor.relu_: "relu", torch.Tensor.sigmoid: "sigmoid",
}


class _Recorder(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.activations: set[str] = set()
        self.downsampling: set[str] = set()
        self.custom_leaf: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func in _ACTIVATIONS:
            name = self.custom_leaf[-1] if self.custom_leaf else _ACTIVATIONS[func]
            self.activations.add(ACTIVATION_ALIASES.get(name, name))
        elif self.custom_leaf:  # downsampling inside a custom leaf is named after the leaf (its forward hook)
            pass
        elif func in (F.conv2d, torch.conv2d):
            stride = args[3] if len(args) > 3 else kwargs.get("stride", 1)
            if max(stride if isinstance(stride, (tuple, list)) else (stride,)) > 1:
                self.downsampling.add("strided")
        elif func in (F.max_pool2d, torch.max_pool2d, F.max_pool2d_with_indices) and not _is_global(out):
            self.downsampling.add("maxpool")
        elif func in (F.avg_pool2d, torch._C._nn.avg_pool2d) and not _is_global(out):
            self.downsampling.add("avgpool")
        elif func in (torch.fft.fft2, torch.fft.fftn, torch.fft.rfft2):
            self.downsampling.add("spectral")
        return out

    def leave(self, inputs: tuple[object, ...], out: object) -> None:
        """After a custom leaf: name the downsampling it did, if it made its input smaller."""
        name = self.custom_leaf.pop()
        if _shrinks(inputs, out):
            self.downsampling.add(DOWNSAMPLING_ALIASES.get(name, name))


def _is_global(out: object) -> bool:
    first = out[0] if isinstance(out, tuple) else out
    return isinstance(first, torch.Tensor) and first.dim() == 4 and tuple(first.shape[-2:]) == (1, 1)


def _shrinks(inputs: tuple[object, ...], out: object) -> bool:
    first = inputs[0] if inputs else None
    if not (isinstance(first, torch.Tensor) and isinstance(out, torch.Tensor) and first.dim() == out.dim() == 4):
        return False
    smaller = out.shape[-2] < first.shape[-2] or out.shape[-1] < first.shape[-1]
    return smaller and not _is_global(out)


def _is_custom_leaf(module: nn.Module) -> bool:
    return next(module.children(), None) is None and not type(module).__module__.startswith("torch.")


def architecture_traits(build: Callable[[], nn.Module], input_size: int = 32) -> dict[str, str]:
    """``{"activation": "relu", "downsampling": "strided"}`` ('+'-joined when several) of a model.

    >>> net = lambda: nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
    >>> architecture_traits(net)
    {'activation': 'relu', 'downsampling': 'strided'}
    """
    with torch.device("meta"):
        model = build().eval()
        x = torch.zeros(1, 3, input_size, input_size)
    recorder = _Recorder()

    def leave_custom_leaf(module: nn.Module, args: Any, output: Any) -> None:
        recorder.leave(args, output)

    hooks = []
    for module in model.modules():
        if _is_custom_leaf(module):
            name = type(module).__name__.lower()
            hooks.append(module.register_forward_pre_hook(lambda m, a, name=name: recorder.custom_leaf.append(name)))
            hooks.append(module.register_forward_hook(leave_custom_leaf))
    try:
        with torch.no_grad(), recorder:
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return {
        "activation": "+".join(sorted(recorder.activations)) or "none",
        "downsampling": "+".join(sorted(recorder.downsampling)) or "none",
    }
