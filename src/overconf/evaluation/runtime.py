"""Where and how wide the engine and the training loop run: the device, worker processes and torch threads."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

from overconf.errors import ConfigError

#: ``workers`` and ``threads`` may each be at most this many times the cores (more only costs memory and switches)
OVERSUBSCRIPTION = 4


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu."""
    if device != "auto":
        try:
            chosen = torch.device(device)
        except RuntimeError:
            raise ConfigError(f"unknown device {device!r}", hint="use auto, cpu, cuda, cuda:N or mps") from None
        if chosen.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"device {device!r} asked for, but CUDA is not available", hint="use --device auto or cpu")
        if chosen.type == "mps" and not torch.backends.mps.is_available():
            raise ConfigError(f"device {device!r} asked for, but MPS is not available", hint="use --device auto or cpu")
        return chosen
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, which containers and ``taskset`` narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def default_workers(device: torch.device | str = "cuda") -> int:
    """Data-loading worker processes when the user names none. Feeding an accelerator: one per core, at most 16.
    On the CPU the workers compete with the model for the same cores: half of them, none on two cores or fewer
    (measured on 2 cores: on-the-fly corruptions 0.5–0.9× as fast with 2 workers as with none)."""
    cores = available_cores()
    if torch.device(device).type == "cpu":
        return 0 if cores <= 2 else min(16, cores // 2)
    return min(16, cores)


def default_threads(busy_workers: int = 0) -> int:
    """Torch threads of the main process when the user names none: ``$OMP_NUM_THREADS`` if set, else the
    cores left by the worker processes that are busy decoding or corrupting (at least one)."""
    from_env = os.environ.get("OMP_NUM_THREADS", "")
    if from_env.isdigit() and int(from_env) > 0:
        return int(from_env)
    return max(1, available_cores() - busy_workers)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """``torch.set_num_threads(n)`` for the block, the previous count restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def check_worker_counts(workers: int | None, threads: int | None, where: str = "") -> None:
    """:class:`ConfigError` for worker processes or threads beyond any use (more than
    :data:`OVERSUBSCRIPTION` × the cores available)."""
    for key, value in (("workers", workers), ("threads", threads)):
        if value is not None and value > OVERSUBSCRIPTION * available_cores():
            raise ConfigError(f"{where}{key} = {value} on a machine with {available_cores()} cores",
                              hint=f"use at most {OVERSUBSCRIPTION * available_cores()} (leave it out for the default)")
