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


def _frame(body: bytes) -> bytes:
    """A protocol-2 pickle of ``body`` (opcodes) returning what it leaves on the stack."""
    return b"\x80\x02" + body + b"."


def _unicode(text: str) -> bytes:
    return b"X" + len(text).to_bytes(4, "little") + text.encode()


def _set_attribute(module: str, name: str, attribute: str, value: bytes) -> bytes:
    """Opcodes that push the global ``module.name`` and BUILD it with slot state ``{attribute: value}``
    (plain pickle runs ``setattr(global, attribute, value)``)."""
    return (f"c{module}\n{name}\n".encode() + b"N}" + _unicode(attribute) + value + b"s\x86b")


def _as_zip_checkpoint(tmp_path: Path, pickle_bytes: bytes) -> Path:
    """A torch zip checkpoint whose data.pkl is ``pickle_bytes``."""
    import zipfile

    template = tmp_path / "template.pt"
    torch.save({"w": torch.ones(1)}, template)
    path = tmp_path / "tampered.pt"
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as dst:
        for item in src.infolist():
            data = pickle_bytes if item.filename.endswith("data.pkl") else src.read(item)
            dst.writestr(item, data)
    return path


TAMPERS = {
    # torch._utils._rebuild_tensor_v2.__defaults__ = (7,): changes every tensor rebuilt later
    "rebuild-defaults": _frame(_set_attribute("torch._utils", "_rebuild_tensor_v2", "__defaults__", b"K\x07\x85")),
    # an allowed class (OrderedDict) given a new attribute via BUILD
    "ordereddict-class": _frame(_set_attribute("collections", "OrderedDict", "tampered", b"\x88")),
    # torch.Size (allowed) mutated through REDUCE of an allowed callable on it
    "reduce-setattr": _frame(b"cbuiltins\nsetattr\n" + b"ctorch\nSize\n" + _unicode("tampered") + b"\x88" + b"\x87R"),
}


@pytest.mark.parametrize("zip_format", [False, True])
@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_pickle_mutating_an_allowed_global_is_refused_and_changes_nothing(tmp_path, tamper, zip_format):
    from collections import OrderedDict

    good = tmp_path / "good.pt"
    expected = {"state_dict": {"w": torch.arange(6.0).reshape(2, 3)}}
    torch.save(expected, good)
    defaults = torch._utils._rebuild_tensor_v2.__defaults__
    safe_before = set(map(repr, torch.serialization.get_safe_globals()))
    bad = tmp_path / "tampered.pt"
    if zip_format:
        bad = _as_zip_checkpoint(tmp_path, TAMPERS[tamper])
    else:
        bad.write_bytes(TAMPERS[tamper])
    with pytest.raises(CheckpointError, match="refused") as info:
        read_checkpoint(bad)
    assert str(bad) in info.value.message
    assert torch._utils._rebuild_tensor_v2.__defaults__ == defaults
    assert not hasattr(OrderedDict, "tampered") and not hasattr(torch.Size, "tampered")
    assert set(map(repr, torch.serialization.get_safe_globals())) == safe_before
    torch.testing.assert_close(read_checkpoint(good)["state_dict"]["w"], expected["state_dict"]["w"], rtol=0, atol=0)


def test_exception_inside_an_allowed_constructor_names_the_file(tmp_path):
    path = tmp_path / "set.pt"
    path.write_bytes(_frame(b"cbuiltins\nset\nK\x01\x85R"))  # builtins.set(1): TypeError while unpickling
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(path)
    assert info.value.message.startswith(f"{path}: ") and "TypeError" in info.value.message


def test_bookkeeping_loads_as_inert_stand_ins(tmp_path, monkeypatch):
    import argparse

    import numpy as np

    from overconf.zoo.checkpoints import StandIn
    from tests.zoo.conftest import _fake_lightning_classes

    attribute_dict, my_checkpoint = _fake_lightning_classes(monkeypatch)
    safe_before = set(map(repr, torch.serialization.get_safe_globals()))
    callback = my_checkpoint()
    callback.best = np.float64(0.93)
    path = tmp_path / "lightning.ckpt"
    torch.save({"state_dict": {"w": torch.ones(2)}, "args": argparse.Namespace(lr=0.1),
                "hyper_parameters": attribute_dict(lr=0.1, callback=callback)}, path)
    loaded = read_checkpoint(path)
    assert type(loaded["hyper_parameters"]) is dict and loaded["hyper_parameters"]["lr"] == 0.1
    stand_in = loaded["hyper_parameters"]["callback"]
    assert isinstance(stand_in, StandIn) and stand_in.qualified_name == "utils.MyCheckpoint"
    assert isinstance(stand_in.state["best"], StandIn)  # a numpy scalar, never rebuilt by numpy
    assert isinstance(loaded["args"], StandIn) and loaded["args"].state == {"lr": 0.1}
    torch.testing.assert_close(loaded["state_dict"]["w"], torch.ones(2))
    assert set(map(repr, torch.serialization.get_safe_globals())) == safe_before
