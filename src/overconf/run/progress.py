"""Progress of a run: cells done / total with an ETA, as a bar on a terminal or timestamped lines in a log.

On a terminal the overall bar sits above the engine's per-cell bar; when stderr is not a terminal (a
SLURM job, ``nohup``), every finished cell prints one line ``<UTC time> [done/total] <cell> <seconds> s,
ETA <time>`` that a log can be tailed for. Measured throughput (samples per second per data set ×
perturbation × device) is kept in ``<cache>/throughput.json`` for ``--dry-run``'s estimates.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from overconf.files import write_atomic
from overconf.paths import cache_root

#: Rough rates (samples per second, small CNN on 2 CPU cores) used when nothing was measured here.
ROUGH_RATES = {"clean": 2000.0, "ood": 2000.0, "corruption": 500.0, "attack": 2000.0}


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class RunProgress:
    """Counts finished cells of this process; ``enabled=False`` prints nothing."""

    def __init__(self, total: int, done: int, enabled: bool = True, stream: Any = None) -> None:
        self.total, self.done, self.enabled = total, done, enabled
        self.stream = stream or sys.stderr
        self.started, self.finished_here = time.monotonic(), 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.bar = tqdm(total=total, initial=done, desc="cells", unit="cell", position=0, file=self.stream,
                        dynamic_ncols=True) if enabled and self.tty else None

    def eta(self) -> float | None:
        if not self.finished_here:
            return None
        return (time.monotonic() - self.started) / self.finished_here * (self.total - self.done)

    def cell_done(self, name: str, seconds: float) -> None:
        self.done += 1
        self.finished_here += 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            return
        eta = self.eta()
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"{stamp} [{self.done}/{self.total}] {name} {seconds:.1f} s"
              + (f", ETA {_duration(eta)}" if eta is not None else ""), file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def throughput_file() -> Path:
    return cache_root() / "throughput.json"


def rate_key(dataset: str, perturbation: str, device: str) -> str:
    return f"{dataset}|{perturbation.split(':')[0]}|{device.split(':')[0]}"


def read_rates() -> dict[str, float]:
    try:
        return {k: float(v) for k, v in json.loads(throughput_file().read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def record_rate(key: str, samples: int, seconds: float) -> None:
    """Remember ``samples / seconds`` for ``key`` (best effort: an unwritable cache is not an error)."""
    if seconds <= 0 or samples <= 0:
        return
    rates = read_rates()
    rates[key] = samples / seconds
    try:
        write_atomic(throughput_file(), lambda tmp: tmp.write_text(json.dumps(rates, indent=1, sort_keys=True)))
    except OSError:
        pass


def rough_rate(family: str, parameters: dict[str, Any]) -> float:
    """A stated rough rate: ``ROUGH_RATES[family]`` divided, for an attack, by its work ``w × restarts``.

    ``w`` is ``steps`` for a gradient attack (one forward and backward pass per step), else ``n_queries / 10``
    for a query attack (one forward pass per query, on the samples not yet fooled: a tenth of a step each),
    else 1; ``restarts`` defaults to 1 and ``w × restarts`` is counted as at least 1.
    """
    rate = ROUGH_RATES.get(family, 1000.0)
    if family == "attack":
        work = parameters.get("steps") or (parameters.get("n_queries", 0) or 0) / 10 or 1
        rate /= max(1.0, float(work) * max(1, int(parameters.get("restarts", 1) or 1)))
    return rate
