"""The small CNN family: every activation × downsampling builds, has the stated size and trains."""

from __future__ import annotations

import pytest
import torch

from overconf.errors import ConfigError
from overconf.models.blocks import FLCPooling, PSSiLU
from overconf.models.cnn import ACTIVATIONS, DOWNSAMPLINGS, small_cnn


@pytest.mark.parametrize("activation", ACTIVATIONS.names())
@pytest.mark.parametrize("downsampling", DOWNSAMPLINGS)
def test_family(activation: str, downsampling: str) -> None:
    model = small_cnn(activation, downsampling)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == 421_738 + (6 if activation == "pssilu" else 0)
    x = torch.rand(4, 1, 28, 28, requires_grad=True)
    out = model(x)
    assert out.shape == (4, 10)
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    kinds = {type(m) for m in model.modules()}
    assert (FLCPooling in kinds) == (downsampling == "flc")
    assert (torch.nn.MaxPool2d in kinds) == (downsampling == "maxpool")
    assert (PSSiLU in kinds) == (activation == "pssilu")


def test_three_channel_input_and_other_class_count() -> None:
    model = small_cnn("silu", "strided", in_channels=3, num_classes=5, mean=(0.5,) * 3, std=(0.25,) * 3)
    assert model(torch.rand(2, 3, 28, 28)).shape == (2, 5)


def test_unknown_choices_are_user_errors() -> None:
    with pytest.raises(ConfigError, match="downsampling"):
        small_cnn("relu", "avgpool")
    with pytest.raises(ConfigError, match="activation"):
        small_cnn("gelu", "maxpool")
