"""``--backend ray``: one Ray task per model (all its pending cells), on a local or remote Ray cluster.

Each task receives its model's part of the driver's resolved :class:`~overconf.run.plan.Plan` (the model's
identity with its checkpoint hash, its loader, its cells and their data; pickled by Ray's cloudpickle), so no
worker resolves the spec again or hashes a checkpoint, and runs the same resume loop as the local back end
(:func:`overconf.run.resume.run_model_cells`) on those cells: it claims each cell, writes only that cell's
record file (atomically) and returns its path relative to the run. The driver then writes ``run.json`` and the
report. Tasks ask for one GPU (``num_gpus=1``) when the cluster has GPUs and the run's device is not the CPU.

Where the run lives: a local ``out`` must be at the same path on every node (a shared file system). An
``s3://`` ``out`` (:mod:`overconf.store.location`) needs no shared disk: each task works in a scratch folder of
its own (``<tmp>/overconf-tasks/<pid>-*``, removed when it ends; those of killed workers are removed when the
next task starts on that node), first copies the record files of its cells that the store already holds (a
retried task skips what its killed attempt finished) and uploads each record file with one put as soon as it
is written; the driver then copies the new files into its mirror. Tasks write to the store themselves rather
than returning Arrow tables to the driver: a finished cell is safe as soon as it is computed (a killed task or
driver loses at most the cell in progress) and no cell's records pass through the driver's memory.

A task whose worker dies is retried by Ray (``max_retries``); the dead worker's claims are released by the
kernel and its half-written temporary file never became a record file, so the retry redoes the cell.
Workers need ``overconf`` importable, the entry-point modules at the driver's paths, and the data and checkpoints
there too unless they are ``s3://`` URIs (each task then copies them on its node and checks them against the
plan: :mod:`overconf.store.inputs`).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from rich.markup import escape

from overconf.errors import ConfigError
from overconf.run.plan import Cell, Plan
from overconf.run.progress import RunProgress
from overconf.run.resume import console, run_model_cells
from overconf.store.location import RunFolder, mirrored, uri_of

MAX_RETRIES = 3
TASKS = "overconf-tasks"
"""Folder under the node's temporary folder holding the scratch folders of tasks on an ``s3://`` run."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def task_scratch() -> Iterator[Path]:
    """A scratch folder for one task, removed when the task ends; first removes those of tasks whose process is
    gone (a killed worker's, with any temporary file in it)."""
    root = Path(tempfile.gettempdir()) / TASKS
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        pid = old.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def model_task(plan: Plan, out: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Run on a Ray worker: compute the cells of ``plan`` (one model's pending cells, resolved by the driver) if
    still missing in ``out`` (a path or an ``s3://`` URI); (record files written, relative to the run; failures
    as ``(model, error)``)."""
    model = plan.models[0]
    failed: list[tuple[str, str]] = []
    if uri_of(out) is None:
        written = run_model_cells(plan, model, plan.cells, Path(out), None, progress=False, failed=failed)
        return [p.relative_to(out).as_posix() for p in written], failed
    with task_scratch() as scratch:
        folder = RunFolder.open(out, mirror=scratch)
        try:
            folder.pull(only=[c.path(scratch).relative_to(scratch).as_posix() for c in plan.cells])
            written = run_model_cells(plan, model, plan.cells, scratch, None, progress=False, failed=failed)
            folder.push_changed()  # the failed models' logs
        finally:
            folder.close()
        return [p.relative_to(scratch).as_posix() for p in written], failed


def _worker_env() -> dict[str, str]:
    """The driver's import path, so that local workers import the same overconf (and spec modules)."""
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    return {"PYTHONPATH": os.pathsep.join(paths), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}


ADDRESS_TIMEOUT_S = 30.0


def check_address(address: str | None, timeout: float = ADDRESS_TIMEOUT_S) -> None:
    """:class:`ConfigError` unless the Ray cluster at ``address`` (``<host>:<port>`` or ``ray://<host>:<port>``; ``auto``
    and ``None`` are not checked) accepts a TCP connection within ``timeout`` seconds (``ray.init`` would
    wait far longer)."""
    if address is None or address == "auto" or address.startswith("local"):
        return
    target = address.split("://", 1)[-1]
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError(f"Ray address {address!r} is not of the form host:port", hint="e.g. --address 10.0.0.5:6379")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        why = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ConfigError(f"Ray address {address} does not answer within {timeout:.0f} s ({why})",
                          hint="start the cluster (ray start --head) or check the address; leave --address out "
                          "to start Ray here") from None


def run_on_ray(plan: Plan, pending: Sequence[Cell], out: Path, *, address: str | None = None,
               progress: bool = True, failed: list[tuple[str, str]] | None = None) -> list[Path]:
    """Submit one task per model with pending cells; wait for all; return the record files written (failed
    models are appended to ``failed``)."""
    if plan.spec is None:
        raise ConfigError("the ray back end runs specs (overconf run / demo / evaluate), not in-memory grids",
                          hint="use backend='local' for run_grid")
    check_address(address)
    try:
        import ray
    except ImportError:
        raise ConfigError("--backend ray needs the ray package", hint="pip install ray") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 runtime_env={"env_vars": _worker_env()} if address is None else None)
    try:
        gpus = 1 if ray.cluster_resources().get("GPU", 0) > 0 and str(plan.engine["device"]) != "cpu" else 0
        remote = ray.remote(num_gpus=gpus, max_retries=MAX_RETRIES)(model_task)
        tasks = {}
        started = time.perf_counter()
        mirror = mirrored(out)
        target = mirror.uri if mirror is not None and mirror.uri else str(out)
        for model in plan.models:
            cells = [c for c in pending if c.model is model]
            if cells:  # the model's part of the plan: no worker resolves the spec again
                part = replace(plan, models=[model], cells=cells, skipped=[], spec=None)
                tasks[remote.remote(part, target)] = (model.info.model, len(cells))
        tracker = RunProgress(len(plan.cells), len(plan.cells) - len(pending), enabled=progress)
        written: list[Path] = []
        waiting = list(tasks)
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1)
            for ref in ready:
                try:
                    paths, failures = ray.get(ref)
                except Exception as exc:  # noqa: BLE001  the task itself died (e.g. resolving on the worker)
                    first = (str(getattr(exc, "cause", None) or exc).strip().splitlines() or [""])[-1][:300]
                    paths, failures = [], [(tasks[ref][0], f"{tasks[ref][0]} failed on its Ray worker: {first}")]
                written += [Path(out) / p for p in paths]
                for m, message in failures:  # the worker's own error line stays in its log
                    console.print(f"[bold red]error:[/] {escape(message)}",
                                  highlight=False, soft_wrap=True)
                if failed is not None:
                    failed += [(m, message) for m, message in failures]
                name, count = tasks[ref]
                seconds = (time.perf_counter() - started) / count  # the task's cells, from submission (queue included)
                for _ in range(count):
                    tracker.cell_done(f"{name} (ray task)", seconds)
        tracker.close()
        if mirror is not None:  # the tasks wrote to the store: their files into the driver's mirror
            mirror.pull()
        return written
    finally:
        if started_here:
            ray.shutdown()
