"""``--backend ray``: one Ray task per model (all its pending cells), on a local or remote Ray cluster.

Each task receives the run's :class:`~overconf.run.spec.Spec` (not the plan: loaders are closures), resolves
it again on its worker, and runs the same resume loop as the local back end
(:func:`overconf.run.execute.run_model_cells`) on its own cells: it claims each cell, writes only that
cell's record file (atomically) and returns the paths. The driver then writes ``run.json`` and the report.
Tasks ask for one GPU (``num_gpus=1``) when the cluster has GPUs and the run's device is not the CPU.
A task whose worker dies is retried by Ray (``max_retries``); the dead worker's claims are released by
the kernel and its half-written temporary file never became a record file, so the retry redoes the cell.
Workers need ``overconf`` importable and the run folder, data and checkpoints at the same paths (a shared
file system on a multi-node cluster).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from overconf.errors import ConfigError
from overconf.run.plan import Cell, Plan

MAX_RETRIES = 3


def model_task(spec: Any, model_name: str, labels: list[str], out: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Run on a Ray worker: resolve ``spec`` and compute ``model_name``'s cells ``labels`` (if still missing);
    (record files written, failures as ``(model, error)``)."""
    from overconf.run.execute import run_model_cells
    from overconf.run.plan import resolve

    plan = resolve(spec, progress=False)
    model = next(m for m in plan.models if m.info.model == model_name)
    cells = [c for c in plan.cells if c.model is model and c.perturbation.label in labels]
    failed: list[tuple[str, str]] = []
    written = run_model_cells(plan, model, cells, Path(out), None, progress=False, failed=failed)
    return [str(p) for p in written], failed


def _worker_env() -> dict[str, str]:
    """The driver's import path, so that local workers import the same overconf (and spec modules)."""
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    return {"PYTHONPATH": os.pathsep.join(paths), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}


ADDRESS_TIMEOUT_S = 30.0


def check_address(address: str | None, timeout: float = ADDRESS_TIMEOUT_S) -> None:
    """:class:`ConfigError` unless the Ray cluster at ``address`` (``<host>:<port>`` or ``ray://<host>:<port>``; ``auto``
    and ``None`` are not checked) accepts a TCP connection within ``timeout`` seconds (``ray.init`` would
    wait far longer)."""
    import socket

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
    from rich.markup import escape

    from overconf.run.execute import console
    from overconf.run.progress import RunProgress

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 runtime_env={"env_vars": _worker_env()} if address is None else None)
    try:
        gpus = 1 if ray.cluster_resources().get("GPU", 0) > 0 and str(plan.engine["device"]) != "cpu" else 0
        remote = ray.remote(num_gpus=gpus, max_retries=MAX_RETRIES)(model_task)
        tasks = {}
        started = time.perf_counter()
        for model in plan.models:
            labels = [c.perturbation.label for c in pending if c.model is model]
            if labels:
                tasks[remote.remote(plan.spec, model.info.model, labels, str(out))] = (model.info.model, len(labels))
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
                written += [Path(p) for p in paths]
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
        return written
    finally:
        if started_here:
            ray.shutdown()
