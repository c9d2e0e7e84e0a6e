"""Helpers shared by the zoo tests: random-weight checkpoints in the published layouts."""

from __future__ import annotations

import io
import sys
import tarfile
import types
from pathlib import Path

import pytest
import torch

from overconf.zoo.loaders import build_robustbench_architecture


def _randomized(state: dict[str, torch.Tensor], seed: int) -> dict[str, torch.Tensor]:
    """Random values for every float tensor, BN statistics included (a buffer left at its initial value
    then changes the logits); variances stay positive."""
    torch.manual_seed(seed)
    return {
        k: (torch.rand_like(v) + 0.5 if k.endswith("running_var") else torch.randn_like(v) * 0.1)
        if v.is_floating_point() else v
        for k, v in state.items()
    }


def _random_state(dataset: str, arch_id: str, seed: int) -> dict[str, torch.Tensor]:
    return _randomized(build_robustbench_architecture(dataset, arch_id).state_dict(), seed)


def _fake_lightning_classes(monkeypatch):
    """Stand-ins for what the authors' Lightning checkpoints pickle: AttributeDict and utils.MyCheckpoint."""
    parsing = types.ModuleType("pytorch_lightning.utilities.parsing")
    attribute_dict = type("AttributeDict", (dict,), {"__module__": parsing.__name__})
    parsing.AttributeDict = attribute_dict
    utils = types.ModuleType("utils")
    my_checkpoint = type("MyCheckpoint", (), {"__module__": "utils"})
    utils.MyCheckpoint = my_checkpoint
    for name in ("pytorch_lightning", "pytorch_lightning.utilities"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, parsing.__name__, parsing)
    monkeypatch.setitem(sys.modules, "utils", utils)
    return attribute_dict, my_checkpoint


def write_lightning_tar(path: Path, model_id: str, state: dict[str, torch.Tensor], monkeypatch) -> None:
    attribute_dict, my_checkpoint = _fake_lightning_classes(monkeypatch)
    callback = my_checkpoint()
    callback.best_model_score = torch.tensor(0.93)
    checkpoint = {
        "epoch": 124, "global_step": 48_000, "pytorch-lightning_version": "1.6.0",
        "state_dict": {f"model.{k}": v for k, v in state.items()},
        "hyper_parameters": attribute_dict(lr=0.1, arch=model_id, callback=callback),
        "callbacks": {"MyCheckpoint{'monitor': 'val/acc'}": {"best_model_score": torch.tensor(0.93)}},
        "optimizer_states": [{"state": {}, "param_groups": [{"lr": 0.1}]}],
    }
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo(f"robustbench_{model_id}/version_0/checkpoints/epoch=124-step=48000.ckpt")
        info.size = buffer.getbuffer().nbytes
        buffer.seek(0)
        tar.addfile(info, buffer)



@pytest.fixture()
def random_state():
    return _random_state


@pytest.fixture()
def randomized():
    return _randomized


@pytest.fixture()
def lightning_tar(monkeypatch):
    """``lightning_tar(path, model_id, state)`` writes the authors' Zenodo layout with a random state."""
    return lambda path, model_id, state: write_lightning_tar(path, model_id, state, monkeypatch)
