"""Where a run's record files go: ``<out>/records/<model>/<perturbation>.parquet``, names made file-safe."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]")


def slug(name: str) -> str:
    """A file-name-safe form of a model or perturbation label (``fog:severity=3`` → ``fog_severity=3``).

    >>> slug("fog:severity=3"), slug("pgd:eps=8/255:steps=50")
    ('fog_severity=3', 'pgd_eps=8_255_steps=50')
    """
    return _UNSAFE.sub("_", name)


@lru_cache(maxsize=1 << 16)  # asked several times per cell per command; building a Path costs microseconds
def records_path(out: Path, model: str, perturbation: str) -> Path:
    return Path(out) / "records" / slug(model) / f"{slug(perturbation)}.parquet"
