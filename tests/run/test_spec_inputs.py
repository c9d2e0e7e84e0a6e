"""A spec's checkpoints and imagefolder/npz path may be s3:// URIs (kept as URIs, not made relative to the spec's
folder); other schemes, bare buckets and s3:// paths of the named data sets are one error line naming the spec's
line; a store that cannot be reached is one error line naming the URI."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from overconf.errors import ConfigError
from overconf.run.spec import parse_spec_text
from overconf.store.location import uri_of

SPEC = '''
out = "runs/mine"
[data]
dataset = "{dataset}"
path = "{path}"
num_classes = 10

[[pair]]
name = "mine"
robust = {{ entry_point = "mymodels:robust_net", checkpoint = "{checkpoint}" }}
normal = {{ entry_point = "mymodels:normal_net", checkpoint = "ckpt/normal.safetensors" }}
'''


def spec_text(path: str = "s3://bucket/data/test", checkpoint: str = "s3://bucket/ckpt/robust.pt",
              dataset: str = "imagefolder") -> str:
    return SPEC.format(path=path, checkpoint=checkpoint, dataset=dataset)


def test_s3_checkpoints_and_data_paths_stay_uris_and_local_ones_stay_relative(tmp_path: Path) -> None:
    spec = parse_spec_text(spec_text(), "spec.toml", tmp_path)
    assert uri_of(spec.pairs[0].robust.checkpoint or "") == "s3://bucket/ckpt/robust.pt"
    assert uri_of(spec.data.path or "") == "s3://bucket/data/test"
    assert spec.pairs[0].normal.checkpoint == tmp_path / "ckpt" / "normal.safetensors"
    npz = parse_spec_text(spec_text(path="s3://bucket/data/test.npz", dataset="npz"), "spec.toml", tmp_path)
    assert uri_of(npz.data.path or "") == "s3://bucket/data/test.npz"


@pytest.mark.parametrize(("text", "says"), [
    (spec_text(checkpoint="gs://bucket/ckpt/robust.pt"),
     r"spec.toml:10: checkpoint: gs://bucket/ckpt/robust.pt: gs:// is not supported"),
    (spec_text(checkpoint="s3://bucket"), r"spec.toml:10: checkpoint: s3://bucket names a bucket, not an object"),
    (spec_text(path="gs://bucket/data"), r"spec.toml:5: path: gs://bucket/data: gs:// is not supported"),
    (spec_text(path="s3://bucket/cifar", dataset="cifar10"),
     r"spec.toml:5: path s3://bucket/cifar: an s3:// path is read for imagefolder and npz data, not 'cifar10'"),
])
def test_other_uris_are_one_error_line_naming_the_spec_line(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as raised:
        parse_spec_text(text, "spec.toml", tmp_path)
    assert "\n" not in str(raised.value)


def test_an_unreachable_store_is_one_error_line_naming_the_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from overconf.cli import main

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for name, value in {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "x",
                        "AWS_SECRET_ACCESS_KEY": "y", "AWS_DEFAULT_REGION": "us-east-1",
                        "OVERCONF_CACHE": str(tmp_path / "cache")}.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "spec.toml").write_text(spec_text())
    monkeypatch.setattr(sys, "argv", ["overconf", "run", str(tmp_path / "spec.toml"), "--dry-run"])
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: s3://bucket/data/test: cannot read it"), err
    assert "hint: check the bucket, AWS_ENDPOINT_URL" in err
