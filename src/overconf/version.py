"""overconf's version, and the git commit of its source tree when it runs from a checkout."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

__version__ = "0.1.0"


@cache
def git_commit() -> str | None:
    """The commit of the overconf source tree when it is a git checkout (``None`` for an installed wheel)."""
    folder = Path(__file__).resolve().parent
    try:
        result = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None
