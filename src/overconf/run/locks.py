"""Per-cell claims, so that several processes (or Ray workers) on one run folder never compute the same cell.

A claim is an exclusive ``fcntl.flock`` on ``<out>/.claims/<model>/<perturbation>.lock``. The kernel drops
it when its holder exits, however it exits (SIGKILL included), so a dead process's claims are free for
the next one without any stale-claim bookkeeping. The lock files are left in place (unlinking a lock
file another process is waiting on would let two processes hold "the same" claim).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from overconf.store.layout import slug

CLAIMS = ".claims"


def claim_path(out: Path, model: str, perturbation: str) -> Path:
    return Path(out) / CLAIMS / slug(model) / f"{slug(perturbation)}.lock"


@contextmanager
def claim(out: Path, model: str, perturbation: str, *, wait: bool) -> Iterator[bool]:
    """Hold the cell's claim for the block; yields False (without waiting) when another process holds it
    and ``wait`` is False."""
    path = claim_path(out, model, perturbation)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}@{os.uname().nodename}\n".encode())
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
