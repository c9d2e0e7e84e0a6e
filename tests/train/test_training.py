"""Training: seeded and bit-reproducible, adversarial training buys robustness, the cache trains once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from overconf.data.base import TensorImageSet
from overconf.data.fashion_mnist import load_fashion_mnist
from overconf.errors import ConfigError, MissingFileError
from overconf.perturb.pgd import pgd
from overconf.train.cache import cache_key, train_or_load
from overconf.train.config import TrainConfig
from overconf.train.loop import train_model

pytestmark = pytest.mark.usefixtures("pinned_torch_threads")


@pytest.fixture(scope="module")
def data() -> tuple[TensorImageSet, TensorImageSet]:
    try:
        return load_fashion_mnist("train"), load_fashion_mnist("test").subset(500)
    except MissingFileError:
        pytest.skip("Fashion-MNIST is not installed (make data)")


def test_same_seed_same_weights_bit_for_bit(data: tuple[TensorImageSet, TensorImageSet]) -> None:
    config = TrainConfig(training="fgsm-rs", epochs=1, train_subset=512, batch_size=64)
    a, _ = train_model(config, data[0], progress=False)
    b, _ = train_model(config, data[0], progress=False)
    c, _ = train_model(TrainConfig(**{**config.__dict__, "seed": 1}), data[0], progress=False)
    for (name, pa), (_, pb), (_, pc) in zip(a.state_dict().items(), b.state_dict().items(), c.state_dict().items()):
        assert torch.equal(pa, pb), name
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.state_dict().values(), c.state_dict().values()))


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


KWARGS = {"epochs": 1, "train_subset": 3000, "attack_steps": 2}


@pytest.fixture(scope="module")
def normal_model(data: tuple[TensorImageSet, TensorImageSet]) -> torch.nn.Module:
    return train_model(TrainConfig(training="standard", **KWARGS), data[0], progress=False)[0]


@pytest.mark.slow
@pytest.mark.parametrize("robust_training", ["fgsm-rs", "pgd"])
def test_adversarial_training_is_more_robust(data: tuple[TensorImageSet, TensorImageSet], normal_model: torch.nn.Module,
                                             robust_training: str) -> None:
    train, test = data
    x, y = test.float_images()[:300], test.labels[:300]
    robust, _ = train_model(TrainConfig(training=robust_training, **KWARGS), train, progress=False)
    assert accuracy(normal_model, x, y) > 0.6 and accuracy(robust, x, y) > 0.5
    attacked = {name: accuracy(m, pgd(m, x, y, eps=0.1, step_size=0.025, steps=10), y)
                for name, m in (("normal", normal_model), ("robust", robust))}
    assert attacked["robust"] > attacked["normal"] + 0.1, attacked


def test_cache_trains_once_and_key_follows_config(data: tuple[TensorImageSet, TensorImageSet], tmp_path: Path) -> None:
    config = TrainConfig(epochs=1, train_subset=256, batch_size=64)
    first = train_or_load(config, data[0], "sha-a", cache_dir=tmp_path, progress=False)
    second = train_or_load(config, data[0], "sha-a", cache_dir=tmp_path, progress=False)
    assert first.trained_now and not second.trained_now and first.path == second.path
    assert first.path.suffix == ".safetensors"
    for pa, pb in zip(first.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.equal(pa, pb)
    meta = json.loads(first.path.with_suffix(".json").read_text())
    assert meta["config"]["train_subset"] == 256 and meta["data_sha256"] == "sha-a"
    assert cache_key(config, "sha-a") != cache_key(config, "sha-b")
    assert cache_key(config, "sha-a") != cache_key(TrainConfig(epochs=1, train_subset=256, batch_size=64, lr=1e-3), "sha-a")
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == sorted([first.path.name, first.path.with_suffix(".json").name])


def test_bad_config_is_a_user_error() -> None:
    with pytest.raises(ConfigError, match="training"):
        TrainConfig(training="trades")
    with pytest.raises(ConfigError, match="eps"):
        TrainConfig(eps=8)


def test_cached_weights_swapped_for_another_models_are_refused(data: tuple[TensorImageSet, TensorImageSet],
                                                                 tmp_path: Path) -> None:
    """The robust entry's weights replaced by the normal twin's (same architecture): refused on load, naming
    the file, instead of silently evaluating the wrong model."""
    from overconf.errors import CheckpointError

    robust = TrainConfig(epochs=1, train_subset=128, batch_size=64, training="pgd", eps=0.1, attack_steps=1)
    normal = TrainConfig(epochs=1, train_subset=128, batch_size=64)
    first = train_or_load(robust, data[0], "sha-a", cache_dir=tmp_path, progress=False)
    twin = train_or_load(normal, data[0], "sha-a", cache_dir=tmp_path, progress=False)
    assert json.loads(first.path.with_suffix(".json").read_text())["sha256"]
    first.path.write_bytes(twin.path.read_bytes())
    with pytest.raises(CheckpointError, match=f"cached model {first.path}: its SHA-256 differs"):
        train_or_load(robust, data[0], "sha-a", cache_dir=tmp_path, progress=False)
