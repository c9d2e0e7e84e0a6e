"""The small CNN family trained here on 28×28 inputs, its activation and downsampling being choices.

Layout (C = channels of the input, K = classes):

    Normalize → conv3×3(C→32) BN act → down   28→14
              → conv3×3(32→64) BN act → down  14→7
              → flatten(64·7·7) → linear(3136→128) act → linear(128→K)

``down`` is 2×2 max-pool (``maxpool``), FLC pooling (``flc``) or the preceding convolution taking stride 2
(``strided``): the names of :mod:`overconf.models.vocabulary`.
421,738 parameters with C = 1, K = 10 (421,744 with PSSiLU: two scalars for each of its three activations).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from overconf.errors import ConfigError
from overconf.models.blocks import FLCPooling, Normalize, PSSiLU
from overconf.registry import Registry

ACTIVATIONS: Registry[nn.Module] = Registry("activation")
ACTIVATIONS.register("relu")(lambda: nn.ReLU())
ACTIVATIONS.register("silu")(lambda: nn.SiLU())
ACTIVATIONS.register("pssilu")(PSSiLU)

DOWNSAMPLINGS = ("maxpool", "strided", "flc")


def _block(c_in: int, c_out: int, act: Callable[[], nn.Module], downsampling: str) -> list[nn.Module]:
    stride = 2 if downsampling == "strided" else 1
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
                               nn.BatchNorm2d(c_out), act()]
    if downsampling == "maxpool":
        layers.append(nn.MaxPool2d(2))
    elif downsampling == "flc":
        layers.append(FLCPooling())
    return layers


def small_cnn(
    activation: str = "relu",
    downsampling: str = "maxpool",
    in_channels: int = 1,
    num_classes: int = 10,
    mean: tuple[float, ...] = (0.2860,),
    std: tuple[float, ...] = (0.3530,),
    image_size: int = 28,
) -> nn.Sequential:
    """Build the CNN; ``mean``/``std`` default to Fashion-MNIST's training-set statistics."""
    if downsampling not in DOWNSAMPLINGS:
        raise ConfigError(f"unknown downsampling {downsampling!r}", hint=f"choose one of: {', '.join(DOWNSAMPLINGS)}")
    act = ACTIVATIONS.get(activation)
    side = image_size // 4
    return nn.Sequential(
        Normalize(mean, std),
        *_block(in_channels, 32, act, downsampling),
        *_block(32, 64, act, downsampling),
        nn.Flatten(),
        nn.Linear(64 * side * side, 128), act(),
        nn.Linear(128, num_classes),
    )
