"""Which run folders are remote: s3:// URIs (also after a Path swallowed one slash); other schemes and bare
buckets are refused in one line; local folders are used as they are, with nothing uploaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from overconf.errors import ConfigError
from overconf.store.location import RunFolder, mirrored, opened, uri_of


def test_s3_uris_are_remote_and_keep_their_two_slashes() -> None:
    assert uri_of("s3://bucket/runs/a/") == "s3://bucket/runs/a"
    assert uri_of(Path("s3://bucket/runs/a")) == "s3://bucket/runs/a"
    assert uri_of("runs/a") is None and uri_of("/abs/runs") is None


@pytest.mark.parametrize(("out", "says"), [("gs://bucket/run", "gs:// is not supported"),
                                           ("s3://bucket", "names a bucket, not a run folder")])
def test_unsupported_or_incomplete_uris_are_one_clear_error(out: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        uri_of(out)


def test_a_local_run_folder_is_itself_and_nothing_is_pushed(tmp_path: Path) -> None:
    folder = RunFolder.open(tmp_path / "run")
    assert folder.local == tmp_path / "run" and not folder.remote and folder.name == str(tmp_path / "run")
    assert folder.pull() == 0 and folder.push_changed() == 0
    with opened(tmp_path / "run") as again:
        assert again.local == tmp_path / "run"
    assert mirrored(tmp_path / "run") is None


def test_an_unreachable_store_is_one_line_naming_the_run(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "x",
           "AWS_SECRET_ACCESS_KEY": "y", "AWS_DEFAULT_REGION": "us-east-1", "OVERCONF_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2] / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "overconf", "show", "s3://bucket/runs/a"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    assert "error: s3://bucket/runs/a: cannot list it" in result.stderr and "Traceback" not in result.stderr
    assert "hint: check the bucket, AWS_ENDPOINT_URL" in result.stderr
