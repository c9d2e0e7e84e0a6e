"""Two tiny models for examples/my-pair/spec.toml: any ``module:function`` returning an ``nn.Module`` works.

``robust_net`` takes inputs in [0, 1]; ``normal_net`` expects normalised inputs (the spec's ``mean``/``std``
put the normalisation in front of it).
"""

import torch
from torch import nn


def _net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten(),
                         nn.Linear(8 * 4 * 4, 10))


def robust_net() -> nn.Module:
    return _net()


def normal_net() -> nn.Module:
    return _net()


def save_random_checkpoints(folder: str = "ckpt") -> None:
    """Write random weights (robust.pt, normal.safetensors) so the example runs without any training."""
    from pathlib import Path

    from safetensors.torch import save_file

    Path(folder).mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    torch.save(robust_net().state_dict(), Path(folder) / "robust.pt")
    save_file(normal_net().state_dict(), str(Path(folder) / "normal.safetensors"))
