"""Safe checkpoint reading and the one key-matching rule."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch
from torch import nn

from overconf.errors import CheckpointError
from overconf.zoo.checkpoints import find_state_dict, load_state_dict, read_checkpoint, read_lightning_tar


class _WouldRunCode:
    """Unpickling this calls ``os.system`` or ``exec``: either would create the marker file if it ran."""

    def __init__(self, marker: Path, via: str) -> None:
        self.marker, self.via = marker, via

    def __reduce__(self):
        if self.via == "system":
            return (os.system, (f"touch {self.marker}",))
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


@pytest.mark.parametrize("via", ["system", "exec"])
@pytest.mark.parametrize("zip_format", [True, False])
def test_pickle_that_would_run_code_is_refused(tmp_path, via, zip_format):
    marker = tmp_path / "MARKER"
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": {"w": torch.ones(2)}, "payload": _WouldRunCode(marker, via)}, path,
               _use_new_zipfile_serialization=zip_format)
    with pytest.raises(CheckpointError, match="refused"):
        read_checkpoint(path)
    assert not marker.exists()


def test_plain_pickle_payload_is_refused(tmp_path):
    marker = tmp_path / "MARKER"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(_WouldRunCode(marker, "system")))
    with pytest.raises(CheckpointError):
        read_checkpoint(path)
    assert not marker.exists()


def test_truncated_and_garbage_files_are_clear_errors(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.randn(1000)}, path)
    path.write_bytes(path.read_bytes()[:1500])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        read_checkpoint(path)
    tar = tmp_path / "cifar10_normal_robustbench_x.tar"
    tar.write_bytes(b"\0" * 100)
    with pytest.raises(CheckpointError):
        read_lightning_tar(tar)


def test_reads_what_weights_only_reads(tmp_path):
    path = tmp_path / "m.pt"
    state = {"a": torch.randn(3, dtype=torch.float64), "b": torch.arange(4), "p": nn.Parameter(torch.ones(2))}
    torch.save({"state_dict": state, "epoch": 7, "acc": 0.5, "names": ("x", "y")}, path)
    ours = read_checkpoint(path)
    theirs = torch.load(path, weights_only=True)
    assert ours.keys() == theirs.keys() and ours["epoch"] == 7 and ours["names"] == ("x", "y")
    for k in state:
        torch.testing.assert_close(ours["state_dict"][k], theirs["state_dict"][k], rtol=0, atol=0)


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mu", torch.full((1, 2), 0.5))
        self.body = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x - self.mu)


def test_one_rule_for_prefixes_and_wrappers():
    source = _Net()
    state = {f"module.model.{k}": v + 1 for k, v in source.state_dict().items() if k != "mu"}
    target = _Net()
    report = load_state_dict(target, find_state_dict({"epoch": 1, "state_dict": state}))
    assert report.kept_buffers == ["mu"] and report.ignored == []
    torch.testing.assert_close(target.body[0].weight, source.body[0].weight + 1)
    # A model that itself carries the `model.` prefix (a normalising Sequential) matches plain keys.
    wrapped = nn.Sequential()
    wrapped.add_module("model", _Net())
    report = load_state_dict(wrapped, {k: v for k, v in source.state_dict().items()} | {"extra.head": torch.ones(1)})
    assert report.ignored == ["extra.head"]
    torch.testing.assert_close(wrapped.model.body[1].running_var, source.body[1].running_var)


def test_missing_learned_state_is_an_error():
    state = _Net().state_dict()
    for key in ("body.0.weight", "body.1.running_mean"):
        with pytest.raises(CheckpointError, match="not in the checkpoint"):
            load_state_dict(_Net(), {k: v for k, v in state.items() if k != key})
    with pytest.raises(CheckpointError, match="same once wrapper prefixes"):
        load_state_dict(_Net(), {**state, "module.mu": state["mu"]})
    with pytest.raises(CheckpointError, match="no state dict"):
        find_state_dict({"epoch": 3, "optimizer": {"lr": 0.1}})
