"""Runs in an S3 store (moto's S3 API server on the loopback interface, started and stopped here): records and
run.json land in the bucket, a rerun resumes without recomputing, report/show/query/verify read from there,
and Ray tasks of a two-node cluster write there without a shared disk."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

# torch threads pinned here and in Ray's workers (they inherit $OMP_NUM_THREADS)
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("pinned_torch_threads")]

BUCKET = "overconf-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """An S3 API server on 127.0.0.1 with one empty bucket; the AWS_* variables point at it (this test only).
    Yields the pyarrow S3 file system."""
    server_module = pytest.importorskip("moto.server")
    port = _free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                        "OVERCONF_CACHE": str(tmp_path / "cache")}.items():
        monkeypatch.setenv(name, value)
    from pyarrow import fs as pafs

    fs = pafs.S3FileSystem(endpoint_override=f"127.0.0.1:{port}", scheme="http", access_key="testing",
                           secret_key="testing", region="us-east-1", allow_bucket_creation=True)
    fs.create_dir(BUCKET)
    try:
        yield fs
    finally:
        server.stop()


def keys(fs: Any, prefix: str) -> set[str]:
    from pyarrow import fs as pafs

    infos = fs.get_file_info(pafs.FileSelector(f"{BUCKET}/{prefix}", recursive=True, allow_not_found=True))
    return {i.path[len(BUCKET) + len(prefix) + 2:] for i in infos if i.type == pafs.FileType.File}


@pytest.fixture()
def tiny_spec(tmp_path: Path, my_pair_factory) -> Path:  # type: ignore[no-untyped-def]
    """examples/my-pair cut to 4 cells: clean and PGD-2 for both models."""
    spec: Path = my_pair_factory(tmp_path / "spec")
    spec.write_text(spec.read_text().replace('"fog:severity=3", "ood-uniform"', "").replace("pgd:steps=5", "pgd:steps=2"))
    return spec


def test_a_run_lives_in_s3_resumes_there_and_is_read_from_there(s3: Any, tiny_spec: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from typer.testing import CliRunner

    from overconf.cli import app
    from overconf.run.runner import run_spec
    from overconf.store.query import query_records

    monkeypatch.chdir(tmp_path)
    uri = f"s3://{BUCKET}/runs/tiny"
    first = run_spec(tiny_spec, out=uri, progress=False, report=False)
    assert len(first.written) == 4
    stored = keys(s3, "runs/tiny")
    records = {k for k in stored if k.startswith("records/")}
    assert len(records) == 4 and "run.json" in stored and "summary.csv" in stored
    assert not any(k.startswith(".") or ".tmp" in k for k in stored)  # no claim or temporary file in the store
    assert not list(tmp_path.glob("s3*")), "the URI became a local folder"
    with s3.open_input_stream(f"{BUCKET}/runs/tiny/run.json") as handle:
        manifest = json.loads(handle.read())
    assert manifest["config"]["out"] == uri and len(manifest["cells"]) == 4
    one = min(records)
    with s3.open_input_file(f"{BUCKET}/runs/tiny/{one}") as handle:  # a complete Parquet file with its identity
        assert b"overconf.cell" in pq.read_schema(handle).metadata

    shutil.rmtree(tmp_path / "cache" / "remote")  # another machine: it knows the run only from the store
    again = run_spec(tiny_spec, out=uri, progress=False, report=False)  # resume: nothing recomputed
    assert again.written == [] and again.done_before == 4

    with s3.open_output_stream(f"{BUCKET}/runs/tiny/{one}") as sink:  # another writer replaced a file
        sink.write(b"not parquet")
    with pytest.raises(Exception, match="not a readable record file"):
        run_spec(tiny_spec, out=uri, progress=False, report=False)
    redone = run_spec(tiny_spec, out=uri, progress=False, report=False, overwrite=True)
    assert [p.name for p in redone.written] == [Path(one).name]

    result = query_records([uri], "SELECT run, count(*) AS n, count(DISTINCT model) AS models FROM records GROUP BY run")
    assert result.to_dict("records") == [{"run": uri, "n": int(result["n"][0]), "models": 2}]
    assert int(result["n"][0]) > 0

    runner = CliRunner()
    shown = runner.invoke(app, ["show", uri])
    assert shown.exit_code == 0, shown.output
    assert uri in shown.output
    verified = runner.invoke(app, ["verify", uri])
    assert verified.exit_code == 0 and "ok, 4 record files" in verified.output, verified.output
    reported = runner.invoke(app, ["report", uri, "--n-resamples", "20"])
    assert reported.exit_code == 0, reported.output
    assert "report.html" in keys(s3, "runs/tiny/report") or "report/report.html" in keys(s3, "runs/tiny")


def upload(fs: Any, folder: Path, prefix: str) -> None:
    """Every file under ``folder`` to ``s3://BUCKET/prefix/<relative path>``."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        with fs.open_output_stream(f"{BUCKET}/{prefix}/{path.relative_to(folder).as_posix()}") as sink:
            sink.write(path.read_bytes())


def inputs_in_s3(fs: Any, spec: Path, prefix: str) -> Path:
    """A copy of ``spec`` beside it whose checkpoints and image folder are read from ``s3://BUCKET/prefix/``
    (moto keeps one store per process: each test uses prefixes of its own)."""
    upload(fs, spec.parent / "ckpt", f"{prefix}/ckpt")
    upload(fs, spec.parent / "data" / "test", f"{prefix}/data/test")
    text = spec.read_text()
    for local in ("ckpt/robust.pt", "ckpt/normal.safetensors", "data/test"):
        assert f'"{local}"' in text
        text = text.replace(f'"{local}"', f'"s3://{BUCKET}/{prefix}/{local}"')
    remote = spec.with_name(f"{prefix}.toml")
    remote.write_text(text)
    return remote


def same_records(a: Path, b: Path) -> None:
    """The two run folders hold the same cells, with equal identities and records that agree."""
    from overconf.evaluation.agreement import assert_records_agree
    from overconf.store.parquet import read_cell

    files = sorted(p.relative_to(a) for p in (a / "records").rglob("*.parquet"))
    assert files and files == sorted(p.relative_to(b) for p in (b / "records").rglob("*.parquet"))
    for file in files:
        assert (read_cell(a / file) or {})["config"] == (read_cell(b / file) or {})["config"], file
        assert_records_agree(pq.read_table(a / file), pq.read_table(b / file))


def test_checkpoints_and_data_in_s3_give_the_records_of_local_ones(s3: Any, tiny_spec: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from overconf.errors import ConfigError
    from overconf.run.runner import run_spec
    from overconf.store.inputs import INPUTS
    from overconf.store.location import opened

    monkeypatch.chdir(tmp_path)
    remote = inputs_in_s3(s3, tiny_spec, "inputs")
    planned = run_spec(remote, out=f"s3://{BUCKET}/runs/inputs", dry_run=True, progress=False)
    assert planned.written == [] and not keys(s3, "runs/inputs")
    copies = tmp_path / "cache" / INPUTS
    assert sorted(p.name for p in copies.glob("*/*")) == ["normal.safetensors", "robust.pt", "test"]  # to hash

    local = run_spec(tiny_spec, out=tmp_path / "local", progress=False, report=False)
    result = run_spec(remote, out=f"s3://{BUCKET}/runs/inputs", progress=False, report=False)
    assert not result.failed and len(result.written) == len(local.written) == 4
    with opened(f"s3://{BUCKET}/runs/inputs") as run:
        same_records(tmp_path / "local", run.local)
        manifest = json.loads((run.local / "run.json").read_text())
    assert manifest["data"]["path"] == f"s3://{BUCKET}/inputs/data/test"
    assert manifest["config"]["data"]["path"] == f"s3://{BUCKET}/inputs/data/test"
    assert {m["checkpoint"] for m in manifest["models"]} == {f"s3://{BUCKET}/inputs/ckpt/robust.pt",
                                                             f"s3://{BUCKET}/inputs/ckpt/normal.safetensors"}
    with s3.open_output_stream(f"{BUCKET}/inputs/ckpt/robust.pt") as sink:  # other weights under the same URI
        sink.write(b"not a checkpoint")
    with pytest.raises(ConfigError, match=r"differs in model.checkpoint_sha256"):  # its identity is its SHA-256
        run_spec(remote, out=f"s3://{BUCKET}/runs/inputs", progress=False, report=False)


KILLING = """
import os, signal
from pathlib import Path
import mymodels

MARKER = Path(__file__).with_name("killed-once")


def robust_net():
    \"\"\"mymodels.robust_net, whose worker process dies the first time it is attacked (its clean cell is done).\"\"\"
    net = mymodels.robust_net()
    forward = net.forward

    def dying(x):
        if x.requires_grad and not MARKER.exists():
            MARKER.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return forward(x)
    net.forward = dying
    return net
"""


def test_ray_tasks_write_to_s3_without_a_shared_disk(s3: Any, tiny_spec: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Two nodes; the tasks see the run only through s3:// (the driver takes their files from the store). A task
    whose worker is killed after its first cell is retried: the retry skips that cell and computes the other.
    Checkpoints and image folder in s3:// reach the nodes (whose cache is not the driver's) only from there."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    from overconf.run import execute
    from overconf.run.backends.ray import TASKS
    from overconf.run.runner import run_spec
    from overconf.store.inputs import INPUTS
    from overconf.store.location import RunFolder, opened

    pulled: list[int] = []  # files the driver copied from the store into its mirror (the tasks' output)
    pull = RunFolder.pull
    monkeypatch.setattr(RunFolder, "pull", lambda self, only=None: pulled.append(pull(self, only)) or pulled[-1])

    monkeypatch.chdir(tmp_path)
    scratch = Path(tempfile.gettempdir()) / TASKS  # the tasks' scratch folders (both nodes run on this machine)
    before = set(scratch.rglob("*")) if scratch.is_dir() else set()
    src = str(Path(__file__).resolve().parents[2] / "src")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    driver_cache = os.environ["OVERCONF_CACHE"]
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "nodes-cache"))  # the nodes' cache (their workers inherit it)
    cluster = Cluster(initialize_head=True, connect=True,
                      head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        monkeypatch.setenv("OVERCONF_CACHE", driver_cache)
        uri = f"s3://{BUCKET}/runs/on-ray"
        result = run_spec(tiny_spec, out=uri, backend="ray", progress=False, report=False)
        (tiny_spec.parent / "killingmodels.py").write_text(KILLING)
        killing = tiny_spec.with_name("killing.toml")
        killing.write_text(tiny_spec.read_text().replace('"mymodels:robust_net"', '"killingmodels:robust_net"'))
        killed = run_spec(killing, out=f"s3://{BUCKET}/runs/killed", backend="ray", progress=False, report=False)
        remote = inputs_in_s3(s3, tiny_spec, "ray-inputs")
        submit = execute.run_on_ray

        def without_driver_copies(*args: Any, **kwargs: Any) -> Any:  # the tasks cannot read the driver's copies
            shutil.rmtree(Path(driver_cache) / INPUTS)
            return submit(*args, **kwargs)
        monkeypatch.setattr(execute, "run_on_ray", without_driver_copies)
        from_s3 = run_spec(remote, out=f"s3://{BUCKET}/runs/ray-inputs", backend="ray", progress=False, report=False)
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert not result.failed and len(result.written) == 4
    assert pulled[:2] == [0, 4], "the driver computed cells itself, or did not take the tasks' files from the store"
    assert len({k for k in keys(s3, "runs/on-ray") if k.startswith("records/")}) == 4
    assert "run.json" in keys(s3, "runs/on-ray")
    assert not list(tmp_path.glob("s3*")), "the URI became a local folder"
    assert not [p for p in set(scratch.rglob("*")) - before if p.is_file()], "a task left files in its scratch folder"
    assert (tiny_spec.parent / "killed-once").is_file(), "no worker was killed"
    assert not killed.failed, killed.failed
    assert sorted(p.name for p in killed.written) == ["clean.parquet", "pgd_steps=2.parquet", "pgd_steps=2.parquet"]
    stored = keys(s3, "runs/killed")
    assert len({k for k in stored if k.startswith("records/")}) == 4 and "run.json" in stored
    assert not any(k.startswith(".") or ".tmp" in k for k in stored)
    assert not from_s3.failed and len(from_s3.written) == 4
    copies = sorted(p.name for p in (tmp_path / "nodes-cache" / INPUTS).glob("*/*"))
    assert copies == ["normal.safetensors", "robust.pt", "test"], "the tasks did not copy the inputs themselves"
    with opened(f"s3://{BUCKET}/runs/on-ray") as local_inputs, opened(f"s3://{BUCKET}/runs/ray-inputs") as s3_inputs:
        same_records(local_inputs.local, s3_inputs.local)
