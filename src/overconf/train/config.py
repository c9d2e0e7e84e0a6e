"""What defines a trained model: the full training configuration (the cache key is derived from it)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from overconf.errors import ConfigError

TRAININGS = ("standard", "pgd", "fgsm-rs")


@dataclass(frozen=True)
class TrainConfig:
    """Training of one model of the small CNN family on one data set.

    ``training``: ``standard`` (cross-entropy on clean inputs), ``pgd`` (PGD-AT, Madry et al. 2018:
    cross-entropy on L∞ PGD examples with ``attack_steps`` steps of ``2.5·eps/attack_steps`` from a random
    start) or ``fgsm-rs`` ("fast" AT, Wong et al. 2020: one FGSM step of ``1.25·eps`` from a uniform
    random start in the ε-ball). ``eps`` is in input units ([0, 1] pixels). Adam with a one-cycle
    learning-rate schedule peaking at ``lr``. ``train_subset`` trains on the first n training images.
    """

    dataset: str = "fashion-mnist"
    activation: str = "relu"
    downsampling: str = "maxpool"
    training: str = "standard"
    eps: float = 0.1
    attack_steps: int = 7
    epochs: int = 2
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    train_subset: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.training not in TRAININGS:
            raise ConfigError(f"unknown training {self.training!r}", hint=f"choose one of: {', '.join(TRAININGS)}")
        if not 0 < self.eps <= 1:
            raise ConfigError(f"eps must be in (0, 1], got {self.eps}", hint="eps is in [0, 1] pixel units, e.g. 0.1")
        if self.epochs < 1 or self.batch_size < 1 or self.attack_steps < 1:
            raise ConfigError("epochs, batch_size and attack_steps must be positive integers")

    @property
    def robust(self) -> bool:
        return self.training != "standard"

    def to_json(self) -> str:
        """Canonical JSON (sorted keys): the text the cache key hashes."""
        return json.dumps(asdict(self), sort_keys=True)
